"""The poem a new one replaced, kept so `u` (or Backspace on a fresh poem) can swap it back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tangstudio.studio.sessions import Session


@dataclass(frozen=True)
class Kept:
    """A poem put aside, with the model it was written with and the fields it was begun with.

    `target` is that model's folder (what the model picker shows); the loaded model and the
    corpus index are the session's engine's own, so a swap restores all three even when another
    model has loaded since.
    """

    session: Session
    target: str | None
    fields: tuple[str, ...] | None = None  # the bar as the poem began (bar.shape()): what was typed

    @property
    def loaded(self) -> Any:
        return self.session.engine.loaded

    @property
    def novelty(self) -> Any:
        return self.session.engine.novelty


def worth_keeping(session: Session | None) -> bool:
    """A poem with at least one character chosen (not only the form's punctuation or a prefix)."""
    return session is not None and any(not s.forced for s in session.steps())
