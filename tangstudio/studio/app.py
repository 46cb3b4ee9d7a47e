"""Placeholder studio until the studio issue lands (replaced by the real app)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static


class TangStudio(App):
    TITLE = "Tang Studio"
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Tang Studio — panes arrive with the studio issue.")
        yield Footer()


def create_app(run: str | None = None, pane: str | None = None, train_config: dict | None = None) -> TangStudio:
    return TangStudio()
