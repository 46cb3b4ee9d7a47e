"""Opening the studio from the CLI (imports Textual only when called)."""

from __future__ import annotations

import os
import sys


def launch_studio(run: str | None = None, pane: str | None = None, train_config: dict | None = None) -> None:
    """Refuses, in one line, when there is no terminal to draw on (a pipe, a cron job, `nohup`)."""
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        from tangstudio.engine.errors import TangError

        raise TangError(
            "the studio needs a terminal; without one, use the headless commands "
            "(`tangstudio --help` lists them: train --headless, generate, eval, ...)"
        )
    import asyncio

    from tangstudio.studio.app import create_app

    app = create_app(run=run, pane=pane, train_config=train_config)

    async def run_then_leave() -> None:
        await app.run_async()  # returns once the terminal is restored
        for note in app.exit_notes:  # e.g. runs still writing their checkpoint
            print(note, file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        # Leave now, from inside the loop: `App.run()` would then join every worker thread (one still
        # importing torch or loading a corpus held the prompt back for seconds) and the interpreter's
        # teardown with torch loaded took another 1.2–1.5 s. Nothing is left to write: training
        # children are separate processes that finish their checkpoint on their own.
        os._exit(app.return_code or 0)

    asyncio.run(run_then_leave())
