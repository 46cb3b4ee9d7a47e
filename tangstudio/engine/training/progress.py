"""Where the poem trainer stands: its counters, the window a `train` line averages, its stop flags.

`Counters` are what `last/` saves as training state and a resume reads back (their names are the
keys of the checkpoint's state info, so a checkpoint from before this module reads the same); the
loop keeps them live, so a failure is logged at the step it happened.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from tangstudio.engine.training.batching import Batch


@dataclass
class Counters:
    """The loop's position (step, epoch, batch within it), its training time and its best evaluation."""

    step: int = 0
    epoch: int = 0
    batch_pos: int = 0
    elapsed_s: float = 0.0
    best_val_loss: float | None = None
    best_val_ppl: float | None = None
    train_chars: int = 0  # characters the loss counted so far (0 for a checkpoint from before it)

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> Counters:
        """From a checkpoint's state info (missing or null entries: the start of a run)."""
        return cls(
            step=int(info.get("step") or 0),
            epoch=int(info.get("epoch") or 0),
            batch_pos=int(info.get("batch_pos") or 0),
            elapsed_s=float(info.get("elapsed_s") or 0.0),
            best_val_loss=info.get("best_val_loss"),
            best_val_ppl=info.get("best_val_ppl"),
            train_chars=int(info.get("train_chars") or 0),
        )

    def to_info(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Window:
    """What the steps since the last `train` line add up to (the loss stays on the device)."""

    nats: torch.Tensor
    t: float
    chars: int = 0
    slots: int = 0
    real: int = 0
    steps: int = 0  # fewer than --log-every in the first window after a mid-window resume

    def add(self, nats: torch.Tensor, batch: Batch) -> None:
        self.steps += 1
        self.nats += nats.detach()
        self.chars += batch.chars
        self.slots += batch.slots
        self.real += batch.real_slots


@dataclass
class Stops:
    """The loop's decisions after a step, agreed between ranks."""

    stop: bool = False  # asked to stop (a signal, the studio): checkpoint and leave
    time_up: bool = False  # the --minutes budget is spent
    save_due: bool = False  # --checkpoint-every has passed since the last `last/`
    eval_due: bool = False  # the automatic cadence (--eval-every 0) wants an evaluation
