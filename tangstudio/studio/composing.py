"""The compose pane's link to the engine: which models exist, loading one, making a composer.

Kept apart from the pane so the pane's code reads as UI, and so the one place that knows the
composer engine's constructor is small. No Textual here; torch only for a model that needs it.

Causal models compose with the engine's `Composer` (step, preview, choose, undo over cached
state); BiLSTM models with its `Filler` (candidates at any position given both sides, set, sample,
refine). `CausalSession` and `FillSession` put one small interface over the two (advance, pick,
undo, move, play, apply_sampling; text, steps, probs, panel), so the pane never asks which kind
of model it has; the engine objects keep their own state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tangstudio.engine.runs.layout import CHECKPOINTS, has_checkpoint

# The dropdown's rows stay ASCII: Textual cuts every screen line at the edges of the widgets under
# an open overlay, and a double-width character straddling such a cut is drawn as two spaces (the
# 七 of "七绝 qijue" went missing, issue 16 item 5). The Chinese name shows beside the dropdown.
FORMS = [
    ("qijue 7×4", "qijue"),
    ("wujue 5×4", "wujue"),
    ("qilv 7×8", "qilv"),
    ("wulv 5×8", "wulv"),
    ("free", "free"),
]
FORM_NAMES = {"qijue": "七绝", "wujue": "五绝", "qilv": "七律", "wulv": "五律", "free": "自由"}
TONES = [("tones: loose", "loose"), ("tones: strict", "strict"), ("tones: off", "off")]
LINE_MARKS = "，。！？；"
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


def as_step(info: Any) -> Step:
    """The pane's view of an engine StepInfo (the top 10 candidates, plain floats)."""
    return Step(
        int(info.position),
        [(str(c), float(p)) for c, p in info.candidates][:10],
        float(info.removed_mass or 0.0),
        str(info.chosen),
        float(info.chosen_prob or 0.0),
        bool(info.forced),
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
        runs = [run for run in root.iterdir() if run.is_dir() and has_checkpoint(run)]
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
    return bool(getattr(loaded, "causal", True))


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
    """Write the poem, its settings and every step's probabilities under `<home>/poems/`.

    Two files with one stem: Markdown to read (engine.compose.export) and JSON to reuse; returns
    the JSON's path (the Markdown sits beside it with `.md`).
    """
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
    from tangstudio.engine.compose.export import poem_markdown

    markdown = poem_markdown(text, steps, settings.to_dict(), model=model, check=check)
    write_text_atomic(path.with_suffix(".md"), markdown)
    return path


# Sessions: one small interface over the engine's two ways of writing ---------------------------

MASKED = "□"  # an empty position of a BiLSTM grid


def line_spans(text: str) -> list[tuple[int, int]]:
    """(first, last) text index of each line, its closing mark included."""
    spans, start = [], 0
    for i, c in enumerate(text):
        if c in LINE_MARKS:
            spans.append((start, i))
            start = i + 1
    if start < len(text):
        spans.append((start, len(text) - 1))
    return spans


def _other_line(text: str, at: int, delta: int) -> int:
    """The index `delta` lines up or down from `at`, in the same column where the line is long enough."""
    spans = line_spans(text)
    here = next((k for k, (a, b) in enumerate(spans) if a <= at <= b), len(spans) - 1)
    target = min(max(here + delta, 0), len(spans) - 1)
    first, last = spans[target]
    return min(first + (at - spans[here][0]), last)


class _EngineSession:
    """What both session kinds read straight off their engine (Composer or Filler) and cursor."""

    engine: Any
    cursor: int | None

    @property
    def text(self) -> str:
        return str(self.engine.text)

    @property
    def done(self) -> bool:
        return bool(self.engine.done)

    @property
    def settings(self) -> Any:
        return self.engine.settings

    @property
    def selected(self) -> int | None:
        return self.cursor


class CausalSession(_EngineSession):
    """Left to right (rnn, lstm, gru): the engine's Composer writes, previews, retakes and undoes.

    `cursor` is the text position the side panel describes (None: follow the last character).
    """

    filling = False
    hint = ""

    def __init__(self, composer: Any) -> None:
        self.engine = composer
        self.cursor: int | None = None
        self.locked: set[int] = set()  # lines (0-based) a reroll keeps
        self.typed: Any = None  # the Judgement of the last character a person typed

    @property
    def backoffs(self) -> list[str]:
        return list(self.engine.backoffs)

    def steps(self) -> list[Step]:
        return [as_step(s) for s in self.engine.history]

    def probs(self) -> list[float | None]:
        return [s.chosen_prob for s in self.steps() if s.chosen != EOS_MARK]

    def panel(self) -> Step | None:
        """The step the candidates panel shows: the one under the cursor, else the last choice."""
        steps = self.steps()
        if self.cursor is not None and self.cursor < len(steps):
            return steps[self.cursor]
        last = self.engine.last_choice()
        return None if last is None else steps[last]

    def advance(self) -> str | None:
        if self.done:
            return "the poem is complete: w saves it, c copies it, n starts another."
        self.engine.step()
        self.engine.follow_forced()
        self.cursor = None
        return None

    def pick(self, index: int) -> str | None:
        if self.engine.last_choice() is None:
            return "press Space first: then 1–0 replace the sampled character."
        self.engine.retake(index)
        self.cursor = None
        return None

    def undo(self) -> None:
        self.engine.take_back()
        self.cursor = None

    def move(self, delta: int) -> None:
        n = len(self.text)
        if not n:
            return
        here = n - 1 if self.cursor is None else self.cursor
        self.cursor = min(max(here + delta, 0), n - 1)

    def play(self) -> bool:
        """True: the pane writes on at a visible pace (a timer calling `advance`)."""
        return True

    def move_line(self, delta: int) -> None:
        text = self.text
        if text:
            self.cursor = _other_line(text, len(text) - 1 if self.cursor is None else self.cursor, delta)

    def write(self, text: str) -> str | None:
        """Write what a person typed at the end of the poem; TangError (why, with its odds) if refused."""
        from tangstudio.engine.errors import TangError

        for char in text:
            if self.done:
                return "the poem is complete: n starts another, Backspace takes a character back."
            judgement = self.engine.judge(char)
            if not judgement.fits:
                self.typed = judgement
                raise TangError(judgement.describe())
            self.typed = self.engine.write(char)
        self.cursor = None
        return None

    def cursor_line(self) -> int:
        """The line (0-based) under the cursor, or the last line written."""
        text = self.text
        at = len(text) - 1 if self.cursor is None else self.cursor
        return sum(1 for c in text[: max(at, 0)] if c in LINE_MARKS)

    def toggle_lock(self) -> str:
        line = self.cursor_line()
        if line in self.locked:
            self.locked.discard(line)
            return f"line {line + 1} unlocked."
        self.locked.add(line)
        return f"line {line + 1} locked: r on another line rerolls it and keeps this one."

    def reroll(self) -> str:
        line = self.cursor_line()
        self.engine.reroll(line, frozenset(self.locked))
        self.typed = None
        kept = sorted(k + 1 for k in self.locked if k > line)
        return f"rerolled line {line + 1} onward" + (
            f", kept line {', '.join(map(str, kept))}" if kept else ""
        )

    def apply_sampling(self, settings: Any) -> bool:
        self.engine.update_sampling(settings)
        return True

    def clear_marks(self) -> None:
        self.typed = None


class FillSession(_EngineSession):
    """Filling a grid (bilstm): any position, given both sides; the engine's Filler keeps it all."""

    filling = True
    hint = "fill mode: ← → select · 1–0 set · Space fill · p refine"

    def __init__(self, filler: Any) -> None:
        self.engine = filler
        free = self.free()
        self.cursor: int = free[0] if free else 0
        self.locked: set[int] = set()  # a grid refills one line only: locks are informative
        self.typed: Any = None

    @property
    def backoffs(self) -> list[str]:
        return []

    def free(self) -> list[int]:
        return list(self.engine.free_positions())

    def steps(self) -> list[Step]:
        out = []
        for p, char in enumerate(self.text):
            info = self.engine.step_info(p)
            if info is not None:
                out.append(as_step(info))
            elif char != MASKED:
                out.append(Step(p, [(char, 1.0)], 0.0, char, 1.0, forced=True))
        return out

    def probs(self) -> list[float | None]:
        out: list[float | None] = []
        for p, char in enumerate(self.text):
            info = self.engine.step_info(p)
            out.append(info.chosen_prob if info is not None else (None if char == MASKED else 1.0))
        return out

    def panel(self) -> Step | None:
        text = self.text
        candidates = [(str(c), float(p)) for c, p in self.engine.candidates(self.cursor)]
        current = text[self.cursor] if self.cursor < len(text) else ""
        return Step(self.cursor, candidates, 0.0, current, 0.0)

    def advance(self) -> str | None:
        if self.done:
            return "every position is filled: p refines them, ← → and 1–0 change one."
        self.engine.sample()
        return None

    def pick(self, index: int) -> str | None:
        self.engine.choose(self.cursor, index)
        return None

    def undo(self) -> None:
        self.engine.unset(self.cursor)

    def move(self, delta: int) -> None:
        free = self.free()
        if not free:
            return
        here = free.index(self.cursor) if self.cursor in free else 0
        self.cursor = free[(here + delta) % len(free)]

    def play(self) -> bool:
        """Refine every free position at once (a few rounds of Gibbs sampling); no timer."""
        self.engine.refine(2)
        return False

    def move_line(self, delta: int) -> None:
        target = _other_line(self.text, self.cursor, delta)
        free = self.free()
        if free:
            self.cursor = min(free, key=lambda p: (abs(p - target), p))

    def write(self, text: str) -> str | None:
        """Set what a person typed at the selected position, then move to the next free one."""
        from tangstudio.engine.errors import TangError

        for char in text:
            judgement = self.engine.judge(self.cursor, char)
            self.typed = judgement
            if not judgement.fits:
                raise TangError(judgement.describe())
            self.engine.write(self.cursor, char)
            self.move(1)
        return None

    def cursor_line(self) -> int:
        return self.cursor // (self.engine.plan.n_chars + 1)

    def toggle_lock(self) -> str:
        line = self.cursor_line()
        if line in self.locked:
            self.locked.discard(line)
            return f"line {line + 1} unlocked."
        self.locked.add(line)
        return f"line {line + 1} locked (a BiLSTM reroll refills only the line it is asked to)."

    def reroll(self) -> str:
        line = self.cursor_line()
        if line in self.locked:
            from tangstudio.engine.errors import TangError

            raise TangError(f"line {line + 1} is locked: unlock it first (l)")
        self.engine.reroll(line)
        return f"refilled line {line + 1} from both sides."

    def clear_marks(self) -> None:
        self.typed = None

    def apply_sampling(self, settings: Any) -> bool:
        """A grid's knobs are read at each resampling; a new grid keeps things simple: False."""
        return False


Session = CausalSession | FillSession


def make_session(loaded: Any, settings: Any, novelty: Any = None) -> Session:
    """The session that fits the model; TangError for settings the engine refuses."""
    engine = make_composer(loaded, settings, novelty)
    return CausalSession(engine) if is_causal(loaded) else FillSession(engine)
