"""The poem area: it takes the focus, so Space, digits and Backspace reach the composer, not a field,
and Chinese characters typed or pasted into it become a `Typed` message for the pane to write."""

from __future__ import annotations

from textual import events
from textual.containers import VerticalScroll
from textual.message import Message


def is_han(char: str) -> bool:
    """A CJK ideograph (BMP blocks, compatibility ideographs, the supplementary planes)."""
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or char >= "\U00020000"


class PoemScroll(VerticalScroll):
    """The scrolling area around the poem view; the compose pane's keys act on it."""

    can_focus = True

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
