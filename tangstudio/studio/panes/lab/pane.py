"""Lab pane (F5): the seed article's digits experiment, trained live and read row by row.

Pick an architecture and press `t`: the pane starts `tangstudio lab digits train` in a child
process (as the Train pane does) and follows its run folder; accuracy and loss of every shown run
are overlaid. Then `v` cycles the views: the curves; one test digit read row by row (the rows
already read are lit and ten probability bars move as each row arrives); the confusion matrix
with the misclassified digits to browse; and the long-memory study's chart
(`tangstudio lab memory run` writes it). The model is loaded and the 1,000 test digits are read
in a worker thread, so the UI never waits for torch.

This module is the pane (keys, the poll, which view shows); beside it: the runs list
(run_list.py), the charts (charts.py), the digit views (digits.py) and training (training.py).
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Label, OptionList, SelectionList, Static
from textual_plotext import PlotextPlot

from tangstudio.studio.panes.base import Pane
from tangstudio.studio.panes.lab.charts import (
    MEMORY_CHARTS,
    NEXT_CHART_LABELS,
    RowTickedPlot,
    draw_curves,
    draw_memory,
)
from tangstudio.studio.panes.lab.digits import ROWS, Browse, confusion_view, digit_view
from tangstudio.studio.panes.lab.run_list import NO_RUNS, RunList
from tangstudio.studio.panes.lab.training import LabProcess, ended, start_run
from tangstudio.studio.widgets.lab_views import LabRun

ARCHS = ("rnn", "lstm", "gru", "bilstm")
VIEWS = ("curves", "digit", "confusion", "memory")
CONFUSION_SIDE_BY_SIDE = 76  # the view's width from which the mistake and its digit fit beside the matrix
# Each view's title, longest first: the first that fits its row is shown (ViewTitle). The short
# ones keep what the footer does not say (w); at 80 columns the long ones were cut with "…".
VIEW_TITLES = {
    "curves": (
        "accuracy and loss · line: train, dots: val · v: next view",
        "accuracy and loss · line: train, dots: val",
    ),
    "digit": (
        "a test digit read row by row · ← → one row · p play · [ ] digit · w mistakes only",
        "a test digit, row by row · w: mistakes only",
    ),
    "confusion": (
        "test confusion matrix (rows: truth) · [ ] browse the misclassified digits",
        "rows: truth, columns: read · [ ] the misread",
    ),
    "memory": (
        "long memory: recall after T steps, g its gradients (tangstudio lab memory run)",
        "recall after T steps · g: its gradients",
    ),
}
POLL_S = 0.5
SCAN_EVERY = 8
PLAY_S = 0.15  # a row every 0.15 s: a digit in about 4 s
DIGIT_ONLY = ("row", "play")  # actions of the digit view alone
BROWSING = ("digit", "wrong_only")  # actions of the views that browse test digits
MEMORY_ONLY = ("study", "memory_chart")  # the memory view's: [ ] the saved studies, g the charts


class ViewTitle(Static):
    """The shown view's name and the longest of its titles that fits the row (VIEW_TITLES)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view = VIEWS[0]

    def show(self, view: str) -> None:
        self.view = view
        self.refresh()

    def render(self) -> Text:
        name = f" {self.view} "
        width = self.content_size.width - len(name) - 1
        titles = VIEW_TITLES[self.view]
        title = next((t for t in titles if cell_len(t) <= width), titles[-1])
        return Text.assemble((name, "reverse"), " ", (title, "dim"))


