"""Messages the panes send each other through the app.

Panes never reach into one another: the model pane asks for a training run, the app routes it to
the train pane; any pane can ask the app to show another pane.
"""

from __future__ import annotations

from textual.message import Message


class ShowPane(Message):
    """Switch the studio to a pane (`corpus`, `model`, `train` or `compose`)."""

    def __init__(self, pane: str) -> None:
        super().__init__()
        self.pane = pane


class StartTraining(Message):
    """Start a training run with these options (the keys of `tangstudio train --headless`)."""

    def __init__(self, options: dict) -> None:
        super().__init__()
        self.options = options
