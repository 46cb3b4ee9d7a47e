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
    import asyncio

    from tangstudio.studio.app import create_app, leave

    app = create_app(run=run, pane=pane, train_config=train_config)
    app.leave_at_once = True  # Ctrl+Q restores the terminal and ends the process itself

    async def run_then_leave() -> None:
        import signal

        if hasattr(signal, "SIGHUP"):  # the terminal closed: stop the studio's runs, then leave
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, app.hang_up)
        await app.run_async()  # other ways out (an error): returns once the terminal is restored
        # Leave from inside the loop: `App.run()` would then join every worker thread (one still
        # importing torch or loading a corpus held the prompt back for seconds). Nothing is left to
        # write: training children are separate processes that finish their checkpoint on their own.
        leave(app.exit_notes, app.return_code or 0)

    asyncio.run(run_then_leave())