class LabPane(Pane):
    BINDINGS = [
        # While a run started here trains the footer offers Stop in Train's place (at 80 columns
        # there is no room for both); `t` still trains (the hidden binding), as the side says.
        Binding("t", "train(True)", "Train"),
        Binding("t", "train", "Train", show=False),
        # the hidden Stop answers `s` when nothing trains, with why nothing stops
        Binding("s", "stop(True)", "Stop"),
        Binding("s", "stop", "Stop", show=False),
        Binding("v", "cycle_view", "View"),
        Binding("right,l", "row(1)", "Row", key_display="→"),
        Binding("left,h", "row(-1)", "Row ←", show=False),
        Binding("p", "play", "Play"),
        Binding("right_square_bracket", "digit(1)", "Digit", key_display="[ ]"),
        Binding("left_square_bracket", "digit(-1)", "Prev digit", show=False),
        Binding("right_square_bracket", "study(1)", "Study", key_display="[ ]"),
        Binding("left_square_bracket", "study(-1)", "Prev study", show=False),
        # one `g` a chart, the footer naming the chart it brings (check_action offers the next one)
        *(Binding("g", f"memory_chart('{chart}')", label) for chart, label in NEXT_CHART_LABELS.items()),
        Binding("w", "wrong_only", "Mistakes", show=False),
        Binding("e", "reload", "Reload model", show=False),
    ]

    def __init__(self, run: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.initial_run = run  # `tangstudio --run NAME` on a lab run: highlighted first
        self.processes: dict[str, LabProcess] = {}
        self.browse = Browse()
        self.reading: dict[str, Any] | None = None  # what the worker computed for the highlighted run
        self._ticks = 0
        self._player: Timer | None = None
        self.memory_index = 0  # which saved memory study the memory view shows, 0 the newest
        self.memory_path: Any = None  # ... and its file, kept when a newer study arrives
        self._studies_seen: tuple = ()  # the saved studies' names and times when last drawn
        self.memory_chart = MEMORY_CHARTS[0]  # accuracy against T, or the gradient norms

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="lab-side"):
                yield Label("Architecture · t trains", classes="dim")
                yield OptionList(*ARCHS, id="lab-archs")
                yield Label("Runs · Space overlays", classes="dim")
                yield SelectionList[str](id="lab-runs")
                yield Static(id="lab-details")
            with Vertical(id="lab-main"):
                yield ViewTitle(id="lab-view-title")
                with ContentSwitcher(initial="lab-curves", id="lab-views"):
                    with Vertical(id="lab-curves"):
                        yield RowTickedPlot(id="lab-acc-chart")
                        yield RowTickedPlot(id="lab-loss-chart")
                    with Horizontal(id="lab-digit"):
                        yield Static(id="lab-digit-image")
                        with Vertical(id="lab-digit-side"):
                            yield Static(id="lab-digit-info")
                            yield Static(id="lab-bars")
                    with Horizontal(id="lab-confusion"):
                        yield Static(id="lab-matrix")
                        with Vertical(id="lab-wrong-side"):
                            yield Static(id="lab-wrong-info")
                            yield Static(id="lab-wrong-image")
                    with Vertical(id="lab-memory"):
                        yield RowTickedPlot(id="lab-memory-chart")
                        yield Static(id="lab-memory-table")

    def on_resize(self) -> None:
        # The digit view's bars are as wide as its side, known once the new size is laid out: at 80
        # columns each bar wrapped in two until a key was pressed (a TUI review).
        if self.view in ("confusion", "digit"):
            self.call_after_refresh(self.refresh_digit)
        elif self.view == "memory":  # the readouts go to columns, or back, with the width (a TUI review)
            self.call_after_refresh(self.draw_memory_study)

    def on_mount(self) -> None:
        from tangstudio.engine import paths

        self.runs_root = paths.runs_dir()
        self.log_dir = paths.home() / "logs"
        self.run_list = RunList(self.query_one("#lab-runs", SelectionList))
        archs = self.query_one("#lab-archs", OptionList)
        archs.highlighted = ARCHS.index("lstm")
        self.scan()
        runs = self.query_one("#lab-runs", SelectionList)
        if runs.option_count:
            runs.highlighted = runs.option_count - 1
            wanted = paths.run_folder(self.initial_run).resolve() if self.initial_run else None
            for run in self.run_list.runs.values():
                if run.path.resolve() == wanted:
                    self.run_list.highlight(run)
        self.set_interval(POLL_S, self.tick)
        self._show_view()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The digit keys only where they act: rows and play in the digit view, browsing there and in
        the confusion view, so the curves and memory footers do not offer →, p and ] (issue 25 item 10);
        none behind the too-small notice (Pane.check_action)."""
        if not super().check_action(action, parameters):
            return False
        if action in ("stop", "train") and parameters:  # the footer's: Stop while a run trains, else Train
            return bool(self.processes) == (action == "stop")
        if action in DIGIT_ONLY:
            return self.view == "digit"
        if action in BROWSING:
            return self.view in ("digit", "confusion")
        if action in MEMORY_ONLY:
            # with no study saved, g and [ ] change nothing: not offered (a student's review)
            shown = self.view == "memory" and self.memory_path is not None
            if action == "memory_chart" and parameters:
                return shown and parameters[0] == self._next_chart()
            return shown
        return True

    def _next_chart(self) -> str:
        return MEMORY_CHARTS[(MEMORY_CHARTS.index(self.memory_chart) + 1) % len(MEMORY_CHARTS)]

    def when_shown(self, first: bool) -> None:
        self.scan()
        if self.view in ("digit", "confusion"):
            self.load_reading()

    # What tests read -------------------------------------------------------------------------

    @property
    def runs(self) -> dict[str, LabRun]:
        return self.run_list.runs

    @property
    def view(self) -> str:
        return self.browse.view

    @property
    def rows_read(self) -> int:
        return self.browse.rows_read

    @property
    def position(self) -> int:
        return self.browse.position

    def highlighted(self) -> LabRun | None:
        return self.run_list.highlighted()

    def shown(self) -> list[LabRun]:
        return self.run_list.shown()

    # Runs ------------------------------------------------------------------------------------

    def scan(self) -> None:
        if self.run_list.scan(self.runs_root):
            self.refresh_curves()

    def tick(self) -> None:
        self._ticks += 1
        if self._ticks % SCAN_EVERY == 0:
            from tangstudio.engine.lab.memory import studies_signature

            self.scan()
            if self.view == "memory" and studies_signature() != self._studies_seen:
                self.draw_memory_study()  # a study saved or removed meanwhile: the list is current
        changed = self.run_list.poll()
        for name, process in list(self.processes.items()):
            if process.poll() is None:
                continue
            del self.processes[name]
            self.refresh_bindings()
            message, failed = ended(name, process)
            if failed:
                self.notify(message, title="Lab", severity="error", timeout=12)
            else:
                self.notify(message, title="Lab")
        if changed:
            self.refresh_curves()
            self.refresh_details()

    @on(SelectionList.SelectedChanged, "#lab-runs")
    def _overlay_changed(self) -> None:
        self.refresh_curves()

    @on(SelectionList.SelectionHighlighted, "#lab-runs")
    def _run_highlighted(self) -> None:
        self.refresh_details()
        self.reading = None
        if self.view in ("digit", "confusion"):
            self.load_reading()

    def refresh_details(self) -> None:
        self.query_one("#lab-details", Static).update(self.run_list.details())

    def refresh_curves(self) -> None:
        if self.view == "curves":
            acc, loss = (
                self.query_one("#lab-acc-chart", PlotextPlot),
                self.query_one("#lab-loss-chart", PlotextPlot),
            )
            draw_curves(acc, loss, self.shown(), self.run_list.colors)

    # Views -----------------------------------------------------------------------------------

    def action_cycle_view(self) -> None:
        self.browse.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self._show_view()

    def _show_view(self) -> None:
        self.query_one("#lab-views", ContentSwitcher).current = f"lab-{self.view}"
        self.refresh_bindings()  # the footer offers this view's keys (check_action)
        self.query_one("#lab-view-title", ViewTitle).show(self.view)
        self.refresh_details()
        self.browse.position = 0  # each view starts at its first digit, the confusion view fully read
        self.browse.rows_read = ROWS if self.view == "confusion" else 0
        if self.view == "curves":
            self.refresh_curves()
        elif self.view == "memory":
            self.draw_memory_study()
        elif self.reading is None:
            self.load_reading()
        else:
            self.refresh_digit()

    def draw_memory_study(self) -> None:
        from tangstudio.engine.lab.memory import studies_signature

        self._studies_seen = studies_signature()
        self.memory_index, self.memory_path = draw_memory(
            self.query_one("#lab-memory-chart", PlotextPlot),
            self.query_one("#lab-memory-table", Static),
            self.memory_index,
            self.memory_chart,
            self.memory_path,
        )
        self.refresh_bindings()  # g and [ ] only where a study is drawn

    def refused_because(self, action: str) -> str | None:
        """The memory view's keys with no study drawn: not offered, and the palette says why."""
        if action in MEMORY_ONLY and self.view == "memory" and self.memory_path is None:
            return "No memory study yet: run one with tangstudio lab memory run."
        return None

    def action_memory_chart(self, chart: str = "") -> None:
        """`chart`, or the next one: recall against T, then the gradient norms at initialisation and
        after training."""
        self.memory_chart = chart or self._next_chart()
        self.draw_memory_study()
        self.refresh_bindings()  # the footer names the chart `g` brings next

    def action_study(self, step: int) -> None:
        """Another saved memory study: `--name` keeps several, and the newest hid the others."""
        self.memory_index += step
        self.memory_path = None  # step from the place shown, not back to the file kept
        self.draw_memory_study()

    def load_reading(self) -> None:
        run = self.highlighted()
        if run is None:
            self._say(NO_RUNS)
            return
        if not (run.path / "checkpoints").is_dir():
            self._say(f"{run.name} has no checkpoint yet (the first comes with the first evaluation).")
            return
        self._say(f"reading the 1,000 test digits with {run.name} …")
        self._read_test_digits(str(run.path))

    def _say(self, message: str) -> None:
        for target in ("#lab-digit-info", "#lab-wrong-info"):
            self.query_one(target, Static).update(Text(message, style="dim"))

    @work(thread=True, exclusive=True, group="lab-read")
    def _read_test_digits(self, path: str) -> None:
        from tangstudio.engine.errors import TangError
        from tangstudio.studio.panes.lab.digits import read_test_digits

        try:
            reading = read_test_digits(path)
        except TangError as exc:
            self.app.call_from_thread(self._say, str(exc))
            return
        self.app.call_from_thread(self._loaded, path, reading)

    def _loaded(self, path: str, reading: dict[str, Any]) -> None:
        run = self.highlighted()
        if run is None or str(run.path) != path:
            return
        self.reading = reading
        browsed = self.browse.digits(reading)
        self.browse.position = min(self.position, len(browsed) - 1) if browsed else 0
        self.browse.rows_read = ROWS if self.view == "confusion" else self.rows_read
        self.refresh_digit()

    def refresh_digit(self) -> None:
        reading = self.reading
        if reading is None:
            return
        if self.view == "confusion":
            matrix, info, image = confusion_view(reading, self.browse)
            # Beside a matrix of 3-digit counts an 80-column window left the mistake 10 columns: the
            # text wrapped a word a line and the digit showed as a sliver. There, the text goes under
            # the matrix and the digit waits for a wider window.
            stacked = self.query_one("#lab-main").size.width < CONFUSION_SIDE_BY_SIDE
            self.query_one("#lab-confusion").set_class(stacked, "stacked")
            if stacked and image:
                info = Text.assemble(info, ("  (a wider window shows the digit)", "dim"))
            self.query_one("#lab-matrix", Static).update(matrix)
            self.query_one("#lab-wrong-info", Static).update(info)
            self.query_one("#lab-wrong-image", Static).update(image)
            return
        shown = digit_view(reading, self.browse, room=self.query_one("#lab-digit-side").size.width)
        if shown is None:
            self._say("no misclassified test digits to show")
            return
        image, info, bars = shown
        self.query_one("#lab-digit-image", Static).update(image)
        self.query_one("#lab-digit-info", Static).update(info)
        self.query_one("#lab-bars", Static).update(bars)

    def action_row(self, delta: int) -> None:
        if self.view != "digit":
            return
        self.browse.rows_read = max(0, min(ROWS, self.rows_read + delta))
        self.refresh_digit()

    def action_play(self) -> None:
        if self.view != "digit":
            return
        if self._player is not None:
            self._player.stop()
            self._player = None
            return
        if self.rows_read >= ROWS:
            self.browse.rows_read = 0
        self._player = self.set_interval(PLAY_S, self._play_step)

    def _play_step(self) -> None:
        if self.rows_read >= ROWS or self.view != "digit":
            if self._player is not None:
                self._player.stop()
            self._player = None
            return
        self.action_row(1)

    def action_digit(self, delta: int) -> None:
        browsed = self.browse.digits(self.reading)
        if self.view not in ("digit", "confusion") or not browsed:
            return
        self.browse.position = (self.position + delta) % len(browsed)
        self.browse.rows_read = 0 if self.view == "digit" else ROWS
        self.refresh_digit()

    def action_wrong_only(self) -> None:
        self.browse.wrong_only = not self.browse.wrong_only
        self.browse.position = 0
        self.refresh_digit()

    def action_reload(self) -> None:
        self.reading = None
        if self.view in ("digit", "confusion"):
            self.load_reading()

    # Training --------------------------------------------------------------------------------

    def action_train(self, _offered: bool = False) -> None:
        from tangstudio.studio.panes import lab  # the budget is read at call time: a test shortens it

        archs = self.query_one("#lab-archs", OptionList)
        arch = ARCHS[archs.highlighted or 0]
        try:
            process = start_run(self.runs_root, self.log_dir, arch, lab.TRAIN_STEPS)
        except OSError as exc:
            self.notify(f"could not start training: {exc}", title="Lab", severity="error")
            return
        self.processes[process.name] = process
        self.refresh_bindings()  # Stop in the footer
        self.run_list.highlight(self.run_list.add(self.runs_root / process.name, show=True))
        self.notify(
            f"training {process.name}: {arch} 1×128, {lab.TRAIN_STEPS:,} steps, one thread", title="Lab"
        )
        if self.view != "curves":  # back to the curves, where the run shows (it went to confusion)
            self.browse.view = "curves"
            self._show_view()

    def action_stop(self, _offered: bool = False) -> None:
        run = self.highlighted()
        process = self.processes.get(run.name) if run else None
        if process is None:
            self.notify("the highlighted run is not training from this studio.", title="Lab")
            return
        process.stop()

    def stop_all(self) -> list[str]:
        names = []
        for name, process in self.processes.items():
            if process.poll() is None:
                process.stop()
                names.append(name)
        return names
