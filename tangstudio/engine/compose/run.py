"""Compose several poems at once — the one entry point the CLI and the quality report share."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from tangstudio.engine.compose.line_index import LineIndex
from tangstudio.engine.compose.settings import ComposeResult, ComposeSettings
from tangstudio.engine.errors import TangError
from tangstudio.engine.runs.loaded import Loaded

if TYPE_CHECKING:
    from tangstudio.engine.compose.tables import VocabTables


def compose_many(
    loaded: Loaded,
    settings: ComposeSettings,
    n: int,
    *,
    beam: int = 0,
    novelty: LineIndex | Literal["auto"] | None = "auto",
    refine_rounds: int = 2,
) -> tuple[list[ComposeResult], list[str]]:
    """n poems (sampled, beam-searched, or filled for a bilstm) and notes worth showing the person.

    Poem k is sampled with seed + k, so any one poem of a seeded batch can be reproduced alone.
    `novelty="auto"` loads the index of the model's training corpus (None skips the corpus checks).
    """
    notes, poems = compose_stream(
        loaded, settings, n, beam=beam, novelty=novelty, refine_rounds=refine_rounds
    )
    return list(poems), notes


def compose_stream(
    loaded: Loaded,
    settings: ComposeSettings,
    n: int,
    *,
    beam: int = 0,
    novelty: LineIndex | Literal["auto"] | None = "auto",
    refine_rounds: int = 2,
) -> tuple[list[str], Iterator[ComposeResult]]:
    """`compose_many`'s notes at once, and its poems one by one as each is finished, so a caller can
    show each at once and keep what it showed if stopped (`generate -n 1000`, Ctrl+C). The
    arguments are checked, and the novelty index loaded, before this returns; a beam search
    finishes all its poems together."""
    from tangstudio.engine.compose.constraints import make_plan
    from tangstudio.engine.compose.tables import tables_for
    from tangstudio.engine.forms import FREE, get, parse_many

    settings.check_seed_range(n)
    notes: list[str] = []
    tables = tables_for(loaded.vocab)
    make_plan(settings, tables)  # a refused acrostic or prefix says so before any note about it
    if novelty == "auto":
        from tangstudio.engine.compose.novelty import index_for_model

        novelty = index_for_model(loaded)
        if novelty is None:
            notes.append("the model's training corpus is not available here: copied lines were not checked")
    trained_on = parse_many(loaded.meta.get("forms") or None)  # "" in runs saved before it was refused
    if trained_on is not None and settings.form not in trained_on:
        only = f"this model was trained on {loaded.meta.get('forms')} verse only"
        notes.append(
            f"{only}: it has never begun a free-form poem, so expect it to drift into one of the forms it knows"
            if settings.form == FREE.name
            else f"{only}: it has never written a {get(settings.form).zh}, so the form is held by the "
            "constraints alone; expect weaker lines"
        )
    from tangstudio.engine.compose.notes import settings_notes

    notes += settings_notes(settings)  # allowed, but not silently: a short acrostic leaves lines free
    causal = loaded.causal
    if beam:
        if not causal:
            raise TangError(
                "--beam needs a left-to-right model (rnn, lstm, gru); a bilstm fills its grid from "
                "both sides: leave --beam out"
            )
        from functools import partial

        from tangstudio.engine.compose import beam as B

        # Diverse groups and the repeat penalty (--repeat-penalty): the plain N best differ in a
        # character and repeat themselves (beam.py).
        penalty = settings.repeat_penalty
        beam_search = partial(B.beam_search, diversity=B.DIVERSITY, repeat_penalty=penalty)
        if n > beam:
            notes.append(f"a beam of {beam} yields at most {beam} poems")
        notes.append(B.describe(beam, n, B.DIVERSITY, penalty))  # not the plain N best: say so
        return notes, iter(beam_search(loaded, settings, beam, n, novelty=novelty, tables=tables))
    return notes, _one_by_one(loaded, settings, n, causal, novelty, tables, refine_rounds)


def _one_by_one(
    loaded: Loaded,
    settings: ComposeSettings,
    n: int,
    causal: bool,
    novelty: LineIndex | None,
    tables: VocabTables,
    refine_rounds: int,
) -> Iterator[ComposeResult]:
    for k in range(n):
        one = replace(settings, seed=None if settings.seed is None else settings.seed + k)
        if causal:
            from tangstudio.engine.compose.generator import Composer

            yield Composer(loaded, one, novelty=novelty, tables=tables).finish()
        else:
            from tangstudio.engine.compose.fill import Filler

            filler = Filler(loaded, one, novelty=novelty, tables=tables)
            filler.refine(refine_rounds)
            yield filler.result()
