"""The craft's lean on one step's distribution: the repetition penalty, the season, the 对仗 bias.

Applied by the Composer after the form's masks and the temperature, before the draw, and only at
positions the sampler chooses (a forced place has one character anyway). The knobs are read from
the settings at every step, so the studio can change them mid-poem; 0 turns any of them off.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tangstudio.engine.compose.craft.pairing import aligned_char, bias_for
from tangstudio.engine.compose.craft.repetition import (
    BREAK,
    NUMBER_FAMILY,
    apply_penalty,
    family_repeats,
    han_ids_for,
    load_diezi,
    penalised_counts,
    spellings_for,
    stutter_id,
    written_ids,
)
from tangstudio.engine.compose.craft.season import lexicon, off_season_ids
from tangstudio.engine.compose.decoding import Distribution
from tangstudio.engine.hanzi import LINE_MARKS
from tangstudio.engine.prosody.duizhang import LV_FORMS

if TYPE_CHECKING:
    from tangstudio.engine.compose.constraints import CState, Plan
    from tangstudio.engine.compose.settings import ComposeSettings, StepInfo
    from tangstudio.engine.compose.tables import VocabTables


def repeat_counts(
    plan: Plan, tables: VocabTables, history: list[StepInfo], line: int, line_text: str, keyword: str
) -> dict[int, int]:
    """What the repetition penalty weighs at the next place (the sampler's and the line drafts'):
    each character the poem holds, and those the person gave for places still ahead — a later
    line's acrostic character, a locked line below the one being rewritten — which the poem will
    hold (a 冬 written in line 1 of 春夏秋冬 is a repeat once line 4 opens with it)."""
    stoi = tables.vocab.stoi
    pos = len(history)
    ahead = [t for p, t in plan.fixed.items() if p > pos and tables.hanzi[t]]
    ahead += list(plan.acrostic_ids[line + 1 :])
    written = [*written_ids(history, han_ids_for(tables)), BREAK, *ahead]
    counts = penalised_counts(
        written,
        line_text,
        load_diezi(tables.vocab.script),
        stoi,
        frozenset(plan.theme_ids),
        spellings_for(tables),
        keyword,
    )
    if not any(s.chosen in NUMBER_FAMILY for s in history):  # the common case: nothing to add
        return counts
    finished = re.split(f"[{LINE_MARKS}]", "".join(s.chosen for s in history))[:line]
    return family_repeats(counts, finished, line_text, stoi)


def steer(
    dist: Distribution,
    *,
    plan: Plan,
    tables: VocabTables,
    settings: ComposeSettings,
    cstate: CState,
    history: list[StepInfo],
    text: str,
    keyword: str = "",
) -> Distribution:
    """`dist` with the repetition penalty, the season and the 对仗 bias applied (the model's own p
    untouched)."""
    probs = dist.probs
    stoi = tables.vocab.stoi
    if settings.repeat_penalty > 0:
        counts = repeat_counts(plan, tables, history, cstate.line, cstate.line_text, keyword)
        probs = apply_penalty(probs, counts, settings.repeat_penalty)
        stuttered = stutter_id(tables, cstate.line_text)
        if stuttered is not None and probs[stuttered] < probs.sum():  # never the only character left
            probs = probs.copy()
            probs[stuttered] = 0.0
            probs = probs / probs.sum()
    if settings.season > 0:
        lex = lexicon(tables.vocab.script)
        named = lex.seasons_in(settings.title + "\n" + text)
        probs = apply_penalty(probs, off_season_ids(lex, named, cstate.line_text, stoi), settings.season)
    if settings.duizhang > 0 and plan.regulated:
        a = aligned_char(plan.form, plan.n_chars, cstate.line, cstate.col, text)
        bias = bias_for(tables) if a is not None else None
        if bias is not None and a is not None:
            probs = bias.apply(probs, a, settings.duizhang)
    if probs is dist.probs:
        return dist
    return Distribution(dist.model_probs, probs, dist.removed_mass)


def pairing_hint(
    plan: Plan, text: str, candidates: list[str], script: str, k: int = 3
) -> dict[str, Any] | None:
    """While line 4 or 6 of a 律诗 is written (the studio's panel): the character above this place,
    the corpus's best answers to it, and the PMI of each of the step's candidates against it."""
    if not plan.regulated or plan.form not in LV_FORMS:
        return None
    from tangstudio.engine.prosody.duizhang import label, load_table

    line, col = divmod(len(text), plan.chars_per_line + 1)
    a = aligned_char(plan.form, plan.n_chars, line, col, text)
    table = load_table(script) if a is not None else None
    if a is None or table is None:
        return None
    pairs = [(c, table.pmi(a, c), label(table.pmi(a, c))) for c in candidates if len(c) == 1]
    return {"line": line + 1, "aligned": a, "best": table.best_partners(a, k), "candidates": pairs}
