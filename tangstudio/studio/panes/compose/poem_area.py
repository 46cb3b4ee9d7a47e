"""The poem area: it takes the focus, so Space, digits and Backspace reach the composer, not a field,
and Chinese characters typed or pasted into it become a `Typed` message for the pane to write."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message


def is_han(char: str) -> bool:
    """A CJK ideograph (BMP blocks, compatibility ideographs, the supplementary planes)."""
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or char >= "\U00020000"


_NOT_LOST = object()


class PoemScroll(VerticalScroll, inherit_bindings=False):
    """The scrolling area around the poem view; the compose pane's keys act on it.

    The arrows are the pane's (they move the cursor by character and line): a 律诗 at 80×24
    overflows, and the container's own ↑ ↓ then scrolled the view while the cursor stayed (a
    poet's review). The view follows the cursor instead (PoemView); PageUp/PageDown, Home and End
    still scroll."""

    can_focus = True
    BINDINGS = [
        Binding(key, action, show=False)
        for key, action in (
            ("home", "scroll_home"),
            ("end", "scroll_end"),
            ("pageup", "page_up"),
            ("pagedown", "page_down"),
        )
    ]
    # What Textual moved the focus to when a Hide took it from here (_NOT_LOST: it did not).
    _focus_went_to: object = _NOT_LOST

    def _on_hide(self, event: events.Hide) -> None:
        """A layout pass while a model loads can drop the pane from one frame (a Hide, then a Show):
        Textual then hands the focus to the tab bar, where Space and the digits do nothing."""
        had_focus = self.has_focus
        super()._on_hide(event)
        if had_focus:
            self._focus_went_to = self.screen.focused

    def _on_show(self, event: events.Show) -> None:
        """Back on screen: take the focus back, unless someone has moved it since the Hide."""
        super()._on_show(event)
        went, self._focus_went_to = self._focus_went_to, _NOT_LOST
        if went is not _NOT_LOST and self.screen.focused is went:
            self.focus()

    class Typed(Message):
        """Characters a person typed (an IME sends them as keys) or pasted into the poem."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def on_key(self, event: events.Key) -> None:
        char = event.character
        if char and len(char) == 1 and is_han(char):
            event.stop()
            event.prevent_default()
            self.post_message(self.Typed(char))

    def on_paste(self, event: events.Paste) -> None:
        text = "".join(c for c in event.text if not c.isspace())
        if text:
            event.stop()
            self.post_message(self.Typed(text))
