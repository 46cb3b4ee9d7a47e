"""Which side a run belongs to: a poem model, or a lab classifier (digits, the memory task).

Both train into `<home>/runs/`, so everything that lists runs for poems (the Compose model picker,
the Train pane's chart overlays, `runs list`'s poem table) asks here, and a lab run never meets a
poem reader: its 1,500 digit steps would squash the poem curves, and its checkpoint has no
vocabulary. A lab run says so in config.toml (`kind = "lab"`) and in its checkpoints' meta.json
(`"kind": "lab"`); anything else is a poem run. Torch-free and cheap: a few small files per run.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from tangstudio.engine.errors import TangError
from tangstudio.engine.runs.layout import CHECKPOINT_KINDS, CONFIG, META, checkpoint_dir, looks_like_run
from tangstudio.engine.runs.schema import MAX_CONFIG_BYTES, read_text

POEM = "poem"
LAB = "lab"
MAX_META_BYTES = 64 << 20  # checkpoint.MAX_JSON_BYTES: meta.json holds the vocabulary


def _config_kind(folder: Path) -> tuple[str | None, str | None]:
    """(kind, task) from config.toml, or (None, None) when it is absent or unreadable."""
    try:
        data = tomllib.loads(read_text(folder / CONFIG, MAX_CONFIG_BYTES))
    except (OSError, TangError, tomllib.TOMLDecodeError, RecursionError):
        return None, None
    kind, task = data.get("kind"), data.get("task")
    return (str(kind) if kind else None), (str(task) if task else None)


def _meta_kind(folder: Path) -> tuple[str | None, str | None]:
    """(kind, task) from the first meta.json that reads: the folder itself or its best/last."""
    import json

    for meta in (folder / META, *(checkpoint_dir(folder, which) / META for which in CHECKPOINT_KINDS)):
        try:
            data = json.loads(read_text(meta, MAX_META_BYTES))
        except (OSError, TangError, ValueError, RecursionError):
            continue
        if isinstance(data, dict):
            kind, task = data.get("kind"), data.get("task")
            return (str(kind) if kind else POEM), (str(task) if task else None)
    return None, None


def stated_kind(folder: Path) -> str | None:
    """`lab` or `poem` as the run's config.toml or a meta.json says it; None when neither reads."""
    kind, _ = _config_kind(Path(folder))
    if kind is None:
        kind, _ = _meta_kind(Path(folder))
    return None if kind is None else (LAB if kind == LAB else POEM)


def lab_command(task: str) -> str:
    """The CLI command that trains a lab run of `task` (the resume hints')."""
    return f"lab {task} train"


def run_kind(folder: Path) -> str:
    """`lab` for a lab run (or lab checkpoint folder), else `poem` (damaged runs included: they are
    poem runs as far as anyone can tell, and are shown as damaged where poem runs are listed)."""
    folder = Path(folder)
    kind, _ = _config_kind(folder)
    if kind is None:
        kind, _ = _meta_kind(folder)
    return LAB if kind == LAB else POEM


def lab_task(folder: Path) -> str:
    """What a lab run classifies: `digits` or `memory` (digits when it does not say)."""
    folder = Path(folder)
    _, task = _config_kind(folder)
    if task is None:
        _, task = _meta_kind(folder)
    return task or "digits"


def is_poem_run(folder: Path) -> bool:
    return run_kind(folder) == POEM


def poem_runs(root: Path) -> list[Path]:
    """Run folders under `root` (a config.toml or metrics.jsonl) that are poem runs, by name.

    What the studio's Train chart and Compose picker list; lab runs have the Lab pane (F5)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and looks_like_run(p) and is_poem_run(p))


def lab_refusal(directory: Path, meta: dict[str, Any]) -> str:
    """The one line for a poem command given a lab checkpoint: "lab-bilstm is a digits classifier,
    not a poem model", naming the run (not its checkpoints/best folder) and pointing to `lab`."""
    directory = Path(directory)
    name = directory.parent.parent.name if directory.parent.name == "checkpoints" else directory.name
    task = str(meta.get("task") or "digits")
    what = "a digits classifier" if task == "digits" else f"a {task}-task classifier"
    where = f"tangstudio lab {task} show" if task == "memory" else f"tangstudio lab digits eval {name}"
    return f"{name} is {what}, not a poem model (the Lab pane, F5, or `{where}` reads it)"
