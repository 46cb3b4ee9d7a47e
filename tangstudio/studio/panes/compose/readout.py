"""What tests and the app read off the compose pane: the poem as written, through its session.

A mixin so that ComposePane's own body stays the keys and what they do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tangstudio.studio.composing import Step
    from tangstudio.studio.sessions import Session


class PoemReadout:
    """Read-only views of `session` (None before a model is loaded) and `loaded` (the model)."""

    session: Session | None
    loaded: Any

    @property
    def composer(self) -> Any:
        """The engine object writing the poem (Composer or Filler), or None."""
        return self.session.engine if self.session is not None else None

    @property
    def filling(self) -> bool:
        return self.session is not None and self.session.filling

    @property
    def selected(self) -> int | None:
        return self.session.selected if self.session is not None else None

    def steps(self) -> list[Step]:
        """Every written position with its candidates and probability, in order."""
        return self.session.steps() if self.session is not None else []

    def poem_text(self) -> str:
        return self.session.text if self.session is not None else ""

    @property
    def script(self) -> str:
        vocab = self.loaded.vocab if self.loaded is not None else None
        return str(vocab.script) if vocab is not None else "simplified"
