"""`train()`: the one entry point both faces use to train (or resume) a poem run.

It validates the options, joins the DDP group when started by torchrun, runs a `Trainer`
(training/trainer.py: batches, steps, evaluation, checkpoints) and turns what can go wrong into one
line: a full disk or a read-only folder says whether the run can be resumed and how. Progress leaves
through the callbacks (a dict per event) so the CLI, the studio and tests render it as they like;
rank 0 also appends every train/eval/checkpoint/done event to metrics.jsonl (runs/session.py).
"""

from __future__ import annotations

import dataclasses
import errno
import shlex
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tangstudio.engine.corpus.selection import check_selection
from tangstudio.engine.errors import TangError
from tangstudio.engine.runs import layout
from tangstudio.engine.runs.events import METRIC_KEYS
from tangstudio.engine.runs.rundir import run_path
from tangstudio.engine.runs.session import Callback, resume_command
from tangstudio.engine.training import distributed as D
from tangstudio.engine.training.config import TrainConfig
from tangstudio.engine.training.device import resolve_device
from tangstudio.engine.training.init_from import adopt
from tangstudio.engine.training.memory import tame_cpu_memory
from tangstudio.engine.training.trainer import Trainer

__all__ = ["METRIC_KEYS", "RunResult", "given_options", "resume_command", "train"]


@dataclass
class RunResult:
    name: str
    path: Path
    status: str  # finished | interrupted | failed
    step: int
    epoch: float
    best_val_loss: float | None
    best_val_ppl: float | None
    ppl_kind: str
    elapsed_s: float
    resume_command: str

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "path": str(self.path)}


def next_move(config: TrainConfig, exc: OSError | None = None) -> str:
    """What is true after a failure: a run whose config.toml was never written cannot be resumed,
    and one refused a folder's permission will be refused again until the folder is writable."""
    name = config.run or ""
    run = run_path(name)
    refused = isinstance(exc, PermissionError) or getattr(exc, "errno", None) == errno.EROFS
    if not run.config_path.is_file():
        mend = "make the home writable (or give another --home), then " if refused else ""
        return f"nothing was saved; {mend}start it again with the same command (--run {shlex.quote(name)})"
    # A folder refused will be refused again: the resume alone went round in a loop (an engineer's review)
    mend = f"make {run.path} writable, then " if refused else ""
    if not (run.last_dir / layout.META).is_file():  # stopped before its first checkpoint was whole
        # a best/ may exist (a disk filled at the first last/): it is not what a resume starts from
        return (
            f"no resumable checkpoint (last/) was written yet; {mend}a resume starts it from step 0: "
            f"{resume_command(name)}"
        )
    return f"the last checkpoint is intact; {mend}resume with: {resume_command(name)}"


def given_options(config: TrainConfig) -> set[str]:
    """Options a programmatic caller set away from the defaults (the CLI passes what the user typed,
    cli/options.given_options)."""
    default = TrainConfig(run=config.run)
    return {f.name for f in dataclasses.fields(config) if getattr(config, f.name) != getattr(default, f.name)}


def _out_of_memory(exc: BaseException) -> bool:
    """An allocation that failed: Python's MemoryError, torch's OutOfMemoryError (a RuntimeError),
    or the CPU allocator's "can't allocate memory"."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc)
    return "can't allocate memory" in text or "out of memory" in text.lower()


def train(
    config: TrainConfig,
    callbacks: Callback | Iterable[Callback] | None = None,
    should_stop: Callable[[], bool] | None = None,
    given: set[str] | None = None,
) -> RunResult:
    """Train (or resume) the run `config.run`; returns when the budget is spent or `should_stop()` says so.

    `given` names the options the user set explicitly; on resume only budget/device options among
    them may differ from the stored config. Raises TangError for bad input before writing anything.
    """
    config = dataclasses.replace(config).validate()
    tame_cpu_memory(config.forms)  # the CLI did it already, before torch (training/memory.py)
    given = given if given is not None else given_options(config)
    if config.init_from and not config.resume:  # the source's shape and script, before anything is written
        config = adopt(config, given)[0]
    if not config.resume:  # an unknown poet or an empty selection: refused before the run's folder is made
        check_selection(config.corpus, config.script, config.forms, config.author)
    info = D.from_env()
    device = resolve_device(config.device, info.local_rank if info.enabled else None)
    D.init(info, device)
    trainer: Trainer | None = None
    try:
        trainer = Trainer(config, info, device, callbacks, should_stop, given)
        status, epoch, elapsed_s = trainer.run()
        D.barrier(info)  # every rank done with its collectives before any tears gloo down
    except TangError:
        raise
    except OSError as exc:  # a full disk, a folder made read-only: one line, the checkpoint is intact
        where = f" ({exc.filename})" if exc.filename else ""
        # before the loop (a lock refused, a read-only folder) nothing trained: it did not "stop"
        how = "stopped" if trainer is not None and trainer.started else "could not start"
        raise TangError(
            f"run {config.run!r} {how}: {exc.strerror or exc}{where}; {next_move(config, exc)}"
        ) from None
    except BaseException as exc:
        if _out_of_memory(exc):
            # Sizes the checks accept (hidden 8192, 16 layers) can need tens of GB: one line, not a
            # forty-line allocator traceback (an engineer's review). Here, not in an `except` of its
            # own: a bare `raise` there skipped this handler for every other RuntimeError (a rank
            # whose peer died no longer said so).
            raise TangError(
                f"run {config.run!r} ran out of memory (embed {config.embed}, hidden {config.hidden}, "
                f"{config.layers} layers, batch {config.batch_size}): train a new run with a smaller model "
                "or batch (a resume keeps these sizes)"
            ) from None
        if info.enabled and not isinstance(exc, KeyboardInterrupt):
            print(
                f"tangstudio: rank {info.rank} of {info.world} stopped: {type(exc).__name__}: {exc}. "
                f"The last checkpoint of run {config.run!r} is intact; resume with: {resume_command(config.run or '')}",
                file=sys.stderr,
                flush=True,
            )
        raise
    finally:
        D.shutdown(info)
    cfg, live = trainer.config, trainer.live
    return RunResult(
        cfg.run or "",
        trainer.folder.path,
        status,
        live.step,
        epoch,
        live.best_val_loss,
        live.best_val_ppl,
        cfg.ppl_kind,
        elapsed_s,
        resume_command(cfg.run or ""),
    )
