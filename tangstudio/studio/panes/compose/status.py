"""The status line under the poem: which model, how the choices went, what to do next.

On a narrow terminal it also carries the first compose keys, which the footer has no room for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

if TYPE_CHECKING:
    from tangstudio.studio.sessions import Session

FOOTER_ROOM = 120  # columns the footer needs for the compose keys and the app's


class StatusLine(Static):
    """One line under the poem: the model, the mean probability, what to do next."""

    line: reactive[Text] = reactive(Text)

    def watch_line(self, line: Text) -> None:
        self.update(line)


def model_label(target: str | None) -> str:
    """ "default model" or "run NAME" for a model's folder."""
    if not target:
        return ""
    path = Path(target)
    return "default model" if path.name == "default" else f"run {path.name}"


def status_text(
    model: str | None, session: Session | None, shared: Callable[[], str | None], keys_here: bool
) -> Text:
    """The status line's text.

    `model`: the loaded model's target (None: no model). `shared()`: the longest span the finished
    poem shares with the corpus (asked only then: it may wait for the corpus index). `keys_here`: the footer has no room for the compose keys, so the
    line names the first ones.
    """
    parts: list[tuple[str, str]] = []
    if model is not None:
        parts.append((model_label(model), "dim"))
    chosen = [s for s in session.steps() if not s.forced] if session is not None else []
    if chosen:
        mean = sum(s.chosen_prob for s in chosen) / len(chosen)
        parts.append((f"{len(chosen)} chosen · mean p {mean:.2f}", "dim"))
    if session is not None and session.hint:
        parts.append((session.hint, "dim"))
    elif session is not None and session.done:
        parts.append(("complete: w save · c copy · n new", "bold green"))
        span = shared()
        if span:
            parts.append((f"longest span shared with the corpus: {span}", "dim"))
    if keys_here:
        parts.append(("Space next · ⌫ undo · ? keys", "dim"))
    backoffs = session.backoffs if session is not None else []
    if backoffs:
        parts.append((f"relaxed: {backoffs[-1]}", "yellow"))
    status = Text()
    for i, (text, style) in enumerate(parts):
        if i:
            status.append(" · ", style="dim")
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
    """Below FOOTER_ROOM columns the footer keeps the app's keys (F1–F4, ?) and the compose keys
    move to the status line; otherwise the app's keys would be cut off (issue 16, item 11)."""
    shown = {b.key for b in declared if isinstance(b, Binding) and b.show}
    for key, bindings in widget._bindings.key_to_bindings.items():
        widget._bindings.key_to_bindings[key] = [replace(b, show=wide and key in shown) for b in bindings]
    widget.refresh_bindings()
