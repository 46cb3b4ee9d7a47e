"""One run session: what a trainer does to its run folder, whatever it trains.

The poem trainer (`training/trainer.py`) and the lab's (`lab/train.py`) both hold a run the same
way, through this class: the kernel lock taken before anything else, a new run's folder refused if
it exists and a resume refused if there is nothing to continue, the leftovers of a killed writer
cleared, `config.toml` written, `metrics.jsonl` trimmed to the checkpoint a resume continues from
and appended to one whole line at a time, `best/` and `last/` switched in as whole folders, the
`done` line when a session stops for any reason, and the command that resumes it. A future trainer
(fine-tuning, a new task) gets all of it by holding a `RunSession`.

Events leave through `emit`: to the callbacks (the CLI's views, the studio, tests) and, for the
logged kinds, to metrics.jsonl. Under DDP only rank 0 writes or calls back (`main=False` elsewhere).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from tangstudio.engine import paths
from tangstudio.engine.atomic import remove_leftovers
from tangstudio.engine.errors import TangError
from tangstudio.engine.runs import checkpoint as ckpt
from tangstudio.engine.runs import layout
from tangstudio.engine.runs.config import write_config
from tangstudio.engine.runs.kinds import POEM, lab_command, lab_task, stated_kind
from tangstudio.engine.runs.layout import META
from tangstudio.engine.runs.lock import RunLock
from tangstudio.engine.runs.metrics import MetricsWriter, trim_after
from tangstudio.engine.runs.rundir import RunDir, resume_refusal, run_path

Callback = Callable[[dict[str, Any]], None]
POEM_COMMAND = "train --headless"


def resume_command(name: str, command: str = POEM_COMMAND) -> str:
    """The command that continues run `name`, with --home (absolute) when the home is not the
    platform default: paths.home_args, which the studio's hint shares."""
    where = "".join(f"{shlex.quote(word)} " for word in paths.home_args())
    return f"tangstudio {where}{command} --run {shlex.quote(name)} --resume"


def callbacks_of(callbacks: Callback | Iterable[Callback] | None) -> list[Callback]:
    if callbacks is None:
        return []
    return [callbacks] if callable(callbacks) else list(callbacks)


def failure_status(exc: BaseException) -> str:
    """`interrupted` for a second Ctrl+C (KeyboardInterrupt), `failed` for anything else."""
    return "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"


def failure_text(exc: BaseException) -> str:
    """A TangError's own line; anything else with its type, as the `done` line's `error`."""
    return str(exc) if isinstance(exc, TangError) else f"{type(exc).__name__}: {exc}"


def trained_files(run: RunDir) -> list[str]:
    """What of a run's training is in its folder: its checkpoints, a metrics log with lines."""
    kept = [f"{layout.CHECKPOINTS}/{d.name}/" for d in (run.best_dir, run.last_dir) if os.path.lexists(d)]
    try:
        if run.metrics_path.stat().st_size > 0:
            kept.append(layout.METRICS)
    except OSError:
        pass
    return kept


def check_request(run: RunDir, resume: bool) -> None:
    """Refuse a new run whose folder holds a run, and a resume of a run that has nothing to resume.

    `RunSession.claim` asks under the run's lock; a face may also ask before it imports torch and
    loads the corpus (seconds), so that a mistyped name is refused at once. Reads only."""
    if resume and not run.path.is_dir():
        raise TangError(f"cannot resume: unknown run {run.name!r} (no {run.path})")
    kept = trained_files(run) if not run.exists() else []
    if kept:  # config.toml lost, the training kept: a "new" run here overwrote both checkpoints
        raise TangError(
            f"run {run.name!r} holds {' and '.join(kept)} but no {layout.CONFIG} ({run.config_path}): "
            f"put it back to {'resume' if resume else 'continue'} the run, or move the folder away "
            "to start a new run of this name"
        )
    if resume and not run.exists():
        raise TangError(
            f"cannot resume run {run.name!r}: it stopped before its configuration was "
            f"written (no {run.config_path}); start it again without --resume"
        )
    if not resume and run.exists():
        raise TangError(
            f"run {run.name!r} already exists at {run.path}; add --resume to continue it "
            f"or choose another --run name"
        )


class Resumable(Protocol):
    """A trainer's config as `preflight` reads it (TrainConfig, LabConfig)."""

    @property
    def run(self) -> str | None: ...

    @property
    def resume(self) -> bool: ...

    def merged_for_resume(self, stored: dict[str, Any], given: set[str]) -> Any: ...


