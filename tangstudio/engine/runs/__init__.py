"""Runs are directories: config.toml, metrics.jsonl, samples.jsonl and checkpoints/ (safetensors + JSON).

Everything a run writes is either replaced atomically (temp file + rename) or appended one whole
JSON line at a time, so the studio can follow a run while it is being written and a crash never
leaves a half file that looks valid.

Exports are lazy (PEP 562): following metrics must not pay for torch, which checkpoints need, so
the studio can read a run before its first frame without importing torch.
"""

from __future__ import annotations

import importlib

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


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"tangstudio.engine.runs.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
