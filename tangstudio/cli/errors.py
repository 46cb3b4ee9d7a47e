"""Turning engine errors into one line on stderr and their exit code (2 for bad input)."""

from __future__ import annotations

import sys


def say(message: str) -> None:
    """One `error:` line on stderr, with control characters escaped: a message that echoes what a
    person typed (a poem, a name) must not ring the bell or recolour the terminal."""
    from tangstudio.engine.typed_text import printable

    line = printable(" ".join(str(message).split("\n")))
    print(f"error: {line}", file=sys.stderr)


def report_and_exit(exc: BaseException) -> None:
    say(str(exc))
    sys.exit(getattr(exc, "exit_code", 2))
