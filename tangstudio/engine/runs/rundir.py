"""A run is a directory under `<home>/runs/<name>/`; this module creates, opens and lists them."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tangstudio.engine import paths
from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import PplKind, ppl_kind
from tangstudio.engine.runs import layout
from tangstudio.engine.runs.checkpoint import read_config as read_model_config
from tangstudio.engine.runs.checkpoint import read_meta
from tangstudio.engine.runs.config import read_config
from tangstudio.engine.runs.kinds import LAB, POEM, run_kind
from tangstudio.engine.runs.layout import META, STATE, STATE_META, WEIGHTS
from tangstudio.engine.runs.lock import RunLock, holder_alive, read_lock
from tangstudio.engine.runs.metrics import read_jsonl_tail
from tangstudio.engine.runs.schema import (
    MAX_CONFIG_BYTES,
    DamagedFile,
    check_meta_summary,
    check_sample,
    check_train_state,
    read_bytes,
    read_text,
)
from tangstudio.engine.runs.train_config import stored_config

MAX_WEIGHTS_BYTES = 16 << 30  # larger than any model this project trains; /dev/zero is refused anyway


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    config_path = property(lambda self: self.path / layout.CONFIG)
    metrics_path = property(lambda self: self.path / layout.METRICS)
    samples_path = property(lambda self: self.path / layout.SAMPLES)
    checkpoints = property(lambda self: self.path / layout.CHECKPOINTS)
    best_dir = property(lambda self: layout.checkpoint_dir(self.path, layout.BEST))
    last_dir = property(lambda self: layout.checkpoint_dir(self.path, layout.LAST))
    lock_path = property(lambda self: self.path / layout.LOCK)

    def exists(self) -> bool:
        """True when the run's config.toml is there, even damaged (it is then reported, not ignored)."""
        return os.path.lexists(self.config_path)

    def config(self) -> dict[str, Any]:
        return read_config(self.config_path)

    def lock(self) -> RunLock:
        """Take the run's lock (the folder must exist); one line and no lock if another process holds it."""
        return RunLock.acquire(self.lock_path, self.name)

    def check_files(self) -> None:
        """Raise DamagedFile unless config.toml reads cleanly and the JSONL logs are files, if present.

        Called before a resume writes anything: a run whose metrics.jsonl is a folder is refused
        whole, not half-resumed, and a meta.json that is a folder or device is not taken for "no
        checkpoint yet" (which would start over). Damaged lines inside the logs are dropped.
        """
        self.config()
        metas = [directory / META for directory in (self.best_dir, self.last_dir)]
        for path in (self.metrics_path, self.samples_path, *metas):
            if os.path.lexists(path) and not path.is_file():
                raise DamagedFile(
                    path, "is a folder, not a file" if path.is_dir() else "is not a regular file"
                )

    def _lock(self) -> dict[str, Any] | None:
        return read_lock(self.lock_path)  # None when absent or damaged; never reads a device

    def local_pid(self) -> int | None:
        """The pid of the process training this run, when it runs on this host and is alive."""
        info = self._lock()
        return None if info is None or _foreign(info) else _alive_pid(info)

    def is_running(self) -> bool:
        """True while the process that holds the lock is alive; another host's lock counts as alive,
        since its process cannot be checked from here. A lock left by a killed process does not."""
        info = self._lock()
        return info is not None and (_foreign(info) or _alive_pid(info) is not None)

    def writing(self, ended: bool) -> bool:
        """Whether a process still writes the run: its lock is live, unless the log has ended (a done
        line) and the lock is another host's, as a mirror synced without --delete keeps the server's
        run.lock after the run ended. `runs list` and the studio's Train pane both ask this."""
        return self.is_running() and not (ended and self.locked_elsewhere())

    def locked_elsewhere(self) -> bool:
        """Whether the lock names another host (whose process cannot be checked from here)."""
        info = self._lock()
        return info is not None and _foreign(info)


