"""The compose pane's link to the engine: which models exist, loading one, making a composer.

Kept apart from the pane so the pane's code reads as UI, and so the one place that knows the
composer engine's constructor is small. No Textual here; torch only for a model that needs it.

Causal models compose with the engine's `Composer` (step, preview, choose, undo over cached
state); BiLSTM models with its `Filler` (candidates at any position given both sides, set, sample,
refine). `sessions.py` puts one small interface (the `Session` Protocol) over the two, so the
pane never asks which kind of model it has; the engine objects keep their own state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tangstudio.engine import forms
from tangstudio.engine.hanzi import LINE_MARKS as LINE_MARKS
from tangstudio.engine.runs.layout import CHECKPOINTS, has_checkpoint

# The dropdown's rows stay ASCII: Textual cuts every screen line at the edges of the widgets under
# an open overlay, and a double-width character straddling such a cut is drawn as two spaces (the
# 七 of "七绝 qijue" went missing, issue 16 item 5). The Chinese name shows beside the dropdown.
_SHOWN = (forms.QIJUE, forms.WUJUE, forms.QILV, forms.WULV, forms.FREE)  # the dropdown's order
FORMS = [(f"{f.name} {f.chars}×{f.lines}" if f.regulated else f.name, f.name) for f in _SHOWN]
FORM_NAMES = {f.name: f.short for f in _SHOWN}
TONES = [("tones: loose", "loose"), ("tones: strict", "strict"), ("tones: off", "off")]
EOS_MARK = "<eos>"  # the end of a free poem among the candidates (engine.compose.settings.EOS_MARK)


@dataclass
class Step:
    """A step as the pane shows it (from the engine's StepInfo, or a fill position)."""

    position: int
    candidates: list[tuple[str, float]]
    removed_mass: float
    chosen: str
    chosen_prob: float
    forced: bool = False
    model_prob: float | None = None  # under the model alone (None: a given character of a fill grid)
    typed: bool = False  # written by a person, not drawn (the status line's mean p leaves it out)


def as_step(info: Any) -> Step:
    """The pane's view of an engine StepInfo (the top 10 candidates, plain floats)."""
    return Step(
        int(info.position),
        [(str(c), float(p)) for c, p in info.candidates][:10],
        float(info.removed_mass or 0.0),
        str(info.chosen),
        float(info.chosen_prob or 0.0),
        bool(info.forced),
        float(info.model_prob or 0.0),
        bool(getattr(info, "typed", False)),
    )


def default_model_path() -> Path:
    from tangstudio.engine import paths

    return paths.shipped_models_dir() / "default"


def default_model_available() -> bool:
    try:
        return has_checkpoint(default_model_path())
    except OSError:
        return False


def _newest_first(run: Path) -> tuple[float, str]:
    try:
        return (-(run / CHECKPOINTS).stat().st_mtime, run.name)
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
        from tangstudio.engine.runs.kinds import is_poem_run  # a digits classifier composes nothing

        runs = [run for run in root.iterdir() if run.is_dir() and has_checkpoint(run) and is_poem_run(run)]
        for run in sorted(runs, key=_newest_first):
            models.append((f"run {run.name}", str(run)))
    return models


def load_model(target: str):
    """(loaded model, corpus index for the novelty check). TangError says what to do.

    A fused rnn/lstm/gru loads into numpy (`load_for_composing`), so the first Space never waits
    for torch; the rest load with torch. The index loads in a background thread
    (novelty.BackgroundIndex): composing may start at once, and the copy check, first needed at
    the end of the first line, waits for it there.
    """
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.compose.novelty import index_in_background

    loaded = load_for_composing(target)
    novelty = index_in_background(loaded)
    if is_causal(loaded):  # work the first Space would otherwise do on the UI thread
        from tangstudio.engine.compose.tables import tables_for

        tables_for(loaded.vocab)  # the vocabulary's tone and rhyme masks (cached per vocabulary)
    return loaded, novelty


def is_causal(loaded: Any) -> bool:
    return bool(loaded.causal)


# The rows a model may be unable to use, by the studio's name for each: the title, plan and primer
# are read before the poem; the theme is a constraint a bilstm's grid cannot place.
READ_BEFORE_THE_POEM = {"title": "题", "plan": "纲", "theme": "藏字", "primer": "primer"}


def readable_settings(loaded: Any, settings: Any) -> tuple[Any, str]:
    """`settings` less what the model cannot read, and a warning naming the rows set aside ('' for
    none). A bilstm fills a grid from both sides and reads no title, plan, theme or primer; a model
    trained without titles and plans reads neither. The rows keep what the person typed, for the
    next model that reads it: switching models no longer refuses every new poem until they are
    cleared. (Submitting a 题 or 纲 the model cannot read is still refused: plan_keys.py.)"""
    names: tuple[str, ...]
    if not is_causal(loaded):
        names, why = ("title", "plan", "theme", "primer"), "a bilstm fills the grid from both sides"
    elif not loaded.vocab.has_plan:
        names, why = ("title", "plan"), "this model was trained without titles and plans"
    else:
        return settings, ""
    unread = [READ_BEFORE_THE_POEM[name] for name in names if getattr(settings, name)]
    if not unread:
        return settings, ""
    from dataclasses import replace

    cleared = {name: [] if name == "plan" else "" for name in names}
    warning = (
        f"{why} and reads no {', '.join(unread)}: ignored for this model (still in their rows for the next)"
    )
    return replace(settings, **cleared), warning


def make_composer(loaded: Any, settings, novelty=None):
    """The engine's Composer (rnn, lstm, gru) or Filler (bilstm); TangError for settings it refuses."""
    if is_causal(loaded):
        from tangstudio.engine.compose.generator import Composer

        return Composer(loaded, settings, novelty=novelty)
    from tangstudio.engine.compose.fill import Filler

    return Filler(loaded, settings, novelty=novelty)


def shipped_name(model: str) -> str:
    """The shipped default model by its name, `default`, as `generate --format md` records it (and
    `--model default` reads it), not by the folder the studio loaded it from."""
    if Path(model).is_absolute() and Path(model).resolve() == default_model_path().resolve():
        return "default"
    return model


def _origin_note(origin: dict | None) -> str:
    """ "draft 1 of the best of 5 · critic score 2.19" for a poem taken from the drafts."""
    if not origin:
        return ""
    critic = origin.get("critic")
    note = f"draft {origin['draft']} of the best of {origin['best_of']}"
    note += f" · critic score {critic:.2f}" if isinstance(critic, (int, float)) else ""
    return note + (" · edited after it was taken" if origin.get("edited") else "")


def save_poem(
    text: str,
    steps: list[Step],
    settings: Any,
    model: str,
    script: str,
    check: dict | None,
    origin: dict | None = None,
) -> Path:
    """Write the poem, its settings and every step's probabilities under `<home>/poems/`.

    Two files with one stem: Markdown to read (engine.compose.export) and JSON to reuse; returns
    the JSON's path (the Markdown sits beside it with `.md`).
    """
    from tangstudio.engine import paths
    from tangstudio.engine.atomic import write_text_atomic
    from tangstudio.engine.compose.export import step_record

    folder = paths.home() / "poems"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = folder / f"{stamp}-{settings.form}.json"
    n = 2
    while path.exists():
        path, n = folder / f"{stamp}-{settings.form}-{n}.json", n + 1
    model = shipped_name(model)
    document = {
        "text": text,
        "form": settings.form,
        "model": model,
        "script": script,
        "settings": settings.to_dict(),
        "steps": [step_record(s) for s in steps],  # as `generate --json` writes them
        "check": check,
        "saved": datetime.now().isoformat(timespec="seconds"),
    }
    if origin:
        document["origin"] = origin
    write_text_atomic(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    from tangstudio.engine.compose.export import poem_markdown

    markdown = poem_markdown(
        text, steps, settings.to_dict(), model=model, check=check, note=_origin_note(origin)
    )
    write_text_atomic(path.with_suffix(".md"), markdown)
    return path
