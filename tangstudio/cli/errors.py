"""Turning engine errors into one line on stderr and their exit code (2 for bad input)."""

from __future__ import annotations

import sys


def report_and_exit(exc: BaseException) -> None:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(getattr(exc, "exit_code", 2))