def _foreign(lock: dict[str, Any]) -> bool:
    return lock.get("host") not in (None, socket.gethostname())


def _alive_pid(lock: dict[str, Any]) -> int | None:
    return holder_alive(lock)  # also None when the pid now belongs to a later process


def check_name(name: str) -> str:
    return paths.check_name(name, "run")


def run_path(name_or_path: str | Path) -> RunDir:
    text = str(name_or_path)
    if "/" in text or "\\" in text or text in (".", ".."):
        return RunDir(Path(text).expanduser())
    return RunDir(paths.runs_dir() / check_name(text))


def open_run(name_or_path: str | Path, damaged: bool = False) -> RunDir:
    """The run folder named; `damaged` also accepts one `runs list` lists without its config.toml
    (an engineer's review: `runs list` showed it damaged and `runs show` called it unknown)."""
    run = run_path(name_or_path)
    if not (run.exists() or (damaged and is_run_folder(run))):
        raise TangError(f"unknown run {str(name_or_path)!r} (no {run.config_path})")
    return run


def is_run_folder(run: RunDir) -> bool:
    """A run folder, if damaged: its config.toml, its metrics or its checkpoints are there."""
    return run.exists() or os.path.lexists(run.metrics_path) or os.path.lexists(run.checkpoints)


@dataclass
class RunSummary:
    name: str
    path: Path
    arch: str
    params: int | None
    steps: int
    best_val_loss: float | None
    best_val_ppl: float | None
    ppl_kind: PplKind | None  # None for a lab run: its measure is accuracy (best_val_acc), not perplexity
    status: str  # running | finished | interrupted | failed | stopped (died without saying) | damaged
    corpus: str
    forms: str
    # One line per problem, naming the file: "config.toml: not valid TOML (...)",
    # "metrics.jsonl: 2 damaged lines skipped (line 7: ...)". Any but skipped lines make it `damaged`.
    problems: list[str] = field(default_factory=list)
    kind: str = "poem"  # poem | lab (runs/kinds.py): lab runs list apart from the poem runs
    best_val_acc: float | None = None  # lab runs: their measure is accuracy, not perplexity
    author: str = ""  # a run trained on one poet's poems (train --author): not the whole corpus
    # "cells" for a run on the readable cells: one bias a gate, so fewer parameters than the same
    # network on PyTorch's fused kernels (b_ih and b_hh), and `runs list` says which it counted.
    impl: str = "fused"
    # The step last/ holds, when it is behind `steps`: a run killed between checkpoints logged steps
    # a resume will train again (`runs list` showed 800 and the resume began at 788).
    saved_step: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The summary as `runs list --json` prints it. `ppl_condition` names what best_val_ppl read,
        as `eval --json` names what its `ppl` read: training's val sample is read untitled, while
        eval's headline is the model as trained (a review: 958.76 there, 1084.89 here, unnamed)."""
        condition = "untitled" if self.best_val_ppl is not None else None
        # "run": the name as eval, compare and lab call it ("name" kept; an engineer's review)
        return {**self.__dict__, "run": self.name, "path": str(self.path), "ppl_condition": condition}


def problem_line(run: RunDir, exc: TangError) -> str:
    """`file: reason` for a DamagedFile inside the run, else the error's own line."""
    if isinstance(exc, DamagedFile):
        try:
            return f"{exc.path.relative_to(run.path)}: {exc.reason}"
        except ValueError:
            pass
    return str(exc)


