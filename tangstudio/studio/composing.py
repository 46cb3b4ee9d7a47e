"""The compose pane's link to the engine: which models exist, loading one, making a composer.

Kept apart from the pane so the pane's code reads as UI, and so the one place that knows the
composer engine's constructor is small. No Textual here; torch only inside `load_model`.

Causal models compose with the engine's `Composer` (step, preview, choose, undo over cached
state); BiLSTM models with its `Filler` (candidates at any position given both sides, set, sample,
refine).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

FORMS = [
    ("七绝 qijue", "qijue"),
    ("五绝 wujue", "wujue"),
    ("七律 qilv", "qilv"),
    ("五律 wulv", "wulv"),
    ("free", "free"),
]
TONES = [("tones: loose", "loose"), ("tones: strict", "strict"), ("tones: off", "off")]


@dataclass
class Step:
    """A step as the pane shows it (from the engine's StepInfo, or a fill position)."""

    position: int
    candidates: list[tuple[str, float]]
    removed_mass: float
    chosen: str
    chosen_prob: float
    forced: bool = False


def as_step(info: Any) -> Step:
    return Step(
        int(getattr(info, "position", 0)),
        [(str(c), float(p)) for c, p in getattr(info, "candidates", [])][:10],
        float(getattr(info, "removed_mass", 0.0) or 0.0),
        str(getattr(info, "chosen", "")),
        float(getattr(info, "chosen_prob", 0.0) or 0.0),
        bool(getattr(info, "forced", False)),
    )


def _has_checkpoint(path: Path) -> bool:
    return (path / "meta.json").is_file() or any(
        (path / "checkpoints" / w / "meta.json").is_file() for w in ("best", "last")
    )


def default_model_path() -> Path:
    from tangstudio.engine import paths

    return paths.shipped_models_dir() / "default"


def default_model_available() -> bool:
    try:
        return _has_checkpoint(default_model_path())
    except OSError:
        return False


def _newest_first(run: Path) -> tuple[float, str]:
    try:
        return (-(run / "checkpoints").stat().st_mtime, run.name)
    except OSError:
        return (0.0, run.name)


def list_models() -> list[tuple[str, str]]:
    """(label, target) of every model the composer can use: the shipped default, then runs."""
    from tangstudio.engine import paths

    models = []
    if default_model_available():
        models.append(("default", str(default_model_path())))
    root = paths.runs_dir()
    if root.is_dir():
        runs = [run for run in root.iterdir() if run.is_dir() and _has_checkpoint(run)]
        for run in sorted(runs, key=_newest_first):
            models.append((f"run {run.name}", str(run)))
    return models


def load_model(target: str):
    """(LoadedModel, corpus index for the novelty check or None); torch. TangError says what to do."""
    from tangstudio.engine.compose.novelty import index_for_model
    from tangstudio.engine.runs.checkpoint import load_checkpoint

    loaded = load_checkpoint(target, device="cpu")
    return loaded, index_for_model(loaded)


def is_causal(loaded: Any) -> bool:
    return bool(getattr(loaded.model, "causal", True))


def make_composer(loaded: Any, settings, novelty=None):
    """The engine's Composer (rnn, lstm, gru) or Filler (bilstm); TangError for settings it refuses."""
    if is_causal(loaded):
        from tangstudio.engine.compose.generator import Composer

        return Composer(loaded, settings, novelty=novelty)
    from tangstudio.engine.compose.fill import Filler

    return Filler(loaded, settings, novelty=novelty)


def save_poem(
    text: str, steps: list[Step], settings: Any, model: str, script: str, check: dict | None
) -> Path:
    """Write the poem, its settings and every step's probabilities as JSON under `<home>/poems/`."""
    from tangstudio.engine import paths
    from tangstudio.engine.atomic import write_text_atomic

    folder = paths.home() / "poems"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = folder / f"{stamp}-{settings.form}.json"
    n = 2
    while path.exists():
        path, n = folder / f"{stamp}-{settings.form}-{n}.json", n + 1
    document = {
        "text": text,
        "form": settings.form,
        "model": model,
        "script": script,
        "settings": settings.to_dict(),
        "steps": [
            {
                "position": s.position,
                "char": s.chosen,
                "prob": s.chosen_prob,
                "removed_mass": s.removed_mass,
                "forced": s.forced,
                "candidates": [[c, p] for c, p in s.candidates],
            }
            for s in steps
        ],
        "check": check,
        "saved": datetime.now().isoformat(timespec="seconds"),
    }
    write_text_atomic(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    return path
