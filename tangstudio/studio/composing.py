"""The compose pane's link to the engine: which models exist, loading one, making a composer.

Kept apart from the pane so the pane's code reads as UI, and so the one place that knows the
composer engine's constructor is small. No Textual here; torch only inside `load_model`.

The composer engine's planned interface (engine/compose):
    Composer(loaded_model, settings) with .step() -> StepInfo(position, candidates: [(char, prob)],
    removed_mass, chosen, chosen_prob), .choose(char) -> StepInfo, .undo(n=1), .text, .done, .settings
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

FORMS = [("七绝 qijue", "qijue"), ("五绝 wujue", "wujue"), ("七律 qilv", "qilv"), ("五律 wulv", "wulv"), ("free", "free")]
TONES = [("tones: loose", "loose"), ("tones: strict", "strict"), ("tones: off", "off")]


class StepLike(Protocol):
    position: int
    candidates: list[tuple[str, float]]
    removed_mass: float
    chosen: str
    chosen_prob: float


@dataclass
class Step:
    """A step as the pane keeps it (also what a composer that returns None from choose() leaves us)."""

    position: int
    candidates: list[tuple[str, float]]
    removed_mass: float
    chosen: str
    chosen_prob: float


def as_step(info: Any) -> Step:
    return Step(int(getattr(info, "position", 0)), [(str(c), float(p)) for c, p in getattr(info, "candidates", [])][:10],
                float(getattr(info, "removed_mass", 0.0) or 0.0), str(getattr(info, "chosen", "")),
                float(getattr(info, "chosen_prob", 0.0) or 0.0))


@dataclass
class ComposeSettings:
    form: str = "qijue"
    acrostic: str = ""
    prefix: str = ""
    temperature: float = 0.8
    top_k: int = 0
    top_p: float = 0.95
    rhyme: bool = True
    tones: str = "loose"
    seed: int | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "extra"}
        return {**data, **self.extra}


def _has_checkpoint(path: Path) -> bool:
    return (path / "meta.json").is_file() or any((path / "checkpoints" / w / "meta.json").is_file() for w in ("best", "last"))


def default_model_path() -> Path:
    from tangstudio.engine import paths

    return paths.shipped_models_dir() / "default"


def default_model_available() -> bool:
    try:
        return _has_checkpoint(default_model_path())
    except OSError:
        return False


def list_models() -> list[tuple[str, str]]:
    """(label, target) of every model the composer can use: the shipped default, then runs."""
    from tangstudio.engine import paths

    models = []
    if default_model_available():
        models.append(("default", str(default_model_path())))
    root = paths.runs_dir()
    if root.is_dir():
        for run in sorted(root.iterdir()):
            if run.is_dir() and _has_checkpoint(run):
                models.append((f"run {run.name}", str(run)))
    return models


def load_model(target: str):
    """A LoadedModel (torch); raises TangError with what to do when it cannot."""
    from tangstudio.engine.runs.checkpoint import load_checkpoint

    return load_checkpoint(target, device="cpu")


def composer_available() -> bool:
    try:
        from tangstudio.engine.compose import Composer  # noqa: F401
    except ImportError:
        return False
    return True


def make_composer(loaded: Any, settings: ComposeSettings):
    """Build the engine's Composer for these settings (TangError for settings it refuses)."""
    import tangstudio.engine.compose as compose

    settings_type = getattr(compose, "ComposeSettings", None) or getattr(compose, "Settings", None)
    values = settings.as_dict()
    if settings_type is not None:
        import dataclasses

        if dataclasses.is_dataclass(settings_type):
            known = {f.name for f in dataclasses.fields(settings_type)}
            values = {k: v for k, v in values.items() if k in known}
        engine_settings = settings_type(**values)
    else:
        engine_settings = values
    return compose.Composer(loaded, engine_settings)


def save_poem(text: str, steps: list[Step], settings: ComposeSettings, model: str, script: str,
              check: dict | None) -> Path:
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
        "text": text, "form": settings.form, "model": model, "script": script, "settings": settings.as_dict(),
        "steps": [{"position": s.position, "char": s.chosen, "prob": s.chosen_prob, "removed_mass": s.removed_mass,
                   "candidates": [[c, p] for c, p in s.candidates]} for s in steps],
        "check": check, "saved": datetime.now().isoformat(timespec="seconds"),
    }
    write_text_atomic(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    return path
