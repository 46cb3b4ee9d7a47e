"""Run folders attached from outside the home, remembered across restarts in `<home>/attached.json`.

Runs under `<home>/runs/` are found by scanning; a run followed from elsewhere (a folder rsynced
from a server, another home) would be forgotten at the next start, so the train pane keeps their
paths here until the person removes one (`x` in the train pane). One small JSON list, written
atomically, so a crash mid-write never loses the list. No Textual here.
"""

from __future__ import annotations

import json
from pathlib import Path

from tangstudio.engine import paths
from tangstudio.engine.atomic import write_text_atomic
from tangstudio.engine.runs.layout import looks_like_run

FILE = "attached.json"


def attached_file() -> Path:
    return paths.home() / FILE


def load_attached() -> list[Path]:
    """The remembered folders, in the order they were attached; an unreadable file counts as empty."""
    try:
        data = json.loads(attached_file().read_text("utf-8"))
    except (OSError, ValueError):
        return []
    items = data.get("runs", []) if isinstance(data, dict) else []
    return [Path(p) for p in items if isinstance(p, str) and p]


def _save(folders: list[Path]) -> None:
    text = json.dumps({"runs": [str(p) for p in folders]}, ensure_ascii=False, indent=2) + "\n"
    write_text_atomic(attached_file(), text)


def remember(folder: Path) -> None:
    folders = load_attached()
    if folder not in folders:
        _save([*folders, folder])


def forget(folder: Path) -> None:
    folders = load_attached()
    if folder in folders:
        _save([p for p in folders if p != folder])


def run_problem(folder: Path) -> str | None:
    """None when `folder` is a run folder (config.toml or metrics.jsonl in it), else why not, in one line."""
    if not folder.exists():
        return f"no such folder: {folder}"
    if not folder.is_dir():
        return f"{folder} is a file; give the run's folder (the one holding metrics.jsonl)"
    if not looks_like_run(folder):
        return f"{folder} is not a run folder (it has no config.toml or metrics.jsonl)"
    return None
