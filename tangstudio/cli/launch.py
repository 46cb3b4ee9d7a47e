"""Opening the studio from the CLI (imports Textual only when called)."""

from __future__ import annotations


def launch_studio(run: str | None = None, pane: str | None = None, train_config: dict | None = None) -> None:
    from tangstudio.studio.app import create_app

    create_app(run=run, pane=pane, train_config=train_config).run()
