"""Train pane: every run in the home (and any attached folder) as live curves, several overlaid.

Runs are followed, never driven from memory: a run this pane starts is a child process writing its
run directory, and the pane reads that directory on a 5 Hz timer exactly as it reads one written
by `tangstudio train --headless` in another shell or copied from a server.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from tangstudio.engine.runs import layout
from tangstudio.studio.attached import forget, load_attached, remember, run_problem
from tangstudio.studio.follow import RunFollower, find_runs, format_duration
from tangstudio.studio.messages import ShowPane
from tangstudio.studio.panes.base import Pane
from tangstudio.studio.trainproc import TrainingProcess, next_run_name, unique_run_name
from tangstudio.studio.widgets.loss_chart import METRICS, LossChart, rich_color, run_color

POLL_S = 0.2  # 5 Hz: curves look live, the UI thread spends microseconds per tick
SCAN_EVERY = 10  # ticks between looks for new run folders (2 s)
DEFAULT_SHOWN = 4


class AttachScreen(ModalScreen[str | None]):
    """Ask for a run folder to follow."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="attach-box"):
            yield Static("Follow a run folder (one with metrics.jsonl), e.g. one copied from a server:")
            yield Input(placeholder="/path/to/runs/NAME", id="attach-path")
            yield Label("Enter: attach · Esc: cancel", classes="dim")
        yield Footer()  # its own keys: the pane's footer stayed under it, its keys typed into the path (a review)

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class TrainPane(Pane):
    BINDINGS = [
        Binding("v", "cycle_metric", "Chart"),
        Binding("s", "stop", "Stop"),
        Binding("r", "resume", "Resume"),
        Binding("n", "new", "New run"),
        Binding("a", "attach", "Attach"),
        Binding("x", "forget", "Forget", show=False),
    ]

    def __init__(self, run: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.initial_run = run
        self.awaited: Path | None = None  # the --run asked for, until its folder appears
        self.followers: dict[str, RunFollower] = {}
        self.run_colors: dict[str, tuple[int, int, int]] = {}
        self.labelled: dict[str, str] = {}  # what each list entry shows (_label_key): it may change
        self.processes: dict[str, TrainingProcess] = {}
        self._highlighted_trains: bool | None = None  # the highlighted run trains (None: none highlighted)
        self.metric = "loss"
        self._ticks = 0
        self._clock_shown: tuple[str, ...] | None = None  # the details drawn last: _clock_key
        self._offered: tuple[str, str, float] | None = None  # (run, budget key, value) a second r takes
        self.signalled: dict[str, int] = {}  # run → pid sent SIGINT from here, so a second `s` sends none

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="train-side"):
                yield Label("Runs · Space shows/hides", classes="dim")
                yield SelectionList[str](id="run-list")
                yield Static(id="run-details")
            with Vertical(id="train-main"):
                yield LossChart(id="chart")
                yield Static(id="run-samples")

    def on_mount(self) -> None:
        from tangstudio.engine import paths

        self.runs_root = paths.runs_dir()
        self.log_dir = paths.home() / "logs"
        try:
            self.scan(initial=True)
        except NoMatches:  # the app quit before this (lazily mounted) pane got its children
            return
        for folder in load_attached():  # attached from outside the home in an earlier session
            self.add_run(folder, show=False)
        if self.initial_run:
            self._open_initial(self.initial_run)
        runs = self.query_one("#run-list", SelectionList)
        if runs.highlighted is None and runs.option_count and self.awaited is None:
            runs.highlighted = 0
        self.poller = self.set_interval(POLL_S, self.tick)  # held: a test pauses it between two keys
        self.refresh_view()

    def _open_initial(self, run: str) -> None:
        from tangstudio.engine.paths import run_folder
        from tangstudio.studio.attached import run_problem

        path = run_folder(run)
        problem = run_problem(path)
        if problem is not None and path.parent != self.runs_root:
            # a folder given by path that is no run, or none at all: only a run of the home is waited for
            # (its folder comes a moment after `train --headless` starts); nothing else would appear
            self.notify(problem, title="Train", severity="error", timeout=8)
            return
        if problem is not None:
            # A run started elsewhere a moment ago (its folder comes seconds later): wait for it,
            # with no other run highlighted meanwhile, so r and s cannot act on one not asked for.
            self.awaited = path
            self.notify(
                f"no run {run!r} in {self.runs_root} yet: it is selected when it appears.",
                title="Train",
                severity="warning",
                timeout=8,
            )
            return
        self.add_run(path, show=True, highlight=True)

    # Runs -------------------------------------------------------------------------------------

    def scan(self, initial: bool = False) -> None:
        """Add run folders that appeared since the last look (started elsewhere, or copied in) and
        drop those that vanished."""
        self._drop_vanished()
        paths = [p for p in find_runs(self.runs_root) if str(p) not in self.followers]
        if initial:  # show the newest few; the rest are one Space away
            newest = sorted(paths, key=lambda p: _mtime(p), reverse=True)[:DEFAULT_SHOWN]
        for path in paths:
            awaited = path == self.awaited
            self.add_run(path, show=awaited or (path in newest if initial else True), highlight=awaited)
            if awaited:
                self.awaited = None
        self._check_checkpoints(list(self.followers.values()))

    @work(thread=True, exclusive=True, group="train-checkpoints")
    def _check_checkpoints(self, followers: list[RunFollower]) -> None:
        """What `runs list` finds wrong with each stopped run's checkpoints, in a thread (a sha256 of
        every file, once per change): the list then says damaged where `runs list` does."""
        changed = False
        for follower in followers:
            if follower.writing():  # a mirror's foreign lock after its done line is no writer
                continue
            before = follower.checkpoint_error
            follower.check_checkpoints()
            changed |= follower.checkpoint_error != before
        if changed:
            try:
                self.app.call_from_thread(self._relabel)
                self.app.call_from_thread(self.refresh_view)
            except RuntimeError:  # the studio closed meanwhile
                pass

    def _drop_vanished(self) -> None:
        """Take runs whose folder is gone off the list: a `train` refused after making its folder (or
        a run deleted by hand) stayed listed for good, "waiting" with default settings. A run this
        studio is starting stays until its process ends: its folder comes a moment after the list entry."""
        vanished = [
            key
            for key, follower in self.followers.items()
            if not follower.path.is_dir()
            and ((process := self.processes.get(follower.name)) is None or process.poll() is not None)
        ]
        for key in vanished:
            self._remove(key)
        if vanished:
            self.refresh_view()

    def _remove(self, key: str) -> None:
        runs = self.query_one("#run-list", SelectionList)
        runs.remove_option_at_index(list(self.followers).index(key))
        del self.followers[key]
        self.labelled.pop(key, None)

    def add_run(self, path: Path, show: bool = True, highlight: bool = False) -> RunFollower:
        key = str(path)
        runs = self.query_one("#run-list", SelectionList)
        if key not in self.followers:
            follower = RunFollower(path)
            follower.poll()
            self.followers[key] = follower
            self.labelled[key] = _label_key(follower)
            self.run_colors[key] = run_color(len(self.run_colors))
            runs.add_option(Selection(self._label(follower), key, show))
        elif show:
            runs.select(key)
        if highlight:
            index = list(self.followers).index(key)
            runs.highlighted = index
        return self.followers[key]

    def _label(self, follower: RunFollower) -> Text:
        key = str(follower.path)
        # An attached folder may share a home run's name (a mirror of it): say which is which.
        where = "" if self._in_home(follower) else "  attached"
        # a BiLSTM's loss is a pseudo-likelihood: drawn beside causal curves, it must say so
        kind = " · pseudo-loss" if follower.ppl_kind == "pseudo" else ""
        label = Text.assemble(
            ("■ ", rich_color(self.run_colors[key])),
            follower.name,
            (f"  {follower.arch}{kind}{where}", "dim"),
        )
        if follower.damage is not None:  # seen in the list, not only in the details box
            label.append("  damaged", style="red")
        return label

    def _in_home(self, run: RunFollower) -> bool:
        # Resolved, as attach and forget compare them: a symlinked or relative home (TANGSTUDIO_HOME=h)
        # made a run of the home look attached.
        return run.path.resolve().parent == self.runs_root.resolve()

    def _own_process(self, run: RunFollower) -> TrainingProcess | None:
        """The child this studio started for `run`: only a home run has one. A folder attached from
        elsewhere under the same name is another run, which `s` and `r` must not take for it."""
        return self.processes.get(run.name) if self._in_home(run) else None

    def highlighted(self) -> RunFollower | None:
        runs = self.query_one("#run-list", SelectionList)
        if runs.highlighted is None or runs.option_count == 0:
            return None
        return self.followers.get(str(runs.get_option_at_index(runs.highlighted).value))

    def shown(self) -> list[RunFollower]:
        return [
            self.followers[k]
            for k in self.query_one("#run-list", SelectionList).selected
            if k in self.followers
        ]

    # The timer --------------------------------------------------------------------------------

    def tick(self) -> None:
        self._ticks += 1
        if self._ticks % SCAN_EVERY == 0:
            self.scan()
        changed = False
        shown = self.shown()
        current = self.highlighted()
        for follower in {id(f): f for f in [*shown, *([current] if current else [])]}.values():
            changed |= follower.poll()
        self._check_processes()
        if changed:
            self._relabel()
            self.refresh_view()
        elif current is not None:
            self._redraw_if_moved(current)

    def _redraw_if_moved(self, run: RunFollower) -> None:
        """Between log lines: a running run's elapsed and ETA tick, redrawn when the seconds shown
        change, not at 5 Hz (the table's redraw took 8 % of a core from the trainer beside it); and a
        run whose trainer died without a word (SIGKILL, OOM: no last line) turns from running to
        stopped with its footer, where it said running with `s Stop` until the highlight moved (two
        reviews)."""
        status = self._status(run)
        if self._clock_key(run, status) == self._clock_shown:
            return
        if self._clock_shown is not None and self._clock_shown[:2] == (str(run.path), status):
            self._show_details(run)
        else:
            self.refresh_view()

    def _relabel(self) -> None:
        """A run started here is listed before its config.toml exists: name its arch once it does (and
        say "damaged" when its config turns out so)."""
        runs = self.query_one("#run-list", SelectionList)
        for index, (key, follower) in enumerate(self.followers.items()):
            if self.labelled.get(key) != _label_key(follower):
                self.labelled[key] = _label_key(follower)
                runs.replace_option_prompt_at_index(index, self._label(follower))

    def _check_processes(self) -> None:
        for name, process in list(self.processes.items()):
            if process.poll() is None:
                continue
            del self.processes[name]
            failure = process.failure()
            if failure:
                self.notify(
                    f"run {name} failed: {failure}\nfull log: {process.log_path}",
                    title="Training",
                    severity="error",
                    timeout=15,
                )
            elif process.stopping:
                self.notify(f"run {name} stopped with a checkpoint; press r to resume it.", title="Training")
            else:
                self.notify(f"run {name} finished.", title="Training")
            self.refresh_view()

    @on(SelectionList.SelectedChanged)
    @on(SelectionList.SelectionHighlighted)
    def _list_changed(self, event) -> None:
        event.stop()
        for follower in self.shown():
            follower.poll()
        self.refresh_view()

    def refresh_view(self) -> None:
        self.query_one(LossChart).show([(f, self.run_colors[str(f.path)]) for f in self.shown()], self.metric)
        run = self.highlighted()
        self._show_details(run)
        # Stop or Resume, as the highlighted run now is: asked once here, where check_action asked
        # the run's lock file for each key at every footer refresh
        self._highlighted_trains = None if run is None else self._status(run) in ("running", "stopping")
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Stop while the highlighted run trains (here or in another process), Resume while it does
        not: the footer offered both always, and `s` on a stopped run only said so (a TUI review)."""
        if not super().check_action(action, parameters):
            return False
        if action in ("stop", "resume"):
            if self._highlighted_trains is None:  # no run highlighted
                return False
            return self._highlighted_trains if action == "stop" else not self._highlighted_trains
        return True

    @staticmethod
    def _clock_key(run: RunFollower, status: str) -> tuple[str, ...]:
        """What the details show that moves without a log line: the status, and a running run's clock."""
        clock = tuple(map(format_duration, run.live_clock())) if status == "running" else ()
        return (str(run.path), status, *clock)

    def _status(self, follower: RunFollower) -> str:
        process = self._own_process(follower)
        if process is not None and process.poll() is None:
            return "stopping" if process.stopping else "running"
        return follower.status()

    def _show_details(self, run: RunFollower | None) -> None:
        details = self.query_one("#run-details", Static)
        samples = self.query_one("#run-samples", Static)
        if run is None:
            details.update(
                Text(_no_run_text(self.query_one("#run-list", SelectionList).option_count), style="dim")
            )
            samples.update("")
            return
        table = Table(show_header=False, box=None, padding=(0, 1), expand=False)
        table.add_column(justify="right", style="dim", no_wrap=True, min_width=10)
        # Each value cut short with "…" (_one_line), but the train loss's note wraps between its
        # words: a folding Text in a no_wrap column lost the characters at its fold ("the last ste").
        table.add_column()
        train, last_eval = run.last_train, run.last_eval
        pseudo = " (pseudo)" if run.ppl_kind == "pseudo" else ""
        status = self._status(run)
        style = {"running": "green", "failed": "red", "stopping": "yellow"}.get(status, "")
        rows: list[tuple[str, str | Text]] = [
            ("run", Text(run.name, style=f"bold {rich_color(self.run_colors[str(run.path)])}")),
            ("status", Text(status, style=style)),
            ("arch", f"{run.arch} · {_size(run.config)}"),
            ("data", f"{run.config.get('corpus', '?')} · {run.config.get('forms', '?')}"),
            (
                "step",
                f"{run.step:,}"
                + (f" · epoch {_fmt(train.get('epoch'), '{:.2f}')}" if "epoch" in train else ""),
            ),
            ("train loss", _train_loss(run)),
            ("val loss", _fmt(last_eval.get("val_loss"), "{:.4f}")),
            (f"val ppl{pseudo}", _fmt(last_eval.get("val_ppl"), "{:.2f}")),
            ("lr", _fmt(train.get("lr"), "{:.2e}")),
            ("chars/s", _fmt(run.speed[-1][1] if run.speed else None, "{:,.0f}")),
            ("elapsed", format_duration(run.live_elapsed_s(running=status == "running"))),
            (
                "ETA",
                "done" if status == "finished" else format_duration(run.eta_s(running=status == "running")),
            ),
        ]
        if run.damage:  # whole, wrapped: it says why
            rows.append(("problem", Text(run.damage, style="red", no_wrap=False)))
        for label, value in rows:
            table.add_row(label, _one_line(value))
        details.update(table)
        self._clock_shown = self._clock_key(run, status)
        shown = run.samples[:3]
        samples.update(
            Text("\n".join(shown), overflow="ellipsis", no_wrap=True)
            if shown
            else Text("samples appear here after each evaluation", style="dim")
        )

    # Actions ----------------------------------------------------------------------------------

    def action_cycle_metric(self) -> None:
        self.metric = METRICS[(METRICS.index(self.metric) + 1) % len(METRICS)]
        self.refresh_view()

    def start_run(self, options: dict) -> str | None:
        """Start `tangstudio train --headless` with these options in a child process and follow it."""
        options = dict(options)
        if options.get("resume"):
            name = options["run"]
        elif options.get("run"):
            name = unique_run_name(self.runs_root, str(options["run"]))
        else:
            base = options.get("arch") or ("finetune" if options.get("init_from") else "run")
            name = next_run_name(self.runs_root, str(base))
        options["run"] = name
        try:
            process = TrainingProcess(name, options, self.log_dir)
        except OSError as exc:
            self.notify(f"could not start training: {exc}", title="Training", severity="error", timeout=10)
            return None
        self.processes[name] = process
        follower = self.add_run(self.runs_root / name, show=True, highlight=True)
        if not follower.config:
            follower.config = {k: v for k, v in options.items() if v is not None}
        from tangstudio.engine.training.config import TrainConfig

        # a resume names only the run (its config knows the arch); a new run without one gets the default
        arch = options.get("arch") or (follower.arch if follower.arch != "?" else TrainConfig().arch)
        self.notify(
            f"{'resumed' if options.get('resume') else 'started'} run {name} ({arch}); s stops it.",
            title="Training",
        )
        self.refresh_view()
        return name

    def action_stop(self) -> None:
        run = self.highlighted()
        if run is None:
            self.notify("no run highlighted", severity="warning")
            return
        process = self._own_process(run)
        pid = run.lock_pid() if process is None or process.poll() is not None else None
        if (process is not None and process.stopping and process.poll() is None) or (
            pid is not None and self.signalled.get(run.name) == pid
        ):  # a second SIGINT would be a second Ctrl+C to a trainer already saving its checkpoint
            self.notify(f"{run.name} is already stopping: it writes a checkpoint first.", title="Training")
            return
        if process is not None and process.poll() is None:
            process.stop()
        elif pid is not None:
            try:
                os.kill(pid, signal.SIGINT)
            except OSError as exc:
                self.notify(f"could not stop {run.name}: {exc}", severity="error")
                return
            self.signalled[run.name] = pid
        else:
            self.notify(f"{run.name} is not running here.", severity="warning")
            return
        self.notify(f"stopping {run.name}: it writes a checkpoint first.", title="Training")
        self.refresh_view()

    def action_resume(self) -> None:
        run = self.highlighted()
        if run is None:
            self.notify("no run highlighted", severity="warning")
            return
        if self._status(run) in ("running", "stopping"):
            self.notify(f"{run.name} is still running.", severity="warning")
            return
        if not self._in_home(run):  # before anything else: a finished mirror resumed the home run
            self.notify(
                f"{run.name} is outside your runs folder; copy it to {self.runs_root} to resume it.",
                severity="warning",
                timeout=8,
            )
            return
        if self._status(run) == "finished":
            self._train_on(run)
            return
        self.start_run({"run": run.name, "resume": True})

    def _train_on(self, run: RunFollower) -> None:
        """A finished run: the first r says so and offers twice its budget; the second r trains on to it.

        Resuming a finished run used to do one more step and finish again, silently (issue 25 item 5).
        """
        offer = larger_budget(run.config)
        if offer is None:
            self.notify(f"{run.name} has finished its budget.", title="Training")
            return
        key, value = offer
        if self._offered != (run.name, key, value):
            self._offered = (run.name, key, value)
            self.notify(
                f"{run.name} is finished: it spent its budget of {_budget(key, run.config[key])}. "
                f"Press r again to train on to {_budget(key, value)}.",
                title="Training",
                timeout=10,
            )
            return
        self._offered = None
        self.start_run({"run": run.name, "resume": True, key: value})

    def action_new(self) -> None:
        self.notify("set up the run here, then press t to train.", title="New run")
        self.post_message(ShowPane("model"))

    def action_attach(self) -> None:
        def attach(path: str | None) -> None:
            if not path:
                return
            folder = Path(path).expanduser().resolve()
            problem = run_problem(folder)
            if problem:
                self.notify(problem, title="Attach", severity="error", timeout=8)
                return
            if folder.parent != self.runs_root.resolve():
                remember(folder)  # shown again next time, until x forgets it
            self.add_run(folder, show=True, highlight=True)
            if not (folder / layout.METRICS).exists():
                self.notify(
                    f"{folder} has no metrics.jsonl yet; the curve fills in when it appears.",
                    severity="warning",
                    timeout=8,
                )
            self.refresh_view()

        self.app.push_screen(AttachScreen(), attach)

    def action_forget(self) -> None:
        """Take an attached run off the list (its folder stays); runs in the home stay listed."""
        run = self.highlighted()
        if run is None:
            return
        if run.path.resolve().parent == self.runs_root.resolve():
            self.notify(
                f"{run.name} is in your runs folder; x forgets only runs attached from elsewhere.",
                severity="warning",
            )
            return
        forget(run.path)
        self._remove(str(run.path))
        self.notify(f"forgot {run.path}; the folder itself is untouched.", title="Train")
        self.refresh_view()

    def stop_all(self) -> list[str]:
        """Stop every run this studio started (each writes a checkpoint); the names of those still running."""
        running = [name for name, process in self.processes.items() if process.poll() is None]
        for name in running:
            if not self.processes[name].stopping:  # a second SIGINT would stop it without a checkpoint
                self.processes[name].stop()
        return running

    def on_unmount(self) -> None:
        """Runs this studio started stop with it (with a checkpoint); resume them next time."""
        self.stop_all()


