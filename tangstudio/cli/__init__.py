"""The headless face: a Typer CLI over the engine.

Each command lives in its own module and registers itself on `app`. `main()` turns the engine's
`TangError` into a one-line message and exit code 2, so bad input never shows a traceback.
"""

from __future__ import annotations

from tangstudio.cli.app import app
from tangstudio.cli import check_cmd, compare_cmd, corpus_cmd, eval_cmd, generate_cmd, runs_cmd, score_cmd, stats_cmd, train_cmd  # noqa: F401  (registration)

__all__ = ["app", "main"]


def main() -> None:
    from tangstudio.cli.errors import report_and_exit
    from tangstudio.engine.errors import TangError

    try:
        app()
    except TangError as exc:
        report_and_exit(exc)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
