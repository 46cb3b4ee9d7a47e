"""Runs are directories: config.toml, metrics.jsonl, samples.jsonl and checkpoints/ (safetensors + JSON).

Everything a run writes is either replaced atomically (temp file + rename) or appended one whole
JSON line at a time, so the studio can follow a run while it is being written and a crash never
leaves a half file that looks valid.

Exports are lazy (PEP 562): following metrics must not pay for torch, which checkpoints need, so
the studio can read a run before its first frame without importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what the lazy exports are, for the type checker (`as`: re-exported)
    from tangstudio.engine.runs.checkpoint import LoadedModel as LoadedModel
    from tangstudio.engine.runs.checkpoint import load_checkpoint as load_checkpoint
    from tangstudio.engine.runs.checkpoint import resolve_checkpoint as resolve_checkpoint
    from tangstudio.engine.runs.metrics import MetricsFollower as MetricsFollower
    from tangstudio.engine.runs.metrics import MetricsWriter as MetricsWriter
    from tangstudio.engine.runs.metrics import read_metrics as read_metrics
    from tangstudio.engine.runs.rundir import RunDir as RunDir
    from tangstudio.engine.runs.rundir import RunSummary as RunSummary
    from tangstudio.engine.runs.rundir import list_runs as list_runs
    from tangstudio.engine.runs.rundir import open_run as open_run

_EXPORTS = {
    "LoadedModel": "checkpoint",
    "load_checkpoint": "checkpoint",
    "resolve_checkpoint": "checkpoint",
    "MetricsFollower": "metrics",
    "MetricsWriter": "metrics",
    "read_metrics": "metrics",
    "RunDir": "rundir",
    "RunSummary": "rundir",
    "list_runs": "rundir",
    "open_run": "rundir",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"tangstudio.engine.runs.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