def checkpoint_metas(run: RunDir) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The meta.json of `best` and `last` that read cleanly, and a problem line for each that does not."""
    metas: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for which, directory in (("best", run.best_dir), ("last", run.last_dir)):
        if not os.path.lexists(directory / META):
            continue
        try:
            metas[which] = check_meta_summary(read_meta(directory), directory / META)
        except TangError as exc:
            problems.append(problem_line(run, exc))
    return metas, problems


def check_weights(run: RunDir, metas: dict[str, dict[str, Any]]) -> list[str]:
    """Problem lines for weight and training-state files that are not what meta.json recorded.

    Torch-free (sha256 of the bytes), so `runs show` can vouch for a checkpoint without loading it.
    """
    import hashlib

    problems = []
    for which, meta in metas.items():
        directory = run.best_dir if which == "best" else run.last_dir
        files = [(directory / WEIGHTS, meta.get("weights_sha256"))]
        if os.path.lexists(directory / STATE_META):
            try:
                info = json.loads(read_text(directory / STATE_META, MAX_CONFIG_BYTES))
                if not isinstance(info, dict):
                    raise DamagedFile(directory / STATE_META, "not a JSON object")
                check_train_state(info, directory / STATE_META)
                files.append((directory / STATE, info.get("sha256")))
            except TangError as exc:
                problems.append(problem_line(run, exc))
            except (FileNotFoundError, ValueError, RecursionError):
                problems.append(f"{(directory / STATE_META).relative_to(run.path)}: not valid JSON")
        for path, expected in files:
            try:
                blob = read_bytes(path, MAX_WEIGHTS_BYTES)
            except FileNotFoundError:
                problems.append(f"{path.relative_to(run.path)}: missing")
                continue
            except TangError as exc:
                problems.append(problem_line(run, exc))
                continue
            if hashlib.sha256(blob).hexdigest() != expected:
                problems.append(f"{path.relative_to(run.path)}: does not match its recorded sha256")
            elif path.name == WEIGHTS and (misfit := _shape_problem(run, directory, meta)):
                problems.append(misfit)
    return problems


def _shape_problem(run: RunDir, directory: Path, meta: dict[str, Any]) -> str | None:
    """A meta.json that describes another model than its weights (arch gru over an LSTM's, hidden 64
    over 32): `generate` and `eval` refused it, while `runs list` said finished and a resume wrote
    over it (a reliability review). Torch-free: the shapes meta.json implies against the safetensors
    header, for the fused rnn/lstm/gru a poem run trains (a BiLSTM's or a lab model's are left to
    their loaders)."""
    from tangstudio.engine.models.shapes import fused_causal_shapes
    from tangstudio.engine.runs.folder_fd import OpenFolder

    if meta.get("kind") == LAB:
        return None
    try:
        config, vocab = read_model_config(directory, meta)
        expected = fused_causal_shapes(config)
        if expected is None:
            return None
        with OpenFolder(directory) as folder:
            found = folder.tensor_shapes(WEIGHTS)
    except TangError as exc:
        return problem_line(run, exc)
    if found == expected and config.vocab_size == len(vocab):
        return None
    return (
        f"{(directory / META).relative_to(run.path)}: does not fit its weights (the shapes it implies differ)"
    )


def missing_checkpoints(events: list[dict[str, Any]]) -> list[str]:
    """A problem line when the log records a checkpoint saved and none is there (checkpoints/ deleted
    by hand): `runs list` said finished, and `generate` "has no checkpoint yet" (a review)."""
    saved = [e for e in events if e.get("event") == "checkpoint"]
    if not saved:
        return []
    return [
        f"checkpoints/: none left, though metrics.jsonl records one saved at step {saved[-1].get('step')}"
    ]


def checkpoint_problems(run: RunDir, events: list[dict[str, Any]]) -> list[str]:
    """What `runs list` finds wrong with a stopped run's checkpoints (meta.json, the sha256 of every
    file, one missing): the studio's Train pane asks the same, so the two faces agree."""
    metas, problems = checkpoint_metas(run)
    problems += check_weights(run, metas)
    if not metas and not problems:
        problems += missing_checkpoints(events)
    return problems


