"""What every pane shares: heavy work waits until the pane is first shown, and a first field to focus."""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import Container
from textual.message import Message
from textual.widgets import Input, Select, TextArea

FIELDS = (Input, Select, TextArea)


class Pane(Container):
    # Esc leaves a field in every pane, as the help says; the focus lands on the pane's own list or
    # view (not nowhere), so the pane's keys (`t`, `e`, …) work again at once. A pane may bind Esc itself.
    BINDINGS = [Binding("escape", "leave_field", "Leave field", show=False)]

    class Shown(Message):
        """The pane's tab became active (the app posts it, also for the first pane after the first frame)."""

    _seen = False

    def on_pane_shown(self, _message: Pane.Shown) -> None:
        first, self._seen = not self._seen, True
        self.when_shown(first)

    @property
    def too_small(self) -> bool:
        """The app covers the panes with "window too small" (class `-too-small`, app._fit)."""
        return self.screen.has_class("-too-small")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No pane key acts behind the too-small notice: a poem replaced or a run started there is
        unseen. The app's own keys (quit, help, the pane switches) still work."""
        return not self.too_small

    def refused_because(self, action: str) -> str | None:
        """Why `check_action` refuses `action` here, in words, where the reason is not "another view"
        (the palette says it when a command does nothing)."""
        return None

    def when_shown(self, first: bool) -> None:
        """Start loading on `first`; refresh anything that may be stale otherwise."""

    def action_leave_field(self) -> None:
        focused = self.screen.focused
        if focused is None or not isinstance(focused, FIELDS):
            return
        home = next(
            (w for w in self.query("*") if w.focusable and w.display and not isinstance(w, FIELDS)),
            None,
        )
        if home is not None:
            home.focus()
        else:
            self.screen.set_focus(None)

    def focus_first(self) -> None:
        for widget in self.query("*"):
            if widget.focusable and widget.display:
                widget.focus()
                return
