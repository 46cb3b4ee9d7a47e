"""What every pane shares: heavy work waits until the pane is first shown, and a first field to focus."""

from __future__ import annotations

from textual.containers import Container
from textual.message import Message


class Pane(Container):
    class Shown(Message):
        """The pane's tab became active (the app posts it, also for the first pane after the first frame)."""

    _seen = False

    def on_pane_shown(self, _message: Pane.Shown) -> None:
        first, self._seen = not self._seen, True
        self.when_shown(first)

    def when_shown(self, first: bool) -> None:
        """Start loading on `first`; refresh anything that may be stale otherwise."""

    def focus_first(self) -> None:
        for widget in self.query("*"):
            if widget.focusable and widget.display:
                widget.focus()
                return
