"""Opening the studio from the CLI (imports Textual only when called)."""

from __future__ import annotations

import sys


def launch_studio(run: str | None = None, pane: str | None = None, train_config: dict | None = None) -> None:
    """Refuses, in one line, when there is no terminal to draw on (a pipe, a cron job, `nohup`)."""
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        from tangstudio.engine.errors import TangError

        raise TangError(
            "the studio needs a terminal; without one, use the headless commands "
            "(`tangstudio --help` lists them: train --headless, generate, eval, ...)"
        )
    from tangstudio.studio.app import create_app

    create_app(run=run, pane=pane, train_config=train_config).run()
