"""Following a run directory while someone else writes it — no Textual, no torch.

The train pane polls a `RunFollower` per visible run a few times a second. Each poll reads only
the bytes appended to `metrics.jsonl` since the last one and holds back a half-written last line
until its newline arrives, so a run being written right now (by the studio's own subprocess,
`tangstudio train --headless` in another shell, or rsync from a server) fills in live.

The incremental reading itself is the engine's `MetricsFollower` (torch-free, so the studio can
use it before its first frame); this class turns events into the curves and status the pane shows.
"""

from __future__ import annotations

import json
import math
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import ppl_kind
from tangstudio.engine.runs.config import check_config_text
from tangstudio.engine.runs.events import duration_text, sample_shown
from tangstudio.engine.runs.kinds import poem_runs
from tangstudio.engine.runs.layout import CONFIG, METRICS, SAMPLES
from tangstudio.engine.runs.metrics import MetricsFollower
from tangstudio.engine.runs.rundir import RunDir
from tangstudio.engine.runs.schema import MAX_CONFIG_BYTES, MAX_JSONL_BYTES, read_bytes, read_text


def downsample(xs: list[float], ys: list[float], width: int) -> tuple[list[float], list[float]]:
    """At most `width` points: bucket means, so a long noisy curve keeps its shape; the last point stays exact."""
    n = len(xs)
    if width <= 0 or n <= width:
        return list(xs), list(ys)
    out_x, out_y = [], []
    per = n / width
    for i in range(width):
        lo, hi = int(i * per), max(int((i + 1) * per), int(i * per) + 1)
        out_x.append(sum(xs[lo:hi]) / (hi - lo))
        out_y.append(sum(ys[lo:hi]) / (hi - lo))
    out_x[-1], out_y[-1] = xs[-1], ys[-1]
    return out_x, out_y


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass
class RunFollower:
    """What the studio knows of one run directory, updated by `poll()`."""

    path: Path
    train: list[tuple[float, float]] = field(default_factory=list)  # (step, train_loss)
    val: list[tuple[float, float, float | None]] = field(default_factory=list)  # (step, val_loss, val_ppl)
    lr: list[tuple[float, float]] = field(default_factory=list)
    speed: list[tuple[float, float]] = field(default_factory=list)  # (step, chars_per_s)
    last_train: dict = field(default_factory=dict)
    last_eval: dict = field(default_factory=dict)
    done: dict | None = None
    config: dict = field(default_factory=dict)
    config_error: str | None = None
    config_mtime: int = 0  # a resume rewrites config.toml (e.g. a new budget): read it again then
    checkpoint_error: str | None = None  # what `runs list` finds wrong with a stopped run's checkpoints
    checkpoint_sig: tuple = ()  # the checkpoint files' sizes and times when last checked
    saved: list[dict] = field(default_factory=list)  # the log's checkpoint lines (the last one)
    samples: list[str] = field(default_factory=list)
    samples_mtime: int = 0
    # A train line averaging fewer steps than the others (the last one of a stopped run, one step
    # long): (step, loss, steps averaged). Kept off the curve, where it read as a drop (issue 25 item 4).
    short_train: tuple[float, float, int] | None = None
    full_window: float = 0.0  # the most steps a train line has averaged (--log-every)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    read_at: float | None = None  # clock() when the latest elapsed_s arrived: the live clock's base
    _metrics: MetricsFollower = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._metrics = MetricsFollower(self.path / METRICS)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def arch(self) -> str:
        return str(self.config.get("arch", "?"))

    @property
    def ppl_kind(self) -> str:
        kind = self.last_eval.get("ppl_kind") or ppl_kind(self.arch)
        return str(kind)

    def poll(self) -> bool:
        """Read what was appended; True when anything new arrived."""
        changed = False
        try:
            mtime = (self.path / CONFIG).stat().st_mtime_ns
        except OSError:
            mtime = 0
        if mtime and mtime != self.config_mtime:
            self.config_mtime = mtime
            self._read_config()
            changed = True
        elif not mtime:
            # The trainer writes config.toml before anything else: a log or checkpoints without it
            # is a damaged run, as `runs list` says (an engineer's review), not one yet to start.
            logged = (self.path / "metrics.jsonl").exists() or (self.path / "checkpoints").is_dir()
            gone = f"{CONFIG} is missing" if logged else None
            changed |= gone != self.config_error
            self.config_mtime, self.config_error = 0, gone
        restarts = self._metrics.restarts
        events = self._metrics.read_new()
        if self._metrics.restarts != restarts:  # rewritten (a resume trims what it will redo)
            self._reset()
            changed = True
        for event in events:
            self._add(event)
            changed = True
        if changed:
            self._read_samples()
        return changed

    def _reset(self) -> None:
        for series in (self.train, self.val, self.lr, self.speed):
            series.clear()
        self.last_train, self.last_eval, self.done, self.saved = {}, {}, None, []
        self.short_train, self.full_window, self.read_at = None, 0.0, None

    def _read_config(self) -> None:
        """Read through the schema's gate: a folder, /dev/zero or a FIFO at config.toml is never read."""
        try:
            text = read_text(self.path / CONFIG, MAX_CONFIG_BYTES)
            self.config = tomllib.loads(text)
            self.config_error = None
        except (OSError, TangError, tomllib.TOMLDecodeError, RecursionError) as exc:
            self.config_error = f"config.toml unreadable: {exc}"
            return
        # What `runs list` checks, so that a config cut short or holding a wrong type is damaged here
        # too (an engineer's review: the list said finished beside `runs list`'s damaged). A config
        # written by hand, without the trainer's head and end lines, is checked for its types only.
        try:
            check_config_text(text, self.config, self.path / CONFIG, hand_written_ok=True)
        except TangError as exc:
            self.config_error = str(exc)

    def _release_short(self, keep: bool = False) -> None:
        """A short line that is no longer the last goes on the curve (once dropped, the curve ended at
        a stop and never went on after the resume), unless it is one step's loss alone: noise.
        `keep`: it stays the latest line (a finished run), so the readout still says what it is."""
        short = self.short_train
        if short is not None and short[2] > 1 and (not self.train or self.train[-1] != short[:2]):
            self.train.append(short[:2])
        if not keep:
            self.short_train = None

    def _add(self, event: dict) -> None:
        kind = event.get("event")
        step = _number(event.get("step"))
        if kind == "checkpoint":
            self.saved = [event]
            return
        if kind == "done":
            self.done = event
            if event.get("status") == "finished":  # the budget's last steps: a point like the others,
                self._release_short(keep=True)  # and still the readout's "mean of the last N steps"
            return
        if step is None:
            return
        if _number(event.get("elapsed_s")) is not None:
            self.read_at = self.clock()
        if kind == "train":
            self.last_train = event
            window = _number(event.get("window_steps"))
            if window is not None:
                self.full_window = max(self.full_window, window)
            if (loss := _number(event.get("train_loss"))) is not None:
                self._release_short()  # a line came after it: the run went on (a resume), not its end
                if window is not None and window < self.full_window:
                    self.short_train = (step, loss, int(window))
                else:
                    self.train.append((step, loss))
            if (lr := _number(event.get("lr"))) is not None:
                self.lr.append((step, lr))
            short = window is not None and window < self.full_window  # a run's last few steps
            if (cps := _number(event.get("chars_per_s"))) is not None and not short:
                # a short last window holds the final evaluation's time too: 2,976 chars/s after
                # 61,327 while it ran (a TUI review), so the speed shown is the last full window's
                self.speed.append((step, cps))
        elif kind == "eval":
            self.last_eval = event
            if (loss := _number(event.get("val_loss"))) is not None:
                self.val.append((step, loss, _number(event.get("val_ppl"))))

    def _read_samples(self) -> None:
        """The latest evaluation's samples (samples.jsonl is small and rewritten rarely)."""
        path = self.path / SAMPLES
        try:
            mtime = path.stat().st_mtime_ns
            if mtime == self.samples_mtime:
                return
            data = read_bytes(path, MAX_JSONL_BYTES)  # never a device or a folder
        except (OSError, TangError):
            return
        lines = data.decode("utf-8", errors="replace").splitlines()
        self.samples_mtime = mtime
        latest: list[str] = []
        latest_step = None
        for line in lines:  # one poem a line, or one record with a list: keep those of the last step
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                continue
            texts = sample_texts(record)
            if not texts:
                continue
            step = record.get("step") if isinstance(record, dict) else None
            if step != latest_step:
                latest, latest_step = [], step
            latest += texts
        if latest:
            self.samples = latest

    # What the pane shows --------------------------------------------------------------------

    def lock_pid(self) -> int | None:
        """The pid of the process writing this run, when it runs on this host and is alive."""
        return RunDir(self.path).local_pid()

    def ended_elsewhere(self) -> bool:
        """A done line under another host's lock: a mirror of a run that has ended."""
        return self.done is not None and RunDir(self.path).locked_elsewhere()

    def writing(self) -> bool:
        """Whether a process still writes this run (RunDir.writing, with the log read so far)."""
        return RunDir(self.path).writing(ended=self.done is not None)

    def check_checkpoints(self) -> None:
        """Ask what `runs list` asks of a stopped run's checkpoints (meta.json, every sha256, none
        left), again only when a checkpoint file changed: a review truncated best/'s weights and the
        Train pane said finished beside `runs list`'s damaged."""
        from tangstudio.engine.runs.rundir import checkpoint_problems

        signature = []
        for path in sorted((self.path / "checkpoints").glob("*/*")):
            try:
                info = path.stat()
            except OSError:
                continue
            signature.append((path.name, path.parent.name, info.st_size, info.st_mtime_ns))
        sig = (tuple(signature), len(self.saved))
        if sig != self.checkpoint_sig:
            self.checkpoint_sig = sig
            problems = checkpoint_problems(RunDir(self.path), self.saved)
            self.checkpoint_error = problems[0] if problems else None

    @property
    def damage(self) -> str | None:
        """The first thing found wrong with the run's files (its config, then its checkpoints)."""
        return self.config_error if self.config_error is not None else self.checkpoint_error

    def status(self, alive: bool | None = None) -> str:
        """running | damaged (its config.toml or checkpoints) | finished | interrupted | failed | stopped | waiting."""
        if alive is None:
            alive = RunDir(self.path).is_running()
        # the checkpoints' part of the damage is found by check_checkpoints, off the UI thread; a
        # mirror holding the server's lock after its done line has ended, as `runs list` says
        if self.damage is not None and not (alive and not self.ended_elsewhere()):
            return "damaged"
        if self.done is not None:
            return str(self.done.get("status", "finished"))
        if alive:
            return "running"
        return "stopped" if self.train or self.val else "waiting"

    @property
    def step(self) -> int:
        return int(_number(self.last_train.get("step")) or (self.val[-1][0] if self.val else 0))

    @property
    def elapsed_s(self) -> float | None:
        # The done line's time first: the trainer's own "finished … after 143 s", where the last train
        # line (2:04) missed the final evaluation and checkpoint.
        for event in (self.done or {}, self.last_train, self.last_eval):
            if (value := _number(event.get("elapsed_s"))) is not None:
                return value
        return None

    def live_elapsed_s(self, running: bool) -> float | None:
        """`elapsed_s` of the latest line, plus the time since it was read while the run is running:
        a run logging every 40 s no longer shows the same elapsed time for 40 s (issue 25 item 4)."""
        elapsed = self.elapsed_s
        if elapsed is None or not running or self.read_at is None:
            return elapsed
        return elapsed + max(0.0, self.clock() - self.read_at)

    def eta_s(self, running: bool = False) -> float | None:
        """Seconds left from the run's budget (steps, minutes or epochs) and its pace so far; counting
        down between log lines while the run is running."""
        eta = self._eta_at_last_line()
        if eta is None or not running or self.read_at is None:
            return eta
        left = eta - max(0.0, self.clock() - self.read_at)
        # Past zero with budget left, the pace has slowed since the last line: unknown ("—") until
        # the next one, not a 0:00 that read "about to finish" at step 35 of 80 (a TUI review).
        return None if left <= 0 < eta else max(0.0, left)

    def live_clock(self) -> tuple[float | None, float | None]:
        """Elapsed and ETA of a running run, as the details show them between log lines."""
        return self.live_elapsed_s(running=True), self.eta_s(running=True)

    def _eta_at_last_line(self) -> float | None:
        elapsed, step = self.elapsed_s, self.step
        if elapsed is None or self.done is not None:
            return None
        budget = self.config
        if (steps := _number(budget.get("steps"))) and step > 0:
            return max(0.0, (steps - step) * elapsed / step)
        if minutes := _number(budget.get("minutes")):
            return max(0.0, minutes * 60 - elapsed)
        epoch = _number(self.last_train.get("epoch"))
        if (epochs := _number(budget.get("epochs"))) and epoch and epoch > 0:
            return max(0.0, (epochs - epoch) * elapsed / epoch)
        return None


def sample_texts(record) -> list[str]:
    """Poem texts from one samples.jsonl record, whatever shape the trainer gives it."""
    if isinstance(record, str):
        return [sample_shown(record)]
    if not isinstance(record, dict):
        return []
    for key in ("samples", "texts"):
        if isinstance(record.get(key), list):
            return [t for item in record[key] for t in sample_texts(item)]
    for key in ("text", "poem", "sample"):
        if isinstance(record.get(key), str):
            return [sample_shown(record[key])]
    return []


def find_runs(root: Path) -> list[Path]:
    """Poem run directories under `root` (a config.toml or metrics.jsonl): the Train pane's chart
    overlays them, so a lab run's 1,500 digit steps never squash the poem curves (issue 25 item 3);
    lab runs have the Lab pane."""
    return poem_runs(root)


def format_duration(seconds: float | None) -> str:
    """Elapsed or left, as the Train pane's narrow column holds it (2:23, 1:02:05, 104d 07:05:09)."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    return duration_text(seconds, compact=True)
