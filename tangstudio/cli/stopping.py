"""How a training command stops: one runner for `train --headless` and `lab ... train`.

SIGINT (Ctrl+C), SIGTERM and SIGHUP (the terminal closed, without nohup) ask the trainer to stop:
it finishes the step, writes `last/` and returns `interrupted`. A second Ctrl+C more than a second
later stops at once (KeyboardInterrupt), without the checkpoint; the previous one is whole. Any
other signal after the first waits for the checkpoint too: a closed terminal's SIGHUP may come
after its EIO had already asked for the stop (`ask`), and a shell re-sends SIGHUP to its jobs. Under
torchrun a Ctrl+C reaches each worker twice (from the terminal and forwarded by the launcher), so
there only the first signal counts. The exit code says which signal stopped it (130 for SIGINT,
128 + its number otherwise), as a shell expects.
"""

from __future__ import annotations

import os
import signal
import time
from types import FrameType
from typing import Any


class StopSignals:
    """`with StopSignals() as stop: train(..., should_stop=stop.requested)`; handlers restored on exit."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.first_at = 0.0
        self.distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
        self.signals = [signal.SIGINT, signal.SIGTERM] + (
            [signal.SIGHUP] if hasattr(signal, "SIGHUP") else []
        )
        self.previous: dict[int, Any] = {}

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.received:
            late = time.monotonic() - self.first_at > 1.0
            if signum == signal.SIGINT and late and not self.distributed:
                raise KeyboardInterrupt  # a second Ctrl+C: stop now, without the checkpoint
            return  # any other repeat (the SIGHUP after its EIO, a shell re-sending it) waits
        self.received.append(signum)
        self.first_at = time.monotonic()

    def ask(self, signum: int) -> None:
        """A stop asked for without the signal: the output went away (a terminal closed before its
        SIGHUP arrived, a pipe's reader left). It counts as that signal for the exit code, and never
        as a second one: a stop asked this way always writes its checkpoint."""
        if not self.received:
            self.received.append(signum)
            self.first_at = time.monotonic()

    def requested(self) -> bool:
        return bool(self.received)

    def exit_code(self) -> int:
        """130 for Ctrl+C (or no signal: a stop asked otherwise), 128 + the signal's number else."""
        if self.received and self.received[0] != signal.SIGINT:
            return 128 + int(self.received[0])
        return 130

    def __enter__(self) -> StopSignals:
        self.previous = {s: signal.signal(s, self._on_signal) for s in self.signals}
        return self

    def __exit__(self, *exc: object) -> None:
        for s, handler in self.previous.items():
            signal.signal(s, handler)
