"""Looking inside a trained digits classifier: what it believes after each row, and a digit as text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tangstudio.engine.errors import TangError

UPPER, LOWER, BOTH, NONE = "▀", "▄", "█", " "
INK = 96  # a pixel at or above this (of 255) is drawn


def half_block_lines(image: np.ndarray, ink: int = INK) -> list[str]:
    """A 28×28 image as 14 lines of 28 characters: each character is two pixel rows (▀ ▄ █ or space)."""
    on = np.asarray(image) >= ink
    if len(on) % 2:
        on = np.vstack([on, np.zeros((1, on.shape[1]), dtype=bool)])
    lines = []
    for top, bottom in zip(on[0::2], on[1::2]):
        lines.append(
            "".join(BOTH if t and b else UPPER if t else LOWER if b else NONE for t, b in zip(top, bottom))
        )
    return lines


def knows_at(probs_by_row: np.ndarray) -> int | None:
    """The first row (1-based) from which the top class never changes again; None if it ends undecided."""
    tops = probs_by_row.argmax(axis=1)
    final = tops[-1]
    row = len(tops)
    while row > 0 and tops[row - 1] == final:
        row -= 1
    return row + 1 if row < len(tops) else None


def digit_reading(
    target: str | Path, index: int = 0, split: str = "test", wrong_only: bool = False
) -> dict[str, Any]:
    """One digit of a split read by a run, with the ten class probabilities after each row."""
    import torch

    from tangstudio.engine.lab import digits as D
    from tangstudio.engine.lab.tasks import DigitsTask
    from tangstudio.engine.lab.train import classify, load_lab_checkpoint

    loaded = load_lab_checkpoint(target)
    if loaded.task != "digits":
        raise TangError(f"run {target} was trained on the {loaded.task} task, not on digits")
    data = D.load_split(split)
    positions = np.arange(len(data))
    if wrong_only:
        predicted = classify(loaded.model, DigitsTask.as_input(data.images)).argmax(axis=1)
        positions = np.flatnonzero(predicted != data.labels)
        if len(positions) == 0:
            raise TangError(f"run {target} gets every {split} digit right")
    if not 0 <= index < len(positions):
        raise TangError(f"--index must be between 0 and {len(positions) - 1}, got {index}")
    k = int(positions[index])
    x = torch.from_numpy(DigitsTask.as_input(data.images[k : k + 1]))
    probs = torch.softmax(loaded.model.prefix_logits(x), dim=-1)[0].numpy()
    return {
        "run": loaded.meta.get("run"),
        "arch": loaded.meta.get("arch"),
        "split": split,
        "position": k,
        "digit_index": int(data.indices[k]),
        "label": int(data.labels[k]),
        "predicted": int(probs[-1].argmax()),
        "probs_by_row": probs.tolist(),
        "knows_at_row": knows_at(probs),
        "image": data.images[k],
    }
