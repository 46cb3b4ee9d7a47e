"""Deterministic train/val/test splits, fixed forever by the poem id.

bucket = int(md5(id).hexdigest(), 16) % 20; bucket 0 is test, bucket 1 is val, the rest train.
Adding or removing other poems never moves a poem between splits, so numbers stay comparable
across corpus versions and machines.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "val", "test")


def split_of(poem_id: str) -> str:
    bucket = int(hashlib.md5(poem_id.encode("utf-8")).hexdigest(), 16) % 20
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"
