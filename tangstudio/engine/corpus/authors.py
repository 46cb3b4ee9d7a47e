"""Poems of one poet: `--author 白居易` on train, eval, stats and the Model pane.

The splits stay the md5 buckets of each poem's id, so a poet's test poems are test poems of the
whole corpus too, and a model fine-tuned on the poet never trained on any of them.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence

from tangstudio.engine.corpus.poem import Poem
from tangstudio.engine.errors import TangError


def by_author(
    poems: Sequence[Poem], author: str | None, everyone: Sequence[Poem] | None = None
) -> list[Poem]:
    """The poems by `author` (None: all of them); an unknown name gets one line with the closest names.

    `everyone` is where names are looked up (the whole corpus), so that a poet who simply has no
    poem in this selection is told so instead of being called unknown."""
    if author is None:
        return list(poems)
    name = author.strip()
    chosen = [p for p in poems if p.author == name]
    if chosen:
        return chosen
    counts = Counter(p.author for p in (everyone if everyone is not None else poems))
    if name in counts:
        raise TangError(
            f"{name} has no poems in this selection (forms and split); widen --forms"
            " (`eval` can also read another --split; a held-out poem that is a train poem is a copy, in none)"
        )
    close = difflib.get_close_matches(name, list(counts), n=5, cutoff=0.3)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise TangError(f"no poet named {name!r} in this corpus{hint}")
