"""Where each 藏字 theme character goes: a line planned for it up front, and a lean that rises there.

Issue 25 (item 6): with one lean over the whole poem, a theme character the model does not want
early is written in the last line, usually where the decoder must force it (雁 forced at p = 1 in
28 of 30 七绝). A poem about 雁 speaks of it where the scene is set, so each theme character gets
a line of its own before composing starts: drawn (seeded) among the lines left open, weighted by
where the train split's poems have it as a line keyword (planner table), and by EARLY per line so
the first lines are preferred. While that line is written the character's lean rises with every
character (THEME_LEAN · RISE^column), so it lands where the model half-wants it within the line;
a character the line could not take keeps rising in the lines after. A model that reads plans
also gets the character as that line's keyword. The decoder's last-chance forcing (constraints._theme)
stays as the guarantee.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tangstudio.engine.compose.decoding import Distribution
from tangstudio.engine.compose.planning.build import bucket
from tangstudio.engine.compose.planning.table import PlannerTable

THEME_LEAN = 8.0  # the lean of a theme character not (yet) planned into a line, as before
RISE = 3.0  # the lean's growth per character of the planned line: 8, 24, 72 … 5832 at a 七言's end
EARLY = 0.6  # weight of each later line against the one before it


def assign_lines(
    theme: Sequence[int],
    chars: Sequence[str],
    open_lines: Sequence[int],
    lines: int,
    seed: int,
    table: PlannerTable | None,
) -> dict[int, int]:
    """{theme token: line} for as many theme characters as there are open lines (seeded draw)."""
    rng = np.random.Generator(np.random.PCG64(seed + 0x7E3A))  # apart from the sampler's stream
    free = list(open_lines)
    out: dict[int, int] = {}
    for token, ch in zip(theme, chars):
        if not free:
            break
        weights = np.array([EARLY**line for line in free])
        if table is not None and ch in table.index:
            prior = np.exp(table.log_prior[:, table.index[ch]])
            weights *= np.array([prior[bucket(line, lines)] for line in free])
        line = free[int(rng.choice(len(free), p=weights / weights.sum()))]
        out[token] = line
        free.remove(line)
    return out


def lean(
    dist: Distribution, theme_left: frozenset[int], planned: dict[int, int], line: int, col: int, width: int
) -> Distribution:
    """The distribution with the theme characters still to write made likelier (then renormalised).

    A character planned for a later line is left alone; on its line it leans THEME_LEAN·RISE^col,
    and after its line (missed) it keeps rising from where it stopped. One not planned leans
    THEME_LEAN everywhere (free verse, more theme characters than lines).
    """
    probs = dist.probs.copy()
    for token in theme_left:
        target = planned.get(token)
        if target is None:
            factor = THEME_LEAN
        elif line < target:
            continue
        else:
            factor = THEME_LEAN * RISE ** (col + (line - target) * width)
        probs[token] *= np.float32(min(factor, 1e6))
    total = float(probs.sum())
    return Distribution(dist.model_probs, probs / total if total > 0 else dist.probs, dist.removed_mass)
