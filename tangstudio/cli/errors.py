"""Turning engine errors into one line on stderr and exit code 2."""

from __future__ import annotations

import sys


def fail(message: str, code: int = 2) -> "NoReturn":  # noqa: F821
    import typer

    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code)


def report_and_exit(exc: BaseException) -> None:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(getattr(exc, "exit_code", 2))
