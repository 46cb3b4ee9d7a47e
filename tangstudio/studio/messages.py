"""Messages the panes send each other through the app.

Panes never reach into one another: the model pane asks for a training run, the app routes it to
the train pane; any pane can ask the app to show another pane.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from textual.message import Message

PaneName = Literal["corpus", "model", "train", "compose", "lab"]
PANES: tuple[str, ...] = get_args(PaneName)  # the studio's panes, in tab order
# What the model pane asks the train pane to run: TrainConfig's fields by name (`tangstudio train
# --headless` options), as TrainConfig(**options) reads them; validated there, not here.
TrainOptions = dict[str, Any]


class ShowPane(Message):
    """Switch the studio to a pane."""

    def __init__(self, pane: PaneName) -> None:
        super().__init__()
        self.pane = pane


class StartTraining(Message):
    """Start a training run with these options (the keys of `tangstudio train --headless`)."""

    def __init__(self, options: TrainOptions) -> None:
        super().__init__()
        self.options = options