def preflight(config: Resumable, given: set[str]) -> None:
    """Say at once what a trainer would refuse only after torch and its data have loaded (seconds):
    a new run whose name is taken, a resume of nothing, a damaged run, a resume that changes what
    cannot change. The trainer asks again under the run's lock (`claim`); this only reads. A run
    being trained now is left to the lock, whose refusal names the process that holds it."""
    if not config.run:
        return
    run = run_path(config.run)
    if run.path.is_dir() and run.is_running():
        return
    check_request(run, config.resume)
    if config.resume:
        check_kind(run, getattr(config, "kind", POEM))  # a TrainConfig has no kind: it trains poems
        run.check_files()
        refused = resume_refusal(run)  # a damaged checkpoint, a last/ gone: before the studio opens
        if refused is not None:
            raise TangError(refused)
        config.merged_for_resume(run.config(), given)


def check_kind(run: RunDir, wanted: str) -> None:
    """A resume by the other trainer (a lab run by `train`, a poem run by `lab digits train`) gets
    one line naming the command that continues it, not the other config's unknown options."""
    stored = stated_kind(run.path)
    if stored is None or stored == wanted:  # unreadable: check_files names the damaged file
        return
    if stored == POEM:
        raise TangError(f"{run.name} is a poem run, not a lab run: resume it with {resume_command(run.name)}")
    task = lab_task(run.path)
    how = (
        f"resume it with {resume_command(run.name, lab_command(task))}"
        if task == "digits"
        else f"`tangstudio lab {task} run` makes such runs"
    )
    raise TangError(f"{run.name} is a lab {task} run, not a poem run: {how}")


def writable(folder: Path) -> None:
    """Raise now the OSError a checkpoint would meet in `folder`: a read-only checkpoints/ was found
    only at the first save, after the data load and minutes of training (an engineer's review)."""
    import tempfile

    if folder.is_dir():
        with tempfile.TemporaryFile(dir=folder):
            pass


