"""What leaves the compose pane: `w` saves the poem (Markdown + JSON), `W` the screen as SVG, `c` copies.

Each returns what the pane says (`Said`), so the pane stays a list of keys.
"""

from __future__ import annotations

from pathlib import Path
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
    path: Path | None = None  # the file written, if any


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

        if session.done:  # half a poem read as a whole one was "form ✗ · rhyme ✗ · tones ✗" (a poet)
            check = check_poem(text, form="auto", script=script).to_dict()
    except TangError:
        check = None  # an unfinished poem has no verdict; save it anyway
    try:
        path = save_poem(text, session.steps(), session.settings, model, script, check, _origin(session))
    except OSError as exc:
        from tangstudio.engine.errors import describe_os_error

        return Said(f"could not save: {describe_os_error(exc)}", "error")
    return Said(f"saved to {path.with_suffix('.md')} (and .json beside it)", title="Poem saved", path=path)


def _origin(session: Session) -> dict | None:
    """A poem taken from the best-of-K drafts: which draft, its critic score, and whether the person
    changed it after taking it (the score was the draft's, not the edited poem's)."""
    origin = session.origin
    if not origin:
        return None
    return {key: origin[key] for key in ("best_of", "draft", "critic")} | {
        "edited": session.text != origin["text"]
    }


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
        from tangstudio.engine.errors import describe_os_error

        return Said(f"could not save the screenshot: {describe_os_error(exc)}", "error")
    return Said(f"screenshot saved to {path}")


def copy(app: App, text: str) -> Said:
    """Copy the poem and say where it went (issue 25 item 17: "copied" under tmux copied nothing).

    Three places, because no one of them is sure: the terminal's clipboard through OSC 52 (which
    many terminals, and tmux unless `set-clipboard on`, ignore), tmux's paste buffer when running
    inside tmux (`tmux load-buffer`), and a file, `<home>/poems/copied.txt`, that is always there.
    """
    if not text:
        return Said("nothing to copy yet.")
    app.copy_to_clipboard(text)
    places = ["sent to the terminal as OSC 52"]
    if _into_tmux_buffer(text):
        places.insert(0, "in tmux's paste buffer (prefix ] pastes it)")
    path = _into_file(text)
    if path is not None:
        places.append(f"written to {path}")
    return Said("poem " + ", ".join(places) + ".")


def _into_tmux_buffer(text: str) -> bool:
    """Inside tmux ($TMUX set): load the poem into its paste buffer; False if not in tmux or it fails."""
    import os
    import shutil
    import subprocess

    if not os.environ.get("TMUX") or shutil.which("tmux") is None:
        return False
    try:
        done = subprocess.run(
            ["tmux", "load-buffer", "-"], input=text.encode("utf-8"), capture_output=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _into_file(text: str):
    """`<home>/poems/copied.txt` (written atomically); None if it cannot be written."""
    from tangstudio.engine import paths
    from tangstudio.engine.atomic import write_text_atomic

    path = paths.home() / "poems" / "copied.txt"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, text + "\n")
    except OSError:
        return None
    return path