def resume_refusal(run: RunDir) -> str | None:
    """Why resuming `run` would destroy what it holds, or None. An engineer's review: a run whose
    last/ was deleted was "resumed" from step 0, which cut its metrics back and replaced its best/;
    a run with a damaged best/ (a meta.json of garbage, weights not matching their sha256) was
    resumed over it. A run killed before its first last/ checkpoint starts over."""
    metas, problems = checkpoint_metas(run)
    problems += check_weights(run, metas)
    name = run.name
    if problems:
        look = f": see `tangstudio runs show {name}`" if run.path.parent == paths.runs_dir() else ""
        # best/ whole beside a damaged last/ (a truncated copy): say what still works, which only
        # deleting last/ by hand used to reveal (an engineer's review)
        best_whole = "best" in metas and not any("checkpoints/best" in p for p in problems)
        if best_whole and run.config().get("kind") != LAB:
            look = (
                f"; best/ (step {metas['best'].get('step')}) is whole: train a new run with "
                f"--init-from {name} to start from it{look.replace(': see', ', or see')}"
            )
        return f"run {name} is damaged ({problems[0]}), and a resume would write over it{look}"
    if "last" in metas:
        return None
    # A last/ the log says was saved, and is gone (deleted by hand): a kill during the first save
    # can leave best/ without last/ and no such line, and that run starts over as it always did.
    events = read_jsonl_tail(run.metrics_path).events
    if not any(e.get("event") == "checkpoint" and e.get("kind") == "last" for e in events):
        return None
    where = f" (best/ at step {metas['best'].get('step')})" if "best" in metas else ""
    init_from = "best" in metas and run.config().get("kind") != LAB  # --init-from reads best/
    instead = "train a new run" + (f", with --init-from {name} to start from its best" if init_from else "")
    return (
        f"run {name} has no last/ checkpoint to resume from, though it saved checkpoints{where}: "
        f"a resume would start it over and overwrite them; {instead}"
    )


def _unusable(config: dict[str, Any]) -> str | None:
    """Why a poem run's config, read whole and of the right types, could not train (layers = -1, a
    key of no option: a hand edit), or None. A resume refuses the same (TrainConfig.merged_for_resume)."""
    if not config or config.get("kind") == LAB:
        return None
    try:
        stored_config(config)
    except TangError as exc:
        return str(exc)
    return None