class RunSession:
    """A trainer's hold on `<home>/runs/<name>/` from the lock to the last line.

    `base` is what every logged line carries before its own keys (the poem runs' null base keys and
    their `ppl_kind`; empty for lab runs). `command` is the CLI command that trains this kind of
    run, for the resume hint.
    """

    def __init__(
        self,
        run: RunDir,
        callbacks: Callback | Iterable[Callback] | None = None,
        *,
        command: str = POEM_COMMAND,
        base: Mapping[str, Any] | None = None,
        main: bool = True,
    ) -> None:
        self.run = run
        self.callbacks = callbacks_of(callbacks)
        self.command = command
        self.base = dict(base or {})
        self.main = main
        self.lock: RunLock | None = None
        self.writer: MetricsWriter | None = None
        self.metrics_kept: Path | None = None  # a resume's copy of a metrics.jsonl with damaged lines
        self.created_dir = False  # this process made the folder: removed again if nothing was written
        self.config_written = False  # ...and its config.toml, until training starts
        self.saved_step: int | None = None  # the step of the newest `last/`
        self.save_s = 0.0  # time spent writing checkpoints
        self.done_logged = False  # a session has one `done` line: `fail` never adds a second

    @property
    def resume_command(self) -> str:
        return resume_command(self.run.name, self.command)

    # ---- claim and open ------------------------------------------------------------------------
    def claim(self, resume: bool) -> bool:
        """Lock the folder (making it for a new run), clear a killed writer's leftovers and check the
        request: a new run must not exist, a resumed one must. Returns whether `last/` holds a
        checkpoint to continue from (False: a resume of a run killed before its first one)."""
        run = self.run
        if not run.path.is_dir():
            check_request(run, resume)
            run.path.mkdir(parents=True)
            self.created_dir = True
        self.lock = run.lock()  # one trainer per run; a dead trainer's lock never blocks
        ckpt.clean_checkpoints(run.checkpoints)
        remove_leftovers(run.path)
        check_request(run, resume)  # again under the lock: the folder may have changed since
        for folder in (run.checkpoints, run.checkpoints / "last", run.checkpoints / "best"):
            writable(folder)  # a save replaces last/ and best/ and deletes what they held
        if resume:
            run.check_files()  # a damaged run is refused before anything is written into it
            refused = resume_refusal(run)
            if refused is not None:
                raise TangError(refused)
            return bool((run.last_dir / META).is_file())
        return False

    def write_config(self, config: Mapping[str, Any]) -> None:
        write_config(self.run.config_path, dict(config))
        self.config_written = True

    def open(self, config: Mapping[str, Any], resumed_step: int | None, clear_samples: bool = False) -> None:
        """Start writing: config.toml, metrics.jsonl cut back to `resumed_step` on a resume."""
        run = self.run
        run.path.mkdir(parents=True, exist_ok=True)
        self.write_config(config)
        if resumed_step is not None:
            self.metrics_kept = trim_after(run.metrics_path, resumed_step)
            if clear_samples and run.samples_path.is_file():
                run.samples_path.write_text("", encoding="utf-8")
        self.writer = MetricsWriter(run.metrics_path)

    def logged_eval(self, step: int) -> dict[str, Any] | None:
        """The evaluation the log holds at `step`, if any: a resume of a run whose budget is spent
        need not evaluate and save it again (an engineer's review: a duplicate eval and two
        checkpoint lines in metrics.jsonl each time)."""
        from tangstudio.engine.runs.metrics import read_jsonl_tail

        found = [
            e
            for e in read_jsonl_tail(self.run.metrics_path).events
            if e.get("event") == "eval" and e.get("step") == step
        ]
        return found[-1] if found else None

    def close(self) -> None:
        """Close the log and release the lock; a new run that never began training leaves no folder."""
        if self.writer is not None:
            self.writer.close()
        if self.lock is not None:
            self.lock.release()
            self.lock = None
        if self.created_dir and self.writer is None:
            with contextlib.suppress(OSError):  # no burnt name for a run that failed before training
                if self.config_written:
                    self.run.config_path.unlink()
                self.run.path.rmdir()

    # ---- events --------------------------------------------------------------------------------
    def emit(self, event: Mapping[str, Any], log: bool = False) -> dict[str, Any]:
        """Hand an event to the callbacks; a logged one is first written to metrics.jsonl (with `time`)."""
        record = dict(event)
        if not self.main:
            return record
        if log:
            record = {
                **{k: None for k in self.base},
                **record,
                **{k: v for k, v in self.base.items() if v is not None},
            }
            if self.writer is not None:
                record = self.writer.write(record)
                self.done_logged |= record.get("event") == "done"
        for callback in self.callbacks:
            callback(record)
        return record

    def fail(self, exc: BaseException, fields: Mapping[str, Any]) -> None:
        """The `done` line of a session that stopped on an exception (a full disk cannot take it either).

        Nothing when the session already logged its `done` line: the run's outcome was settled there,
        and what fails after it (printing that line to a terminal that has just closed) must not turn
        an interrupted run into a failed one with a second, contradicting line."""
        if not self.main or self.writer is None or self.done_logged:
            return
        with contextlib.suppress(OSError):
            self.emit(
                {"event": "done", "status": failure_status(exc), **fields, "error": failure_text(exc)},
                log=True,
            )

    def check_still_ours(self) -> None:
        """Refuse to write into a run folder deleted or replaced since this session locked it: the
        files would land in another run's folder, or make a half one that nothing lists as damaged."""
        if self.lock is not None and not self.lock.still_held():
            raise TangError(
                f"run {self.run.name!r}: its folder {self.run.path} was deleted or replaced while it "
                "trained; stopped without writing into it"
            )

    # ---- checkpoints ---------------------------------------------------------------------------
    def save(
        self,
        which: str,
        weights: Mapping[str, Any],
        meta: Mapping[str, Any],
        state: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> float:
        """Switch in `best/` or `last/` (with the training state), log the `checkpoint` line; returns
        the seconds it took. `fields` are the line's extra keys (epoch, val_loss ...)."""
        self.check_still_ours()
        started = time.perf_counter()
        directory = self.run.checkpoints / which
        if state is not None:
            ckpt.save_checkpoint(directory, dict(weights), dict(meta), dict(state[0]), dict(state[1]))
            self.saved_step = int(meta["step"])
        else:
            ckpt.save_checkpoint(directory, dict(weights), dict(meta))
        save_s = time.perf_counter() - started
        self.save_s += save_s
        self.emit(
            {
                "event": "checkpoint",
                "step": meta["step"],
                **(fields or {}),
                "kind": which,
                "path": str(directory),
                "save_s": round(save_s, 4),
            },
            log=True,
        )
        return save_s
