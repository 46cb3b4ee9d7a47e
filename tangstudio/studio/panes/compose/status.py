"""The status line under the poem (which model, how the choices went, what to do next), and which
compose keys the footer has room for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

if TYPE_CHECKING:
    from tangstudio.studio.sessions import Session

FOOTER_ROOM = 120  # columns the footer needs for all the compose keys and the app's
NARROW_KEYS = {
    "space": "Next",
    "backspace": "Undo",
    "n": "New",
    "w": "Save",
    "g": "Gates",
}  # below it (p, c: ? Help)


SEPARATOR = " · "


class BrokenBetweenParts:
    """A status line that wraps only between its parts: Rich wraps at any space, which at 80 columns
    left a "·" dangling at a line's end and cut "mean p" from its figure (a TUI review)."""

    def __init__(self, line: Text) -> None:
        # each part with the separator before it, both cut from `line` in their own styles (a
        # separator inside a part, "w save · c copy", keeps its bold green)
        self.parts: list[tuple[Text | None, Text]] = []
        start, before = 0, None
        plain = line.plain
        while (at := plain.find(SEPARATOR, start)) >= 0:
            self.parts.append((before, line[start:at]))
            before, start = line[at : at + len(SEPARATOR)], at + len(SEPARATOR)
        self.parts.append((before, line[start:]))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        out, column = Text(), 0
        for before, part in self.parts:
            if column and column + len(SEPARATOR) + part.cell_len > options.max_width:
                out.append("\n")
                column = 0
            elif column and before is not None:
                out.append_text(before)
                column += before.cell_len
            out.append_text(part)
            column += part.cell_len
        yield out

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widths = [part.cell_len for _, part in self.parts] or [0]
        return Measurement(max(widths), sum(widths) + len(SEPARATOR) * (len(widths) - 1))


class StatusLine(Static):
    """One line under the poem: the model, the mean probability, what to do next."""

    line: reactive[Text] = reactive(Text)

    def watch_line(self, line: Text) -> None:
        self.update(BrokenBetweenParts(line))


def model_label(target: str | None) -> str:
    """ "default model" or "run NAME" for a model's folder."""
    if not target:
        return ""
    path = Path(target)
    return "default model" if path.name == "default" else f"run {path.name}"


def status_text(model: str | None, session: Session | None, shared: Callable[[], str | None]) -> Text:
    """The status line's text.

    `model`: the loaded model's target (None: no model). `shared()`: the longest span the finished
    poem shares with the corpus (asked only then: it may wait for the corpus index).
    """
    parts: list[tuple[str, str]] = []
    if model is not None:
        parts.append((model_label(model), "dim"))
    chosen = [s for s in session.steps() if not s.forced] if session is not None else []
    # The mean of what the composer drew: a typed character it would not draw has p 0 there, and
    # three typed ones read "mean p 0.00", which looked broken (a student's review).
    drawn = [s for s in chosen if not s.typed]
    if drawn:
        mean = sum(s.chosen_prob for s in drawn) / len(drawn)
        counted = (
            f"{len(drawn)} drawn, {len(chosen) - len(drawn)} typed"
            if len(drawn) < len(chosen)
            else f"{len(chosen)} chosen"
        )
        # a poem's first character is drawn from a flat distribution (1 % at most): 0.004 read "0.00", so
        # under 0.01 two significant figures, in decimals (0.0040, 0.00023; '.2g' wrote 2.3e-05)
        places = 2 if mean >= 0.01 or mean <= 0 else 1 - math.floor(math.log10(mean))
        parts.append((f"{counted} · mean p {mean:.{places}f}", "dim"))
    elif chosen:
        parts.append((f"{len(chosen)} typed", "dim"))
    if session is not None and session.hint:
        parts.append((session.hint, "dim"))
    elif session is not None and session.done:
        parts.append(("complete: w save · c copy · n new", "bold green"))
        span = shared()
        if span:
            parts.append((f"longest corpus span: {span}", "dim"))
    backoffs = session.backoffs if session is not None else []
    if backoffs:
        parts.append((f"relaxed: {backoffs[-1]}", "yellow"))
    status = Text()
    for i, (text, style) in enumerate(parts):
        if i:
            status.append(SEPARATOR, style="dim")
        status.append(text, style=style)
    return status


def longest_shared(novelty: Any, text: str) -> str | None:
    """The longest span `text` shares with the corpus (None: no index, no text, or no answer)."""
    if novelty is None or not text:
        return None
    try:
        return novelty.longest_shared(text) or None
    except Exception:
        return None


def show_keys(widget: Widget, declared: Iterable[Binding | Any], wide: bool) -> None:
    """Which of the widget's keys the footer shows: all those declared shown when the window is
    wide, else five with one-word names (NARROW_KEYS: Gates, the seed's lesson, over Play, a student's review), so the app's keys (^q, F1–F5, ?)
    still fit at 80 columns (issue 16, item 11) and the compose keys show too (issue 25, item 2)."""
    shown = {b.key: b.description for b in declared if isinstance(b, Binding) and b.show}
    for key, bindings in widget._bindings.key_to_bindings.items():
        widget._bindings.key_to_bindings[key] = [
            replace(b, show=key in shown, description=shown.get(key, b.description))
            if wide
            else replace(b, show=key in NARROW_KEYS, description=NARROW_KEYS.get(key, b.description))
            for b in bindings
        ]
    widget.refresh_bindings()
