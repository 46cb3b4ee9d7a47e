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


HEAD = "best of {k} drafts · critic score 1–5"  # the critic: a blind reader's expected score
FOOT = "a number key takes a draft; any other key goes on"


def draft_rows(text: str) -> list[str]:
    """A draft a couplet to a row, without the couplet's closing mark, so no row starts with a
    mark and a 七言 couplet (30 cells) fits the narrow panel."""
    from tangstudio.engine.corpus.poem import split_clauses

    clauses = split_clauses(text)
    return ["".join(clauses[i : i + 2]).rstrip("。！？；，") for i in range(0, len(clauses), 2)]


def drafts_panel(drafts: Drafts, rows: int = 10_000, width: int = 10_000) -> tuple[PanelState, int]:
    """The ranked drafts that fit the panel's `rows` × `width` cells, each under its key and
    critic score, and how many were shown: a number key takes only a draft the person can see."""
    from rich.cells import cell_len

    def height(line: str) -> int:
        return max(1, -(-cell_len(line) // max(width, 1)))

    head, k = HEAD.format(k=len(drafts.ranked)), len(drafts.ranked)
    partial = f"{{}} of {k} fit here; {FOOT}"  # the longest foot: its rows are kept free
    lines, left, shown = [head], rows - height(head) - height(partial.format(k)), 0
    for key, d in zip(KEYS, drafts.ranked):
        score = (d.critic or {}).get("critic", 0.0)
        block = [f"{key}  {score:.2f}", *draft_rows(d.text)]
        need = sum(map(height, block))
        if shown and need > left:
            break
        lines += block
        left -= need
        shown += 1
    lines.append(FOOT if shown == k else partial.format(shown))
    return PanelState(message="\n".join(lines)), shown


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
