"""Best of K in the studio: K drafts of the poem, ranked by the critic, any of them taken with a key.

`b` draws K drafts with the pane's settings (the same drafts `generate --candidates K --seed S`
prints: draft j at seed S + j), the critic ranks them (engine/compose/craft/best_of.py), and the
side panel lists them best first with their scores; a number key takes that draft as the poem.
Taking one rewrites it step by step at its seed, so every character keeps its candidates and
probabilities in the panel, as if it had been written here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

from tangstudio.studio.widgets.prob_bars import KEYS, PanelState

STUDIO_K = 5  # drafts shown: five fit the panel at 80×24 with their scores


@dataclass
class Drafts:
    ranked: list[Any]  # ComposeResult, best first, each with .critic
    settings: Any  # the ComposeSettings they were drawn with


def draw(loaded: Any, settings: Any, novelty: Any, k: int = STUDIO_K) -> Drafts:
    """K drafts ranked by the critic (TangError when no critic ships or the model cannot sample)."""
    from tangstudio.engine.compose.craft.best_of import compose_best
    from tangstudio.engine.compose.craft.critic import load_critic
    from tangstudio.engine.errors import TangError

    if not getattr(loaded, "causal", True):
        raise TangError("best of K samples left to right: choose a causal model (rnn, lstm, gru)")
    seed = settings.seed if settings.seed is not None else int.from_bytes(os.urandom(4), "little") % 2**31
    seeded = replace(settings, seed=seed)
    best = compose_best(loaded, seeded, 1, k, critic=load_critic(), novelty=novelty)[0]
    return Drafts(best.drafts or [best], seeded)


def drafts_panel(drafts: Drafts) -> PanelState:
    """The ranked drafts as the panel's message: key, critic score, and the poem on one line."""
    lines = [f"best of {len(drafts.ranked)} drafts (critic: a blind reader's expected score, 1–5)"]
    for key, d in zip(KEYS, drafts.ranked):
        score = (d.critic or {}).get("critic", 0.0)
        lines.append(f"{key}  {score:.2f}  {d.text}")
    lines.append("a number key takes that draft; any other key goes on with the poem")
    return PanelState(message="\n".join(lines))


def take(loaded: Any, drafts: Drafts, index: int, novelty: Any) -> Any:
    """A session holding draft `index`, rewritten at its seed (None for a key past the list)."""
    from tangstudio.studio.sessions import make_session

    if not 0 <= index < len(drafts.ranked):
        return None
    draft = drafts.ranked[index]
    session = make_session(loaded, replace(drafts.settings, seed=draft.seed), novelty)
    while not session.done:
        session.advance(drafted=True)  # as compose_best wrote it: each line the best of its drafts
    return session
