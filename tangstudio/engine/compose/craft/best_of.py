"""Best of K: sample K drafts of each poem and keep the one the critic scores highest.

A poet writes many drafts and keeps one; a sampler's first draw is only a draw. A poem's first
draft is drawn at the poem's own seed (poem #k of a seeded batch at seed + k − 1, as without
drafts), and draft j at that seed + j·STRIDE, so `-n 1 --seed S --candidates K` redraws any one
poem of a batch, drafts and choice included, and K = 1 is exactly the old first draw. The drafts stay attached to the kept poem, ranked
(`result.drafts`, best first, each with its critic scores), for `--json` and the studio's
best-of-K view, so a person can take any of them instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from tangstudio.engine.compose.craft.critic import Critic, lm_from_steps
from tangstudio.engine.compose.settings import MAX_SEED, ComposeResult, ComposeSettings
from tangstudio.engine.errors import TangError

if TYPE_CHECKING:
    from tangstudio.engine.compose.line_index import LineIndex
    from tangstudio.engine.compose.tables import VocabTables
    from tangstudio.engine.runs.loaded import Loaded

MAX_CANDIDATES = 64
STRIDE = 2**32  # draft j of the poem at seed s: s + j·STRIDE (far from the batch's s + 1, s + 2 …)


def draft_seed(seed: int, j: int) -> int:
    return (seed + j * STRIDE) % (MAX_SEED + 1)


def check_candidates(k: int, beam: int = 0) -> None:
    if not isinstance(k, int) or not 1 <= k <= MAX_CANDIDATES:
        raise TangError(f"--candidates must be between 1 and {MAX_CANDIDATES}, got {k}")
    if k > 1 and beam:
        raise TangError("--candidates samples drafts and --beam searches: choose one")


def rank(drafts: list[ComposeResult], critic: Critic, script: str) -> list[ComposeResult]:
    """The different drafts (one form) scored by the critic and sorted best first; scores kept on
    each, and how many of the K came out the same (`copies`): at a low temperature two drafts can be
    one poem, and "best of 5" listed it twice (a poet's review)."""
    if not drafts:
        return drafts
    scores = critic.score(
        [d.text for d in drafts], drafts[0].form, [lm_from_steps(d.steps) for d in drafts], script
    )
    for draft, score in zip(drafts, scores):
        draft.critic = score
    distinct: dict[str, ComposeResult] = {}
    for draft in sorted(drafts, key=lambda d: -(d.critic or {}).get("critic", 0.0)):
        kept = distinct.setdefault(draft.text, draft)
        if kept is not draft:
            kept.copies += 1
    return list(distinct.values())


def drawn(ranked: list[ComposeResult]) -> int:
    """How many drafts were drawn, the same ones counted each time (`rank` lists them once)."""
    return sum(d.copies for d in ranked)


def of_k(ranked: list[ComposeResult]) -> str:
    """ "5 drafts" or "5 drafts, 4 different": what a best-of-K heading says it chose from."""
    k = drawn(ranked)
    return f"{k} drafts" + (f", {len(ranked)} different" if len(ranked) < k else "")


def drafts_of(
    first: ComposeResult,
    k: int,
    loaded: Loaded,
    settings: ComposeSettings,
    *,
    novelty: LineIndex | None,
    tables: VocabTables | None,
) -> list[ComposeResult]:
    """The poem's k drafts: `first` (drawn at the poem's seed) and k − 1 more at draft_seed(seed, j)."""
    from tangstudio.engine.compose.generator import Composer

    seed = first.seed if first.seed is not None else 0
    more = [
        Composer(loaded, replace(settings, seed=draft_seed(seed, j)), novelty=novelty, tables=tables).finish()
        for j in range(1, k)
    ]
    return [first, *more]


def compose_best(
    loaded: Loaded,
    settings: ComposeSettings,
    n: int,
    k: int,
    *,
    critic: Critic | None,
    novelty: LineIndex | None = None,
    tables: VocabTables | None = None,
) -> list[ComposeResult]:
    """n poems, each the critic's best of k drafts (k = 1: the first draw, no critic needed)."""
    from tangstudio.engine.compose.generator import Composer
    from tangstudio.engine.compose.tables import tables_for

    check_candidates(k)
    tables = tables or tables_for(loaded.vocab)
    out = []
    for i in range(n):
        one = replace(settings, seed=None if settings.seed is None else settings.seed + i)
        first = Composer(loaded, one, novelty=novelty, tables=tables).finish()
        if k > 1 and critic is not None:
            ranked = rank(
                drafts_of(first, k, loaded, one, novelty=novelty, tables=tables), critic, loaded.vocab.script
            )
            ranked[0].drafts = ranked
            first = ranked[0]
        out.append(first)
    return out


def best_of_k(
    poems: Iterable[ComposeResult], k: int, loaded: Loaded, settings: ComposeSettings
) -> Iterator[ComposeResult]:
    """`generate --candidates k`: each poem as it comes (its first draft) with k − 1 more drafts
    drawn beside it, ranked by the critic; the poems unchanged when k = 1."""
    if k <= 1:
        return iter(poems)
    from tangstudio.engine.compose.craft.critic import load_critic
    from tangstudio.engine.compose.novelty import index_for_model
    from tangstudio.engine.compose.tables import tables_for

    critic = load_critic()
    novelty = index_for_model(loaded)
    tables = tables_for(loaded.vocab)

    def ranked() -> Iterator[ComposeResult]:
        for first in poems:
            drafts = drafts_of(first, k, loaded, settings, novelty=novelty, tables=tables)
            best = rank(drafts, critic, loaded.vocab.script)
            best[0].drafts = best
            yield best[0]

    return ranked()


def critic_available() -> bool:
    """Whether a critic ships here (the default K falls back to 1 without one; an asked-for K errs)."""
    from tangstudio.engine.compose.craft.critic import WEIGHTS_FILE, critic_dir

    try:
        return (critic_dir() / WEIGHTS_FILE).is_file()
    except TangError:
        return False
