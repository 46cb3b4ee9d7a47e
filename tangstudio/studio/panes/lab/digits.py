"""The Lab pane's digit views: one test digit read row by row, and the confusion matrix with the
misclassified digits to browse.

`read_test_digits` runs the highlighted run's best checkpoint over the 1,000 test digits (in a
worker thread: it imports torch); the rest turns that reading and where the person is (which
digit, how many rows read) into what the widgets show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import RenderableType
from rich.text import Text

from tangstudio.studio.widgets.lab_views import confusion_table, digit_text, prob_bars

ROWS = 28  # an MNIST digit is read one pixel row per step


@dataclass
class Browse:
    """Where the person is: which view, which digit of those browsed, how many rows read."""

    view: str = "curves"
    position: int = 0  # index into the digits being browsed
    rows_read: int = 0
    wrong_only: bool = False

    def digits(self, reading: dict[str, Any] | None) -> list[int]:
        """The test digits being browsed: all of them, or only the mistakes (always in the confusion view)."""
        if reading is None:
            return []
        if self.wrong_only or self.view == "confusion":
            return list(reading["wrong"])
        return list(range(len(reading["labels"])))


def where(browsed: list[int], position: int, mistakes: bool) -> str:
    """Which digit this is, numbered from 0 as the CLI numbers it: "test digit 7" is
    `lab digits show RUN --index 7`, "mistake 3 (of 37; --wrong --index 3) · test digit 512" is
    `--wrong --index 3` (the pane said "test digit 1/1000" for the CLI's digit 0, then "mistake 3 of
    0–36", an index beside a range, and "mistake 0 of 0–0" for one mistake). Short: the side is
    narrow at 80×24."""
    i = position % len(browsed)
    if mistakes:
        return f"mistake {i} (of {len(browsed)}; --wrong --index {i}) · test digit {browsed[i]}"
    return f"test digit {browsed[i]}"


def confusion_view(reading: dict[str, Any], browse: Browse) -> tuple[RenderableType, Text, RenderableType]:
    """(matrix, info, image) for the confusion view: the browsed mistake is reversed in the matrix."""
    browsed = browse.digits(reading)
    selected = None
    if browsed:
        k = browsed[browse.position % len(browsed)]
        selected = (int(reading["labels"][k]), int(reading["predicted"][k]))
    matrix = confusion_table(reading["confusion"], reading["per_class"], selected)
    if not browsed:
        return matrix, Text(f"{reading['run']}: every test digit right", style="green"), ""
    k = browsed[browse.position % len(browsed)]
    probs = reading["probs"][k][-1]
    predicted = int(reading["predicted"][k])
    info = Text.assemble(
        (f"{reading['run']} · test accuracy {reading['accuracy']:.1%}\n", "bold"),
        f"{where(browsed, browse.position, mistakes=True)}: ",
        f"a {int(reading['labels'][k])} read as ",
        (str(predicted), "bold red"),
        f" ({probs[predicted]:.0%})",
    )
    return matrix, info, digit_text(reading["images"][k], ROWS)


def digit_view(reading: dict[str, Any], browse: Browse, room: int) -> tuple[Text, Text, Text] | None:
    """(image, info, bars) for the digit view, the bars fitted to `room` columns; None: nothing to browse."""
    browsed = browse.digits(reading)
    if not browsed:
        return None
    k = browsed[browse.position % len(browsed)]
    label = int(reading["labels"][k])
    rows = browse.rows_read
    if rows == 0:
        probs = []
        verdict = Text("no row read yet: → reads one", style="dim")
    else:
        probs = reading["probs"][k][rows - 1]
        best = max(range(10), key=lambda c: probs[c])
        verdict = Text.assemble(
            "row ",
            (f"{rows}", "bold"),
            f"/{ROWS}: says ",
            (str(best), "bold"),
            (" ✓" if best == label else " ✗", "green" if best == label else "red"),
        )
    knows = reading["knows"][k]
    info = Text.assemble(
        (f"{reading['run']} · {reading['arch']}", "bold"),
        f"\n{where(browsed, browse.position, mistakes=browse.wrong_only)}: a {label}\n",
        verdict,
        f"\nsettles at row {knows}" if knows else "\nnever settles",
        ("\n(a BiLSTM's early rows: its backward pass starts mid-digit, untrained so)", "dim")
        if reading["arch"] == "bilstm"
        else "",
    )
    bars = (
        prob_bars(probs, label, width=max(3, min(36, room - 15)))
        if rows
        else Text("the ten class probabilities show from the first row on", style="dim")
    )  # not ten made-up 10 % bars: nothing has been read yet (a student's review)
    return digit_text(reading["images"][k], rows), info, bars


def read_test_digits(path: str) -> dict[str, Any]:
    """The run's best checkpoint on the 1,000 test digits: probabilities after every row, the
    confusion matrix and which digits it gets wrong (runs in a worker thread: imports torch)."""
    import numpy as np
    import torch

    from tangstudio.engine.lab import digits as D
    from tangstudio.engine.lab.inspect import knows_at
    from tangstudio.engine.lab.tasks import DigitsTask
    from tangstudio.engine.lab.train import load_lab_checkpoint, score

    loaded = load_lab_checkpoint(path)
    data = D.load_split("test")
    with torch.no_grad():
        x = torch.from_numpy(DigitsTask.as_input(data.images))
        probs = torch.softmax(loaded.model.prefix_logits(x), dim=-1).numpy()
    final = probs[:, -1]
    result = score(final, data.labels.astype(np.int64))
    predicted = np.asarray(result["predicted"])
    return {
        "run": loaded.meta.get("run"),
        "arch": loaded.meta.get("arch"),
        "images": data.images,
        "labels": data.labels,
        "probs": probs,
        "predicted": predicted,
        "accuracy": result["accuracy"],
        "confusion": result["confusion"],
        "per_class": result["per_class"],
        "wrong": [int(i) for i in np.flatnonzero(predicted != data.labels)],
        "knows": [knows_at(p) for p in probs],
    }
