"""Runs are directories: config.toml, metrics.jsonl, samples.jsonl and checkpoints/ (safetensors + JSON).

Everything a run writes is either replaced atomically (temp file + rename) or appended one whole
JSON line at a time, so the studio can follow a run while it is being written and a crash never
leaves a half file that looks valid.
"""

from tangstudio.engine.runs.checkpoint import LoadedModel, load_checkpoint, resolve_checkpoint
from tangstudio.engine.runs.metrics import MetricsFollower, MetricsWriter, read_metrics
from tangstudio.engine.runs.rundir import RunDir, RunSummary, list_runs, open_run

__all__ = [
    "LoadedModel", "load_checkpoint", "resolve_checkpoint",
    "MetricsFollower", "MetricsWriter", "read_metrics",
    "RunDir", "RunSummary", "list_runs", "open_run",
]