def summarize(run: RunDir, weights: tuple[str, ...] = ("best", "last")) -> RunSummary:
    """What `runs list` shows of one run; a damaged file is named in `problems`, never raised.

    The weights of the checkpoints named in `weights` are checked against their recorded sha256
    (read whole: about 15 ms for the shipped model's 22 MB, three times that for `last` with its
    optimizer state). `best` is what `generate --model` loads and `last` what a resume does, so a
    run with either damaged is listed as damaged, not finished, as `runs show` says (an engineer's
    review found `runs list` saying finished beside `runs show`'s damaged). A running run's are not
    checked: a checkpoint may be replaced between the reading of its meta.json and of its weights.
    """
    problems: list[str] = []
    try:
        config = run.config()
    except TangError as exc:
        config = {}
        problems.append(problem_line(run, exc))
    unusable = _unusable(config)
    if unusable is not None:
        problems.append(f"config.toml: {unusable}")
    metrics = read_jsonl_tail(run.metrics_path)  # a large file: its end (steps, status) is enough
    samples = read_jsonl_tail(run.samples_path, check_sample)
    problems += [p for p in metrics.problems("metrics.jsonl") + samples.problems("samples.jsonl")]
    metas, meta_problems = checkpoint_metas(run)
    last = metrics.events[-1] if metrics.events else {}
    running = run.writing(ended=last.get("event") == "done")
    weight_problems = [] if running else check_weights(run, {k: m for k, m in metas.items() if k in weights})
    if not running and not metas and not meta_problems:
        weight_problems += missing_checkpoints(metrics.events)
    problems += meta_problems + weight_problems
    events = metrics.events
    saved_at = [int(m["step"]) for m in metas.values() if isinstance(m.get("step"), int)]
    steps = max([e["step"] for e in events] + saved_at, default=0)
    # checkpoints without their log (deleted by hand) read "0 steps, stopped" (an engineer's review)
    log_gone = bool(metas) and not os.path.lexists(run.metrics_path)
    if log_gone:
        problems.append(f"metrics.jsonl is missing (its checkpoints are at step {max(saved_at, default=0)})")
    evals = [e for e in events if e.get("event") == "eval" and e.get("val_loss") is not None]
    # The best is what best/ holds, never an evaluation whose save failed or was killed (issue 26).
    best = metas.get("best")
    done = [e for e in events if e.get("event") == "done"]
    damaged = bool(
        meta_problems
        or weight_problems
        or metrics.damage
        or samples.damage
        or not config
        or unusable
        or log_gone
    )
    if damaged:
        status = "damaged"
    elif running:
        status = "running"
    elif done:
        status = str(done[-1].get("status", "finished"))
    else:
        status = "stopped"
    params = next((m.get("params") for m in metas.values()), None)
    side = LAB if config.get("kind") == LAB else run_kind(run.path) if not config else POEM
    kind = None if side == LAB else ppl_kind(str(config.get("arch", "")))
    return RunSummary(
        name=run.name,
        path=run.path,
        arch=str(config.get("arch", "?")),
        impl=str(config.get("impl", "fused")),
        params=params,
        steps=steps,
        best_val_loss=best.get("val_loss") if best else None,
        best_val_ppl=best.get("val_ppl") if best else None,
        ppl_kind=kind,
        status=status,
        corpus=str(config.get("corpus", "?")),
        forms=str(config.get("forms", "?")),
        problems=problems,
        best_val_acc=max((e["val_acc"] for e in evals if isinstance(e.get("val_acc"), float)), default=None),
        kind=side,
        author=str(config.get("author") or ""),
        saved_step=_behind(metas.get("last"), steps),
    )


def _behind(last: dict[str, Any] | None, steps: int) -> int | None:
    """last/'s step where it is behind the steps logged, else None."""
    step = last.get("step") if last else None
    return step if isinstance(step, int) and step < steps else None


def runs_trained_on(corpus: str) -> list[str]:
    """The runs of the home whose config.toml names `corpus` (read alone: no weights checked)."""
    root = paths.runs_dir()
    found = []
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        if path.name.startswith(".") or not path.is_dir():
            continue
        try:
            config = RunDir(path).config()
        except TangError:
            continue
        if config.get("corpus") == corpus:
            found.append(path.name)
    return found


def refuse_replacing_a_used_corpus(corpus: str) -> None:
    """Before `corpus import --force` reads or writes anything: runs trained on the corpus read its
    vocabulary, so replacing it left them unable to be evaluated or resumed, and the old one gone."""
    users = runs_trained_on(corpus)
    if users:  # said as a sentence (it read "corpus 'mini' trained m1: replaced, they …": a review)
        who = f"run {users[0]} was" if len(users) == 1 else f"runs {', '.join(users)} were"
        raise TangError(
            f"{who} trained on corpus {corpus!r}: if it were replaced and its "
            "vocabulary changed, they could no longer be evaluated or resumed; import under another "
            "name, or add --orphan-runs to replace it anyway"
        )


def list_runs(kind: str | None = None) -> list[RunSummary]:
    """Every run folder in the home, damaged ones included (shown as such, never skipped).

    `kind` keeps only poem or only lab runs (runs/kinds.py); None lists both. Hidden folders (a
    checkpoint or import being written) are not runs.
    """
    root = paths.runs_dir()
    if not root.is_dir():
        return []
    summaries = []
    for path in sorted(root.iterdir()):
        run = RunDir(path)
        if path.name.startswith(".") or not path.is_dir():
            continue
        if is_run_folder(run):
            summaries.append(summarize(run))
    return [r for r in summaries if kind is None or r.kind == kind]
