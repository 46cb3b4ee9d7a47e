"""A run is a directory under `<home>/runs/<name>/`; this module creates, opens and lists them."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path

from tangstudio.engine import paths
from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import ppl_kind
from tangstudio.engine.runs import layout
from tangstudio.engine.runs.checkpoint import META, read_meta
from tangstudio.engine.runs.config import read_config
from tangstudio.engine.runs.lock import RunLock, holder_alive
from tangstudio.engine.runs.metrics import read_metrics


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
        return self.config_path.is_file()

    def config(self) -> dict:
        return read_config(self.config_path)

    def lock(self) -> RunLock:
        """Take the run's lock (the folder must exist); one line and no lock if another process holds it."""
        return RunLock.acquire(self.lock_path, self.name)

    def _lock(self) -> dict | None:
        try:
            info = json.loads(self.lock_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return info if isinstance(info, dict) else None

    def local_pid(self) -> int | None:
        """The pid of the process training this run, when it runs on this host and is alive."""
        info = self._lock()
        return None if info is None or _foreign(info) else _alive_pid(info)

    def is_running(self) -> bool:
        """True while the process that holds the lock is alive; another host's lock counts as alive,
        since its process cannot be checked from here. A lock left by a killed process does not."""
        info = self._lock()
        return info is not None and (_foreign(info) or _alive_pid(info) is not None)


def _foreign(lock: dict) -> bool:
    return lock.get("host") not in (None, socket.gethostname())


def _alive_pid(lock: dict) -> int | None:
    return holder_alive(lock)  # also None when the pid now belongs to a later process


def check_name(name: str) -> str:
    return paths.check_name(name, "run")


def run_path(name_or_path: str | Path) -> RunDir:
    text = str(name_or_path)
    if "/" in text or "\\" in text or text in (".", ".."):
        return RunDir(Path(text).expanduser())
    return RunDir(paths.runs_dir() / check_name(text))


def open_run(name_or_path: str | Path) -> RunDir:
    run = run_path(name_or_path)
    if not run.exists():
        raise TangError(f"unknown run {str(name_or_path)!r} (no {run.config_path})")
    return run


@dataclass
class RunSummary:
    name: str
    path: Path
    arch: str
    params: int | None
    steps: int
    best_val_loss: float | None
    best_val_ppl: float | None
    ppl_kind: str
    status: str  # running | finished | interrupted | failed | stopped (died without saying)
    corpus: str
    forms: str

    def to_dict(self) -> dict:
        return {**self.__dict__, "path": str(self.path)}


def summarize(run: RunDir) -> RunSummary:
    config = run.config()
    events = read_metrics(run.metrics_path)
    steps = max((int(e.get("step", 0)) for e in events), default=0)
    evals = [e for e in events if e.get("event") == "eval" and e.get("val_loss") is not None]
    best = min(evals, key=lambda e: e["val_loss"], default=None)
    done = [e for e in events if e.get("event") == "done"]
    if run.is_running():
        status = "running"
    elif done:
        status = str(done[-1].get("status", "finished"))
    else:
        status = "stopped"
    params = None
    for directory in (run.best_dir, run.last_dir):
        if (directory / META).is_file():
            try:
                params = read_meta(directory).get("params")
            except TangError:
                params = None
            break
    kind = ppl_kind(str(config.get("arch", "")))
    return RunSummary(
        name=run.name,
        path=run.path,
        arch=str(config.get("arch", "?")),
        params=params,
        steps=steps,
        best_val_loss=best["val_loss"] if best else None,
        best_val_ppl=best.get("val_ppl") if best else None,
        ppl_kind=kind,
        status=status,
        corpus=str(config.get("corpus", "?")),
        forms=str(config.get("forms", "?")),
    )


def list_runs() -> list[RunSummary]:
    root = paths.runs_dir()
    if not root.is_dir():
        return []
    summaries = []
    for path in sorted(root.iterdir()):
        run = RunDir(path)
        if run.exists():
            try:
                summaries.append(summarize(run))
            except TangError:
                continue  # a damaged run must not hide the others
    return summaries
