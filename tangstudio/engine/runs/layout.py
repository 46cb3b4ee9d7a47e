"""The run folder's layout: every file name a run writes, in one torch-free place.

    <home>/runs/<name>/
        config.toml            the TrainConfig, rewritten when a resume changes the budget
        metrics.jsonl          one JSON event a line, appended whole (see docs/ARCHITECTURE.md)
        samples.jsonl          {"step", "form", "text", "time"}: poems sampled at each evaluation
        run.lock               pid and host while a process trains the run
        checkpoints/best/      model.safetensors + meta.json (the weights' sha256, vocabulary, config)
        checkpoints/last/      the same, plus train_state.safetensors + train_state.json to resume

The trainer writes these names and the studio, the CLI and the follower read them; asking this
module instead of spelling "metrics.jsonl" in each keeps a rename from breaking one reader silently.
"""

from __future__ import annotations

from pathlib import Path

CONFIG = "config.toml"
METRICS = "metrics.jsonl"
SAMPLES = "samples.jsonl"
LOCK = "run.lock"
CHECKPOINTS = "checkpoints"
BEST = "best"
LAST = "last"
CHECKPOINT_KINDS = (BEST, LAST)
WEIGHTS = "model.safetensors"
META = "meta.json"
STATE = "train_state.safetensors"
STATE_META = "train_state.json"


def checkpoint_dir(run: Path, which: str = BEST) -> Path:
    """`run/checkpoints/<which>` (best or last)."""
    return run / CHECKPOINTS / which


def looks_like_run(folder: Path) -> bool:
    """A folder with a config.toml or a metrics.jsonl: a run, perhaps one still starting."""
    return (folder / CONFIG).is_file() or (folder / METRICS).is_file()


def has_checkpoint(path: Path) -> bool:
    """A checkpoint folder itself (meta.json), or a run folder with a best or last checkpoint."""
    return (path / META).is_file() or any(
        (checkpoint_dir(path, which) / META).is_file() for which in CHECKPOINT_KINDS
    )
