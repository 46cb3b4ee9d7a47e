"""Lab pane (F5): the seed article's digits experiment, trained live and read row by row.

Pick an architecture and press `t`: the pane starts `tangstudio lab digits train` in a child
process (as the Train pane does) and follows its run folder; accuracy and loss of every shown run
are overlaid. Then `v` cycles the views: the curves; one test digit read row by row (the rows
already read are lit and ten probability bars move as each row arrives); the confusion matrix
with the misclassified digits to browse; and the long-memory study's chart
(`tangstudio lab memory run` writes it). The model is loaded and the 1,000 test digits are read
in a worker thread, so the UI never waits for torch.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Label, OptionList, SelectionList, Static
from textual.widgets.selection_list import Selection
from textual_plotext import PlotextPlot

from tangstudio.studio.panes.base import Pane
from tangstudio.studio.trainproc import TrainingProcess, unique_run_name
from tangstudio.studio.widgets.lab_views import (
    LabRun,
    confusion_table,
    digit_text,
    find_lab_runs,
    prob_bars,
)
from tangstudio.studio.widgets.loss_chart import COLORS, rich_color

ARCHS = ("rnn", "lstm", "gru", "bilstm")
VIEWS = ("curves", "digit", "confusion", "memory")
VIEW_TITLES = {
    "curves": "accuracy and loss · line: train, dots: val",
    "digit": "a test digit read row by row · ← → one row · p play · [ ] digit · w mistakes only",
    "confusion": "test confusion matrix (rows: truth) · [ ] browse the misclassified digits",
    "memory": "long memory: recall after T steps (tangstudio lab memory run)",
}
POLL_S = 0.5
SCAN_EVERY = 8
TRAIN_STEPS = 1500  # about a CPU-minute for an LSTM 1×128: ~97 % val accuracy


class LabProcess(TrainingProcess):
    """`tangstudio lab digits train --json` in its own session; stop (SIGINT) and failure as for poems."""

    COMMAND = ("lab", "digits", "train", "--json")


class LabPane(Pane):
    BINDINGS = [
        Binding("t", "train", "Train"),
        Binding("s", "stop", "Stop"),
        Binding("v", "cycle_view", "View"),
        Binding("right,l", "row(1)", "Next row", key_display="→"),
        Binding("left,h", "row(-1)", "Row ←", show=False),
        Binding("p", "play", "Play"),
        Binding("right_square_bracket", "digit(1)", "Next digit", key_display="]"),
        Binding("left_square_bracket", "digit(-1)", "Prev digit", show=False),
        Binding("w", "wrong_only", "Mistakes", show=False),
        Binding("e", "reload", "Reload model", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs: dict[str, LabRun] = {}
        self.run_colors: dict[str, tuple[int, int, int]] = {}
        self.processes: dict[str, LabProcess] = {}
        self.view = "curves"
        self.rows_read = 0
        self.position = 0  # index into the digits being browsed
        self.wrong_only = False
        self.reading: dict | None = None  # what the worker computed for the highlighted run
        self._ticks = 0
        self._player: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="lab-side"):
                yield Label("Architecture · t trains", classes="dim")
                yield OptionList(*ARCHS, id="lab-archs")
                yield Label("Runs · Space overlays", classes="dim")
                yield SelectionList[str](id="lab-runs")
                yield Static(id="lab-details")
            with Vertical(id="lab-main"):
                yield Static(id="lab-view-title")
                with ContentSwitcher(initial="lab-curves", id="lab-views"):
                    with Vertical(id="lab-curves"):
                        yield PlotextPlot(id="lab-acc-chart")
                        yield PlotextPlot(id="lab-loss-chart")
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
                        yield PlotextPlot(id="lab-memory-chart")
                        yield Static(id="lab-memory-table")

    def on_mount(self) -> None:
        from tangstudio.engine import paths

        self.runs_root = paths.runs_dir()
        self.log_dir = paths.home() / "logs"
        archs = self.query_one("#lab-archs", OptionList)
        archs.highlighted = ARCHS.index("lstm")
        self.scan()
        runs = self.query_one("#lab-runs", SelectionList)
        if runs.option_count:
            runs.highlighted = runs.option_count - 1
        self.set_interval(POLL_S, self.tick)
        self._show_view()

    def when_shown(self, first: bool) -> None:
        self.scan()
        if self.view in ("digit", "confusion"):
            self.load_reading()

    # Runs ------------------------------------------------------------------------------------

    def scan(self) -> None:
        runs = self.query_one("#lab-runs", SelectionList)
        new = [p for p in find_lab_runs(self.runs_root) if str(p) not in self.runs]
        for path in new:
            self._add(path, show=True)
        if new:
            self.refresh_curves()
        del runs

    def _add(self, path: Path, show: bool) -> LabRun:
        key = str(path)
        run = LabRun(path)
        run.poll()
        self.runs[key] = run
        self.run_colors[key] = COLORS[len(self.run_colors) % len(COLORS)]
        self.query_one("#lab-runs", SelectionList).add_option(Selection(self._label(run), key, show))
        return run

    def _label(self, run: LabRun) -> Text:
        return Text.assemble(("■ ", rich_color(self.run_colors[str(run.path)])), run.name)

    def highlighted(self) -> LabRun | None:
        runs = self.query_one("#lab-runs", SelectionList)
        if runs.highlighted is None or runs.option_count == 0:
            return None
        return self.runs.get(str(runs.get_option_at_index(runs.highlighted).value))

    def shown(self) -> list[LabRun]:
        return [self.runs[k] for k in self.query_one("#lab-runs", SelectionList).selected if k in self.runs]

    def tick(self) -> None:
        self._ticks += 1
        if self._ticks % SCAN_EVERY == 0:
            self.scan()
        changed = False
        current = self.highlighted()
        for run in {id(r): r for r in [*self.shown(), *([current] if current else [])]}.values():
            changed |= run.poll()
        for name, process in list(self.processes.items()):
            if process.poll() is None:
                continue
            del self.processes[name]
            failure = process.failure()
            if failure:
                self.notify(f"lab run {name} failed: {failure}", title="Lab", severity="error", timeout=12)
            else:
                self.notify(
                    f"lab run {name} {'stopped' if process.stopping else 'finished'}; v shows its digits.",
                    title="Lab",
                )
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
        run = self.highlighted()
        details = self.query_one("#lab-details", Static)
        if run is None:
            details.update(Text("No digit runs yet: pick an architecture and press t.", style="dim"))
            return
        best = run.best_val_acc
        total = f"/{run.total_steps:,}" if run.total_steps else ""
        details.update(
            Text.assemble(
                (run.name, "bold"),
                f"\n{run.arch} · {run.status}\nstep {run.step:,}{total}\n",
                "best val acc " + ("–" if best is None else f"{best:.1%}"),
            )
        )

    # Charts ----------------------------------------------------------------------------------

    def refresh_curves(self) -> None:
        if self.view != "curves":
            return
        for chart_id, index, title, unit in (
            ("#lab-acc-chart", 2, "accuracy (%)", 100.0),
            ("#lab-loss-chart", 1, "loss (nats)", 1.0),
        ):
            chart = self.query_one(chart_id, PlotextPlot)
            plt = chart.plt
            plt.clear_data()
            plt.clear_figure()
            for run in self.shown():
                color = self.run_colors[str(run.path)]
                if run.train:
                    plt.plot(
                        [p[0] for p in run.train],
                        [p[index] * unit for p in run.train],
                        color=color,
                        marker="braille",
                    )
                if run.val:
                    plt.scatter(
                        [p[0] for p in run.val], [p[index] * unit for p in run.val], color=color, marker="dot"
                    )
            plt.title(title)
            plt.xlabel("step")
            chart.refresh()

    def refresh_memory(self) -> None:
        from tangstudio.engine.errors import TangError
        from tangstudio.engine.lab.memory import load_results, summary

        chart = self.query_one("#lab-memory-chart", PlotextPlot)
        table = self.query_one("#lab-memory-table", Static)
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        try:
            study = load_results("memory")
        except TangError:
            plt.title("no memory study yet")
            chart.refresh()
            table.update(Text("Run one with: tangstudio lab memory run  (a few CPU-minutes)", style="dim"))
            return
        rows = summary(study)
        palette = {"rnn": "red", "lstm": "blue", "gru": "green"}
        lines = Text()
        for arch in study["settings"]["archs"]:
            mine = [r for r in rows if r["arch"] == arch]
            plt.plot(
                [r["distance"] for r in mine],
                [100 * r["mean"] for r in mine],
                label=arch,
                color=palette.get(arch, "cyan"),
                marker="dot",
            )
            lines.append(f"{arch:>9} ", style="bold")
            lines.append("  ".join(f"T={r['distance']}: {r['mean']:.0%}±{r['sd']:.0%}" for r in mine) + "\n")
        plt.hline(100 / 8, "gray")
        plt.ylim(0, 100)
        s = study["settings"]
        plt.title(f"accuracy % vs T · {len(s['seeds'])} seeds, {s['steps']} steps · grey: chance")
        plt.xlabel("T")
        chart.refresh()
        table.update(lines)

    # Views -----------------------------------------------------------------------------------

    def action_cycle_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self._show_view()

    def _show_view(self) -> None:
        self.query_one("#lab-views", ContentSwitcher).current = f"lab-{self.view}"
        self.query_one("#lab-view-title", Static).update(
            Text.assemble(
                (f" {self.view} ", "reverse"), " ", (VIEW_TITLES[self.view] + " · v: next view", "dim")
            )
        )
        self.refresh_details()
        self.position, self.rows_read = (
            0,
            (28 if self.view == "confusion" else 0),
        )  # each view starts at its first
        if self.view == "curves":
            self.refresh_curves()
        elif self.view == "memory":
            self.refresh_memory()
        elif self.reading is None:
            self.load_reading()
        else:
            self.refresh_digit()

    def load_reading(self) -> None:
        run = self.highlighted()
        if run is None:
            self._say("No digit runs yet: pick an architecture and press t.")
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

        try:
            reading = read_test_digits(path)
        except TangError as exc:
            self.app.call_from_thread(self._say, str(exc))
            return
        self.app.call_from_thread(self._loaded, path, reading)

    def _loaded(self, path: str, reading: dict) -> None:
        run = self.highlighted()
        if run is None or str(run.path) != path:
            return
        self.reading = reading
        self.position = min(self.position, len(self._browsed()) - 1) if self._browsed() else 0
        self.rows_read = 28 if self.view == "confusion" else self.rows_read
        self.refresh_digit()

    def _browsed(self) -> list[int]:
        if self.reading is None:
            return []
        return (
            self.reading["wrong"]
            if (self.wrong_only or self.view == "confusion")
            else list(range(len(self.reading["labels"])))
        )

    def refresh_digit(self) -> None:
        r = self.reading
        if r is None:
            return
        browsed = self._browsed()
        if self.view == "confusion":
            selected = None
            if browsed:
                k = browsed[self.position % len(browsed)]
                selected = (int(r["labels"][k]), int(r["predicted"][k]))
            self.query_one("#lab-matrix", Static).update(
                confusion_table(r["confusion"], r["per_class"], selected)
            )
            info = self.query_one("#lab-wrong-info", Static)
            image = self.query_one("#lab-wrong-image", Static)
            if not browsed:
                info.update(Text(f"{r['run']}: every test digit right", style="green"))
                image.update("")
                return
            k = browsed[self.position % len(browsed)]
            probs = r["probs"][k][-1]
            info.update(
                Text.assemble(
                    (f"{r['run']} · test accuracy {r['accuracy']:.1%}\n", "bold"),
                    f"mistake {self.position % len(browsed) + 1} of {len(browsed)}: ",
                    f"a {int(r['labels'][k])} read as ",
                    (str(int(r["predicted"][k])), "bold red"),
                    f" ({probs[int(r['predicted'][k])]:.0%})",
                )
            )
            image.update(digit_text(r["images"][k], 28))
            return
        if not browsed:
            self._say("no misclassified test digits to show")
            return
        k = browsed[self.position % len(browsed)]
        label = int(r["labels"][k])
        self.query_one("#lab-digit-image", Static).update(digit_text(r["images"][k], self.rows_read))
        if self.rows_read == 0:
            probs = [0.1] * 10
            verdict = Text("no row read yet: → reads one", style="dim")
        else:
            probs = r["probs"][k][self.rows_read - 1]
            best = max(range(10), key=lambda c: probs[c])
            verdict = Text.assemble(
                "row ",
                (f"{self.rows_read}", "bold"),
                "/28: says ",
                (str(best), "bold"),
                (" ✓" if best == label else " ✗", "green" if best == label else "red"),
            )
        knows = r["knows"][k]
        scope = "mistake" if self.wrong_only else "test digit"
        self.query_one("#lab-digit-info", Static).update(
            Text.assemble(
                (f"{r['run']} · {r['arch']}", "bold"),
                f"\n{scope} {self.position % len(browsed) + 1}/{len(browsed)}: a {label}\n",
                verdict,
                f"\nsettles at row {knows}" if knows else "\nnever settles",
            )
        )
        room = self.query_one("#lab-digit-side").size.width
        self.query_one("#lab-bars", Static).update(prob_bars(probs, label, width=max(3, min(36, room - 15))))

    def action_row(self, delta: int) -> None:
        if self.view != "digit":
            return
        self.rows_read = max(0, min(28, self.rows_read + delta))
        self.refresh_digit()

    def action_play(self) -> None:
        if self.view != "digit":
            return
        if self._player is not None:
            self._player.stop()
            self._player = None
            return
        if self.rows_read >= 28:
            self.rows_read = 0
        self._player = self.set_interval(0.15, self._play_step)

    def _play_step(self) -> None:
        if self.rows_read >= 28 or self.view != "digit":
            if self._player is not None:
                self._player.stop()
            self._player = None
            return
        self.action_row(1)

    def action_digit(self, delta: int) -> None:
        if self.view not in ("digit", "confusion") or not self._browsed():
            return
        self.position = (self.position + delta) % len(self._browsed())
        self.rows_read = 0 if self.view == "digit" else 28
        self.refresh_digit()

    def action_wrong_only(self) -> None:
        self.wrong_only = not self.wrong_only
        self.position = 0
        self.refresh_digit()

    def action_reload(self) -> None:
        self.reading = None
        if self.view in ("digit", "confusion"):
            self.load_reading()

    # Training --------------------------------------------------------------------------------

    def action_train(self) -> None:
        archs = self.query_one("#lab-archs", OptionList)
        arch = ARCHS[archs.highlighted or 0]
        name = unique_run_name(self.runs_root, f"lab-{arch}")
        options = {"run": name, "arch": arch, "steps": TRAIN_STEPS, "eval_every": 100, "threads": 1}
        try:
            process = LabProcess(name, options, self.log_dir)
        except OSError as exc:
            self.notify(f"could not start training: {exc}", title="Lab", severity="error")
            return
        self.processes[name] = process
        run = self._add(self.runs_root / name, show=True)
        runs = self.query_one("#lab-runs", SelectionList)
        runs.highlighted = list(self.runs).index(str(run.path))
        self.notify(f"training {name}: {arch} 1×128, {TRAIN_STEPS:,} steps, one thread", title="Lab")
        if self.view != "curves":
            self.view = "digit"
            self.action_cycle_view()  # back to the curves, where the run shows

    def action_stop(self) -> None:
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


def read_test_digits(path: str) -> dict:
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
