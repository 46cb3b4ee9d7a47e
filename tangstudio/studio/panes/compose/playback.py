"""`p`: the rest of the poem written at a visible pace, one Space per tick, until done or stopped."""

from __future__ import annotations

from collections.abc import Callable

from textual.timer import Timer
from textual.widget import Widget

PLAY_INTERVAL_S = 0.12  # a 七律 in about 8 s: fast enough to finish, slow enough to watch


class Player:
    """A timer that calls `step` (False: nothing left, stop) and tells `stopped` when it ends."""

    def __init__(self, owner: Widget, step: Callable[[], bool], stopped: Callable[[], None]) -> None:
        self.owner, self.step, self.stopped = owner, step, stopped
        self._timer: Timer | None = None

    @property
    def playing(self) -> bool:
        return self._timer is not None

    def start(self) -> None:
        self._timer = self.owner.set_interval(PLAY_INTERVAL_S, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
            self.stopped()

    def _tick(self) -> None:
        if not self.step():
            self.stop()
