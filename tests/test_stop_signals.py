"""How repeated signals stop a training command (cli/stopping.py): only a second Ctrl+C, more than a
second after the first, stops at once; any other repeat waits for the checkpoint. The signals are
sent to this process, whose handlers StopSignals installs and restores."""

from __future__ import annotations

import os
import signal

import pytest

from tangstudio.cli.stopping import StopSignals


def _send(signum: int) -> None:
    os.kill(os.getpid(), signum)  # the handler runs in the main thread before os.kill returns


def _a_second_later(stop: StopSignals) -> None:
    stop.first_at -= 1.5  # as if the first signal came 1.5 s ago, without sleeping


@pytest.mark.parametrize("first", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGHUP])
def test_a_repeated_signal_other_than_ctrl_c_waits_for_the_checkpoint(first: int, second: int) -> None:
    with StopSignals() as stop:
        _send(first)
        _a_second_later(stop)
        _send(second)  # no KeyboardInterrupt: the step finishes and `last/` is written
        assert stop.requested() and stop.exit_code() == (130 if first == signal.SIGINT else 128 + first)


@pytest.mark.parametrize("first", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_second_ctrl_c_a_second_later_stops_at_once(first: int) -> None:
    with StopSignals() as stop:
        _send(first)
        _a_second_later(stop)
        with pytest.raises(KeyboardInterrupt):
            _send(signal.SIGINT)


def test_a_ctrl_c_within_the_second_or_after_an_asked_stop_waits() -> None:
    with StopSignals() as stop:
        _send(signal.SIGINT)
        _send(signal.SIGINT)  # a double tap (or torchrun's forwarded copy) counts once
        assert stop.exit_code() == 130
    with StopSignals() as stop:
        stop.ask(signal.SIGHUP)  # the terminal went away before its SIGHUP arrived
        _send(signal.SIGHUP)
        assert stop.exit_code() == 129


def test_the_previous_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with StopSignals():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before
