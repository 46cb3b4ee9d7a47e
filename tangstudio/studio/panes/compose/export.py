"""What leaves the compose pane: `w` saves the poem (Markdown + JSON), `W` the screen as SVG, `c` copies.

Each returns what the pane says (`Said`), so the pane stays a list of keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from textual.app import App

    from tangstudio.studio.sessions import Session

Severity = Literal["information", "warning", "error"]


class Said(NamedTuple):
    """A notification: the line, how bad, and its title."""

    message: str
    severity: Severity = "information"
    title: str = "Compose"


def save(session: Session | None, model: str, script: str) -> Said:
    """Write the poem under `<home>/poems/` with its check (an unfinished poem is saved without one)."""
    text = session.text if session is not None else ""
    if not text or session is None:
        return Said("nothing to save yet: Space writes the first character.")
    from tangstudio.engine.errors import TangError
    from tangstudio.studio.composing import save_poem

    check = None
    try:
        from tangstudio.engine.prosody import check_poem

        check = check_poem(text, form="auto", script=script).to_dict()
    except TangError:
        check = None  # an unfinished poem has no verdict; save it anyway
    try:
        path = save_poem(text, session.steps(), session.settings, model, script, check)
    except OSError as exc:
        return Said(f"could not save: {exc}", "error")
    return Said(f"saved to {path.with_suffix('.md')} (and .json beside it)", title="Poem saved")


def screenshot(app: App) -> Said:
    """Save the screen as SVG under `<home>/poems/` (Textual's save_screenshot)."""
    from datetime import datetime

    from tangstudio.engine import paths

    folder = paths.home() / "poems"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-compose.svg"
        path = app.save_screenshot(name, str(folder))
    except OSError as exc:
        return Said(f"could not save the screenshot: {exc}", "error")
    return Said(f"screenshot saved to {path}")


def copy(app: App, text: str) -> Said:
    """Copy the poem; the line says where it went."""
    if not text:
        return Said("nothing to copy yet.")
    app.copy_to_clipboard(text)
    return Said("poem copied to the clipboard.")
