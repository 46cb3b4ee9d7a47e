"""The Lab pane's list of digit runs: found in the runs folder, each with its colour on the charts.

The SelectionList shows them (Space overlays a run on the charts); the highlighted one is the run
the digit and confusion views read and the details box describes.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import SelectionList
from textual.widgets.selection_list import Selection

from tangstudio.studio.widgets.lab_views import LabRun, find_lab_runs
from tangstudio.studio.widgets.loss_chart import rich_color, run_color

NO_RUNS = "No digit runs yet: pick an architecture and press t."


class RunList:
    """The runs by folder, their colours, and the list widget that shows them."""

    def __init__(self, widget: SelectionList[str]) -> None:
        self.widget = widget
        self.runs: dict[str, LabRun] = {}
        self.colors: dict[str, tuple[int, int, int]] = {}

    def scan(self, root: Path) -> bool:
        """Add runs that appeared under `root` (shown on the charts at once); True if any did."""
        new = [p for p in find_lab_runs(root) if str(p) not in self.runs]
        for path in new:
            self.add(path, show=True)
        return bool(new)

    def add(self, path: Path, show: bool) -> LabRun:
        key = str(path)
        run = LabRun(path)
        run.poll()
        self.runs[key] = run
        self.colors[key] = run_color(len(self.colors))
        label = Text.assemble(("■ ", rich_color(self.colors[key])), run.name)
        self.widget.add_option(Selection(label, key, show))
        return run

    def highlight(self, run: LabRun) -> None:
        self.widget.highlighted = list(self.runs).index(str(run.path))

    def highlighted(self) -> LabRun | None:
        widget = self.widget
        if widget.highlighted is None or widget.option_count == 0:
            return None
        return self.runs.get(str(widget.get_option_at_index(widget.highlighted).value))

    def shown(self) -> list[LabRun]:
        return [self.runs[k] for k in self.widget.selected if k in self.runs]

    def poll(self) -> bool:
        """Read what the shown runs and the highlighted one wrote since; True if anything changed."""
        changed = False
        current = self.highlighted()
        for run in {id(r): r for r in [*self.shown(), *([current] if current else [])]}.values():
            changed |= run.poll()
        return changed

    def details(self) -> Text:
        """The highlighted run in a few lines: name, architecture, status, step, best accuracy."""
        run = self.highlighted()
        if run is None:
            return Text(NO_RUNS, style="dim")
        best = run.best_val_acc
        total = f"/{run.total_steps:,}" if run.total_steps else ""
        return Text.assemble(
            (run.name, "bold"),
            f"\n{run.arch} · {run.status}\nstep {run.step:,}{total}\n",
            "best val acc " + ("–" if best is None else f"{best:.1%}"),
        )
