"""The shipped digits: the file is the one the build script made, and the split never moves."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pytest

from tangstudio.engine.errors import TangError
from tangstudio.engine.lab import digits as D


def test_data_file_matches_its_sha256_and_size():
    blob = D.DATA_PATH.read_bytes()
    assert hashlib.sha256(blob).hexdigest() == D.DATA_SHA256
    assert len(blob) <= 2_500_000
    assert (D.DATA_PATH.parent / "LICENSE").read_text().count("MIT") >= 1


def test_data_file_reads_without_pickle():
    with np.load(D.DATA_PATH, allow_pickle=False) as data:
        assert data["images"].shape == (10_000, 28, 28) and data["images"].dtype == np.uint8
        assert data["labels"].shape == (10_000,)
        assert sorted(Counter(data["labels"].tolist())) == list(range(10))


def test_split_has_exact_sizes():
    assert Counter(D.split_of_all()) == {"train": 8_000, "val": 1_000, "test": 1_000}
    for name, size in D.SPLIT_SIZES.items():
        part = D.load_split(name)
        assert len(part) == size and part.images.shape == (size, 28, 28)


def test_split_is_fixed_for_these_indices():
    # Pinned once; if these move, every reported accuracy silently changes meaning.
    assert [D.split_of(i) for i in range(8)] == [
        "train",
        "val",
        "val",
        "val",
        "train",
        "test",
        "test",
        "train",
    ]
    assert D.split_of(9_999) == D.split_of_all()[9_999]


def test_splits_are_disjoint_and_cover_everything():
    seen = np.concatenate([D.load_split(n).indices for n in D.SPLITS])
    assert sorted(seen.tolist()) == list(range(10_000))


def test_bad_index_and_split_are_one_line_errors():
    with pytest.raises(TangError):
        D.split_of(10_000)
    with pytest.raises(TangError):
        D.load_split("dev")
