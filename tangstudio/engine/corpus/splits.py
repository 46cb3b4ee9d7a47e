"""Deterministic train/val/test splits, fixed forever by the poem id.

bucket = int(md5(id).hexdigest(), 16) % 20; bucket 0 is test, bucket 1 is val, the rest train.
Adding or removing other poems never moves a poem between splits, so numbers stay comparable
across corpus versions and machines.

One exception keeps val and test unseen: a val or test poem whose cleaned text, in simplified
script, is word for word a train poem's (the same poem filed twice, under two ids) is a `copy`, in
neither. The Tang corpus has 64 regulated ones in each (an auditor's recount: the test perplexity
read 1 % better with them). A copy is the one split that other poems decide: a train poem added,
or flagged lost, makes a held-out poem a copy, or gives it back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tangstudio.engine.corpus.poem import Poem

SPLITS = ("train", "val", "test", "copy")
HELD_OUT = ("val", "test")


def split_of(poem_id: str) -> str:
    bucket = int(hashlib.md5(poem_id.encode("utf-8")).hexdigest(), 16) % 20
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


def set_copies_apart(poems: Iterable[Poem], keys: list[str] | None = None) -> list[Poem]:
    """The poems with each held-out poem that is a train poem word for word moved to `copy`.
    `keys`: each poem's text in simplified script, so that a poem is a copy in either script
    (天子按琱戈 is 天子按雕戈 only once the variants are one; an evaluator found 23 poems whose split
    depended on the script); by default the texts themselves."""
    from dataclasses import replace

    poems = list(poems)
    keys = keys if keys is not None else [p.text for p in poems]
    trained = {key for p, key in zip(poems, keys) if p.split == "train" and not p.lost}
    return [
        replace(p, split="copy") if p.split in HELD_OUT and key in trained else p
        for p, key in zip(poems, keys)
    ]
