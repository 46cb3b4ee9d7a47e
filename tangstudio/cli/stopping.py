"""How a training command stops: one runner for `train --headless` and `lab ... train`.

SIGINT (Ctrl+C), SIGTERM and SIGHUP (the terminal closed, without nohup) ask the trainer to stop:
it finishes the step, writes `last/` and returns `interrupted`. A second Ctrl+C more than a second
later stops at once (KeyboardInterrupt), without the checkpoint; the previous one is whole. Any
other signal after the first waits for the checkpoint too: a closed terminal's SIGHUP may come
after its EIO had already asked for the stop (`ask`), and a shell re-sends SIGHUP to its jobs. Under
torchrun a Ctrl+C reaches each worker twice (from the terminal and forwarded by the launcher), so
there only the first signal counts. The exit code says which signal stopped it (130 for SIGINT,
128 + its number otherwise), as a shell expects.

Output that goes away (a closed terminal: EIO; a pipe whose reader left: EPIPE) is a stop too,
never a failure (`Guarded`, `tell`): the stream is pointed at /dev/null and the run stops as SIGHUP
or SIGPIPE would stop it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, TextIO


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


# ---- output that goes away (both trainers) -------------------------------------------------------

# What a write to vanished output raises, and the signal whose stop it stands for: a closed
# terminal gives EIO (its SIGHUP may come before or after), a pipe whose reader left gives EPIPE.
OUTPUT_GONE = {errno.EIO: "SIGHUP", errno.EPIPE: "SIGPIPE"}


def output_gone(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in OUTPUT_GONE


def gone_exit_code(exc: BaseException) -> int:
    """The exit code a shell expects of a command whose output vanished: 128 + the number of the
    signal that vanishing stands for (141 for SIGPIPE, 129 for SIGHUP)."""
    name = OUTPUT_GONE.get(getattr(exc, "errno", None) or 0, "SIGPIPE")
    return 128 + int(getattr(signal, name, signal.SIGTERM))


class OutputGone(Exception):
    """A command's output vanished. Not an OSError, so that Typer (which turns EPIPE into a silent
    exit 1) lets it through to `main()`, which exits with `code` as the matching signal would."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def silence(stream: TextIO) -> None:
    """Point the stream's descriptor at /dev/null, so later writes (Rich's refresh thread, the
    interpreter's last flush, which would otherwise exit 120) go nowhere instead of failing again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, stream.fileno())
        finally:
            os.close(null)


def tell(text: str, stream: TextIO | None = None) -> None:
    """A line (on stderr unless told) that may find no terminal left: the run's outcome stands
    either way."""
    stream = stream or sys.stderr
    try:
        print(text, file=stream, flush=True)
    except OSError as exc:
        if not output_gone(exc):
            raise
        silence(stream)


class Guarded:
    """A view whose output may vanish mid-run. Printing to a closed terminal used to fail the run
    (a second `done` line, "failed", after the checkpoint of its SIGHUP had been written); here it
    silences stdout and asks the run to stop as the matching signal would: checkpoint, interrupted,
    resumable, exit 129 (or 141)."""

    def __init__(self, view: Any, ask_stop: Callable[[int], None]) -> None:
        self.view = view
        self.ask_stop = ask_stop
        self.gone = False

    def __enter__(self) -> Guarded:
        self._call(self.view.__enter__)
        return self

    def __exit__(self, *exc: object) -> None:
        self._call(self.view.__exit__, *exc)  # even when gone: it stops Rich's refresh thread

    def on_event(self, event: dict) -> None:
        if not self.gone:
            self._call(self.view.on_event, event)

    def _call(self, method: Callable[..., Any], *args: Any) -> None:
        try:
            method(*args)
        except OSError as exc:
            if not output_gone(exc):
                raise
            self.gone = True
            silence(sys.stdout)
            name = OUTPUT_GONE[int(exc.errno or 0)]
            self.ask_stop(int(getattr(signal, name, signal.SIGTERM)))
