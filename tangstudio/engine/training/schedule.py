"""Learning rate: linear warm-up, then cosine decay to a floor.

The decay follows the share of the budget used (steps done / steps planned, or minutes elapsed /
minutes given), so a time-boxed run still ends at its floor.
"""

from __future__ import annotations

import math

WARMUP_SHARE = 0.1  # warm-up never takes more than this share of the budget (time-boxed runs too)


def lr_at(step: int, progress: float, base_lr: float, warmup: int, min_ratio: float = 0.1) -> float:
    progress = min(max(progress, 0.0), 1.0)
    if warmup > 0 and step < warmup:
        ramp = max((step + 1) / warmup, progress / WARMUP_SHARE)
        if ramp < 1.0:
            return base_lr * ramp
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    return base_lr * (min_ratio + (1.0 - min_ratio) * cosine)


def warmup_steps(requested: int, total_steps: int | None) -> int:
    return requested if total_steps is None else min(requested, max(1, int(total_steps * WARMUP_SHARE)))
