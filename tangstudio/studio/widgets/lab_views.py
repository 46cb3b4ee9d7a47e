"""What the Lab pane draws, as Rich renderables (no engine, no torch): a digit read row by row,
ten probability bars, a confusion matrix, and the lab runs' metrics followed from their folders.

A digit is drawn with "▀": the top pixel of each character cell is its foreground colour and the
bottom pixel its background, so every one of the 28 pixel rows keeps its own colour and the rows
already read can be lit while the rest stay dim.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table
from rich.text import Text

from tangstudio.engine.runs.metrics import MetricsFollower

INK = 96
READ_INK, UNREAD_INK = "rgb(250,250,250)", "rgb(95,95,95)"
READ_PAPER, UNREAD_PAPER = "rgb(30,60,110)", "rgb(18,18,18)"
BAR = "█"


def _pixel(value: int, read: bool) -> str:
    if value >= INK:
        return READ_INK if read else UNREAD_INK
    return READ_PAPER if read else UNREAD_PAPER


def digit_text(image, rows_read: int) -> Text:
    """28×28 uint8 as 14 lines; rows 1 … rows_read are lit (ink white on blue), the rest dim.

    The "▶" pointing at the last row read stands on the image's left: on its right it sat beside
    the class bars, where "◀5 ▌ 2.3%" read as a mark on class 5 (issue 25 item 10).
    """
    text = Text()
    height = len(image)
    for top in range(0, height, 2):
        text.append("▶ " if top < rows_read <= top + 2 else "  ", style="bold")
        for col in range(len(image[top])):
            upper = _pixel(int(image[top][col]), top < rows_read)
            lower = (
                _pixel(int(image[top + 1][col]), top + 1 < rows_read) if top + 1 < height else UNREAD_PAPER
            )
            text.append("▀", style=f"{upper} on {lower}")
        if top + 2 < height:
            text.append("\n")
    return text


def prob_bars(probs: list[float], label: int | None, width: int = 24) -> Text:
    """One bar per class; the current top class in bold, the true class marked ✓."""
    best = max(range(len(probs)), key=lambda c: probs[c])
    text = Text()
    for c, p in enumerate(probs):
        cells = p * width
        whole = int(cells)
        bar = BAR * whole + ("▌" if cells - whole >= 0.5 else "")
        style = "bold rgb(90,210,90)" if c == best else "rgb(120,150,200)"
        text.append(f"{c} ", style="bold" if c == best else "")
        text.append(bar.ljust(width + 1), style=style)
        text.append(f"{p * 100:3.0f}%" if width < 12 else f"{p * 100:5.1f}%")
        text.append(" ✓" if c == label else "  ", style="green")
        if c < len(probs) - 1:
            text.append("\n")
    return text


def confusion_table(
    confusion: list[list[int]], per_class: list[float | None], selected: tuple[int, int] | None
) -> Table:
    """Rows: the true digit; columns: what was predicted. The browsed mistake's cell is reversed."""
    table = Table(box=None, padding=(0, 1), show_edge=False)
    table.add_column("t\\p", justify="right", style="bold")
    for c in range(len(confusion)):
        table.add_column(str(c), justify="right")
    table.add_column("acc", justify="right")
    for t, row in enumerate(confusion):
        cells = []
        for p, n in enumerate(row):
            style = "bold green" if t == p else ("red" if n else "dim")
            if selected == (t, p):
                style += " reverse"
            cells.append(Text(str(n) if n or t == p else "·", style=style))
        acc = per_class[t]
        table.add_row(str(t), *cells, "–" if acc is None else f"{acc:.0%}")
    return table


@dataclass
class LabRun:
    """A lab digits run followed from its folder: curves and where it stands."""

    path: Path
    arch: str = "?"
    train: list[tuple[int, float, float]] = field(default_factory=list)  # step, loss, accuracy
    val: list[tuple[int, float, float]] = field(default_factory=list)
    status: str = "waiting"
    total_steps: int | None = None
    cpu_s: float | None = None
    _follower: MetricsFollower | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def poll(self) -> bool:
        """Read what was appended; True when something new arrived."""
        if self._follower is None:
            self._follower = MetricsFollower(self.path / "metrics.jsonl")
            self.arch = (
                read_lab_config(self.path).get("arch", "?") if (self.path / "config.toml").is_file() else "?"
            )
        restarts = self._follower.restarts
        events = self._follower.read_new()
        if self._follower.restarts != restarts:  # a resume trimmed the file: start the curves again
            self.train, self.val = [], []
        for e in events:
            kind = e.get("event")
            if kind == "start":
                self.status, self.total_steps = "running", e.get("total_steps")
                self.arch = str(e.get("arch", self.arch))
            elif kind == "train" and e.get("train_loss") is not None:
                self.train.append((int(e["step"]), float(e["train_loss"]), float(e.get("train_acc") or 0.0)))
                self.cpu_s = e.get("cpu_s", self.cpu_s)
                self.status = "running"
            elif kind == "eval" and e.get("val_acc") is not None:
                self.val.append((int(e["step"]), float(e["val_loss"]), float(e["val_acc"])))
            elif kind == "done":
                self.status = str(e.get("status", "finished"))
                self.cpu_s = e.get("cpu_s", self.cpu_s)
        return bool(events)

    @property
    def best_val_acc(self) -> float | None:
        return max((a for _, _, a in self.val), default=None)

    @property
    def step(self) -> int:
        return max([s for s, _, _ in self.train] + [0])


def read_lab_config(path: Path) -> dict:
    try:
        return tomllib.loads((path / "config.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def find_lab_runs(root: Path) -> list[Path]:
    """Run folders whose config says they are lab digits runs, oldest first."""
    if not root.is_dir():
        return []
    found = []
    for path in root.iterdir():
        config = read_lab_config(path) if (path / "config.toml").is_file() else {}
        if config.get("kind") == "lab" and config.get("task") == "digits":
            found.append(path)
    return sorted(found, key=lambda p: (p / "config.toml").stat().st_mtime)
