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

STUDIO_K = 5  # drafts drawn; the panel shows those that fit (three 五绝 at 80×24, all five when taller)


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


HEAD = "best of {k} · critic: a reader's expected score"  # on the readers' 1–5 scale, a weak model's below 1
FOOT = "a number key takes a draft; any other key goes on"


def draft_rows(text: str) -> list[str]:
    """A draft a couplet to a row, without the couplet's closing mark, so no row starts with a
    mark and a 七言 couplet (30 cells) fits the narrow panel."""
    from tangstudio.engine.corpus.poem import split_clauses
    from tangstudio.engine.hanzi import CLAUSE_END

    clauses = split_clauses(text)
    return ["".join(clauses[i : i + 2]).rstrip(CLAUSE_END) for i in range(0, len(clauses), 2)]


def drafts_panel(drafts: Drafts, rows: int = 10_000, width: int = 10_000) -> tuple[PanelState, int]:
    """The ranked drafts that fit the panel's `rows` × `width` cells, each under its key and
    critic score, and how many were shown: a number key takes only a draft the person can see."""
    from rich.cells import cell_len

    def height(line: str) -> int:
        return max(1, -(-cell_len(line) // max(width, 1)))

    from tangstudio.engine.compose.craft.best_of import of_k

    k = len(drafts.ranked)
    head = HEAD.format(k=of_k(drafts.ranked))
    blocks = [
        [f"{key}  {(d.critic or {}).get('critic', 0.0):.2f}", *draft_rows(d.text)]
        for key, d in zip(KEYS, drafts.ranked)
    ]

    def fitting(left: int) -> int:  # how many blocks fit in `left` rows (always the first)
        shown = 0
        for block in blocks:
            left -= sum(map(height, block))
            if shown and left < 0:
                break
            shown += 1
        return shown

    partial = f"{{}} of {k} fit here; {FOOT}"  # the longer foot, when not all fit
    shown = fitting(rows - height(head) - height(FOOT))
    if shown < k:  # its rows come off the drafts'
        shown = fitting(rows - height(head) - height(partial.format(k)))
    foot = FOOT if shown == k else partial.format(shown)
    lines = [head, *(row for block in blocks[:shown] for row in block), foot]
    return PanelState(message="\n".join(lines)), shown


def take(loaded: Any, drafts: Drafts, index: int, novelty: Any) -> Any:
    """A session holding draft `index`, rewritten at its seed (None for a key past the list)."""
    from tangstudio.engine.compose.craft.best_of import drawn
    from tangstudio.studio.sessions import make_session

    if not 0 <= index < len(drafts.ranked):
        return None
    draft = drafts.ranked[index]
    session = make_session(loaded, replace(drafts.settings, seed=draft.seed), novelty)
    while not session.done:
        session.advance(drafted=True)  # as compose_best wrote it: each line the best of its drafts
    # where the poem came from, for the saved file (export.save says whether it was edited since)
    session.origin = {
        "best_of": drawn(drafts.ranked),
        "draft": index + 1,
        "critic": (draft.critic or {}).get("critic"),
        "text": session.text,
    }
    return session