def _no_run_text(listed: int) -> str:
    """The details panel with no run highlighted: "No runs yet" only when the list is empty."""
    if listed:
        return "Select a run in the list (↑ ↓) to see its details.\nPress n to set up a new one, a to attach a folder."
    return "No runs yet.\nPress n to set one up in the Model pane, or a to attach a run folder."


def _size(config: dict) -> str:
    if "hidden" not in config:
        return "?"
    return f"{config.get('layers', 1)}×{config['hidden']} e{config.get('embed', '?')}"


BUDGET_KEYS = ("steps", "minutes", "epochs")  # a run's budget, as config.toml and --resume name it


def larger_budget(config: dict) -> tuple[str, float] | None:
    """(key, value) of twice the run's budget, whole steps kept whole; None when it has none."""
    for key in BUDGET_KEYS:
        value = config.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return key, (int(value) * 2 if isinstance(value, int) else float(value) * 2)
    return None


def _budget(key: str, value: float) -> str:
    unit = key.removesuffix("s") if value == 1 else key  # "1 minute", not "1 minutes"
    return f"{value:,} {unit}" if isinstance(value, int) else f"{value:g} {unit}"


def _train_loss(run: RunFollower) -> str | Text:
    """The latest training loss; a short last line (a stop mid-window) says what it is, the mean of
    how few steps ("5.9681 (3 steps)" read as a riddle). Wrapped under the number in the narrow panel."""
    if run.short_train is not None:
        _step, loss, steps = run.short_train
        what = "the last step alone" if steps == 1 else f"mean of the last {steps} steps"
        return Text.assemble(f"{loss:.4f}", (f", {what}", "dim"), no_wrap=False)  # wraps at spaces
    return _fmt(run.last_train.get("train_loss"), "{:.4f}")


def _one_line(value: str | Text) -> Text:
    """A details value on one line, cut with "…" where the panel is too narrow; a Text that asks to
    wrap (no_wrap=False: the train loss's note) keeps its own say."""
    text = Text(value) if isinstance(value, str) else value
    if text.no_wrap is None:
        text.no_wrap, text.overflow = True, "ellipsis"
    return text


def _fmt(value, pattern: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return pattern.format(value)


def _mtime(path: Path) -> float:
    try:
        return (path / layout.METRICS).stat().st_mtime
    except OSError:
        return path.stat().st_mtime


def _label_key(follower: RunFollower) -> str:
    """What a run's list entry shows that can change: its arch, and whether its files are damaged."""
    return f"{follower.arch}|{follower.damage is not None}"
