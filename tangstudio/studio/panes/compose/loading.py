"""Loading the chosen model in a worker thread, so the first frame and the keys never wait for it.

A fused rnn/lstm/gru reads into numpy in well under a second; others need torch. A TangError
(a folder that is no model, a digits run) is one line with what to do next.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tangstudio.studio.panes.compose.pane import ComposePane


def load_in_background(pane: ComposePane, target: str, which: int) -> None:
    """Load `target`; the pane's `loaded_model(which, ...)` or `load_failed(which, message)` runs on
    the UI thread, `which` saying which of the pane's loads it answers."""

    def load() -> None:
        from tangstudio.engine.errors import TangError
        from tangstudio.studio.composing import load_model

        try:
            loaded, novelty = load_model(target)
        except TangError as exc:
            message = f"{exc} — choose another model, or train one (F2 → t)."
        except Exception as exc:
            message = f"could not load {target}: {exc}"
        else:
            pane.app.call_from_thread(pane.loaded_model, which, target, loaded, novelty)
            return
        pane.app.call_from_thread(pane.load_failed, which, message)

    pane.run_worker(load, thread=True, exclusive=True, group="compose-load")
