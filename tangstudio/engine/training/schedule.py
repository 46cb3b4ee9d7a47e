"""Learning rate: linear warm-up, then cosine decay to a floor.

The decay follows the share of the budget used (steps done / steps planned, or minutes elapsed /
minutes given), so a time-boxed run still ends at its floor.
"""

from __future__ import annotations

import math


def lr_at(step: int, progress: float, base_lr: float, warmup: int, min_ratio: float = 0.1) -> float:
    if warmup > 0 and step < warmup:
        return base_lr * (step + 1) / warmup
    progress = min(max(progress, 0.0), 1.0)
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    return base_lr * (min_ratio + (1.0 - min_ratio) * cosine)


def warmup_steps(requested: int, total_steps: int | None) -> int:
    return requested if total_steps is None else min(requested, max(1, total_steps // 10))
