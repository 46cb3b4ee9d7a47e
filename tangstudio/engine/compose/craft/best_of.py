"""Best of K: sample K drafts of each poem and keep the one the critic scores highest.

A poet writes many drafts and keeps one; a sampler's first draw is only a draw. Poem i (0-based)
of a seeded batch draws its K drafts at seeds seed + i·K … seed + i·K + K − 1, so every draft of
every poem can be redrawn alone with `--seed`. The drafts stay attached to the kept poem, ranked
(`result.drafts`, best first, each with its critic scores), for `--json` and the studio's
best-of-K view, so a person can take any of them instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from tangstudio.engine.compose.craft.critic import Critic, lm_from_steps
from tangstudio.engine.compose.settings import ComposeResult, ComposeSettings
from tangstudio.engine.errors import TangError

MAX_CANDIDATES = 64


def check_candidates(k: int, beam: int = 0) -> None:
    if not isinstance(k, int) or not 1 <= k <= MAX_CANDIDATES:
        raise TangError(f"--candidates must be between 1 and {MAX_CANDIDATES}, got {k}")
    if k > 1 and beam:
        raise TangError("--candidates samples drafts and --beam searches: choose one")


def rank(drafts: list[ComposeResult], critic: Critic, script: str) -> list[ComposeResult]:
    """The drafts (one form) scored by the critic and sorted best first; scores kept on each."""
    if not drafts:
        return drafts
    scores = critic.score(
        [d.text for d in drafts], drafts[0].form, [lm_from_steps(d.steps) for d in drafts], script
    )
    for draft, score in zip(drafts, scores):
        draft.critic = score
    return sorted(drafts, key=lambda d: -(d.critic or {}).get("critic", 0.0))


def compose_best(
    loaded, settings: ComposeSettings, n: int, k: int, *, critic: Critic | None, novelty=None, tables=None
) -> list[ComposeResult]:
    """n poems, each the critic's best of k drafts (k = 1: the first draw, no critic needed)."""
    from tangstudio.engine.compose.generator import Composer
    from tangstudio.engine.compose.tables import tables_for

    check_candidates(k)
    tables = tables or tables_for(loaded.vocab)
    out = []
    for i in range(n):
        drafts = []
        for j in range(k):
            seed = None if settings.seed is None else settings.seed + i * k + j
            drafts.append(
                Composer(loaded, replace(settings, seed=seed), novelty=novelty, tables=tables).finish()
            )
        if k > 1 and critic is not None:
            drafts = rank(drafts, critic, loaded.vocab.script)
            best = drafts[0]
            best.drafts = drafts
        else:
            best = drafts[0]
        out.append(best)
    return out


def grouped(drafts: Iterable[ComposeResult], k: int, critic: Critic, script: str) -> Iterator[ComposeResult]:
    """Each run of k consecutive drafts (what compose_many gives for n·k poems: draft j of poem i at
    seed + i·k + j) ranked by the critic; the best is yielded with all k attached, best first."""
    batch: list[ComposeResult] = []
    for draft in drafts:
        batch.append(draft)
        if len(batch) == k:
            ranked = rank(batch, critic, script)
            ranked[0].drafts = ranked
            yield ranked[0]
            batch = []


def best_of_k(drafts: Iterable[ComposeResult], k: int, loaded) -> Iterable[ComposeResult]:
    """`generate --candidates k`: the drafts as they come when k = 1, else each k ranked (grouped)."""
    if k <= 1:
        return drafts
    from tangstudio.engine.compose.craft.critic import load_critic

    return grouped(drafts, k, load_critic(), loaded.vocab.script)
