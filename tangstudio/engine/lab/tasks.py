"""The lab's two tasks, each a fixed way to turn a step number into a batch.

A batch depends only on (seed, step), never on how long the process has run, so a resumed run
sees exactly the batches it would have seen, and two architectures trained with the same seed
see the same examples in the same order.

* `DigitsTask`: 28 rows of 28 pixels (scaled to [0, 1]), class 0–9; an epoch is a permutation of
  the 8,000 train digits drawn from (seed, epoch).
* `MemoryTask`: the symbol at step 0 must be recalled at step T (see `memory_sequences`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tangstudio.engine.errors import TangError
from tangstudio.engine.lab import digits as D

SYMBOLS = 8  # what must be remembered: chance accuracy is 1/8
DISTRACTORS = 8  # what fills the gap
QUERY = SYMBOLS + DISTRACTORS  # "now say it"
MEMORY_VOCAB = SYMBOLS + DISTRACTORS + 1
MEMORY_VAL = 1_000
MAX_DISTANCE = 2_000


def check_distance(distance: int) -> int:
    """`distance` when it is a T the memory task can build, else one clear line (the memory study
    checks every T before it trains the first cell, so a bad last T does not cost the others)."""
    if isinstance(distance, bool) or not isinstance(distance, int) or not 1 <= distance <= MAX_DISTANCE:
        raise TangError(f"distance T must be a whole number between 1 and {MAX_DISTANCE}, got {distance!r}")
    return distance


def memory_sequences(count: int, distance: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`count` sequences of length distance + 1 and their targets.

        step 0          a symbol s ∈ {0 … 7}          the cause
        steps 1 … T−1   distractors ∈ {8 … 15}       noise the cell must carry s through
        step T          the query token 16           the effect: the class is read here

    The target is s, so the cause and the effect are exactly `distance` steps apart.
    """
    check_distance(distance)
    tokens = np.empty((count, distance + 1), dtype=np.int64)
    targets = rng.integers(0, SYMBOLS, size=count)
    tokens[:, 0] = targets
    tokens[:, 1:distance] = rng.integers(SYMBOLS, SYMBOLS + DISTRACTORS, size=(count, distance - 1))
    tokens[:, distance] = QUERY
    return tokens, targets


@dataclass(frozen=True)
class Batch:
    x: np.ndarray  # float32 [B, T, input_size]
    y: np.ndarray  # int64 [B]
    index: np.ndarray | None = None  # digit indices, when the batch is digits


class DigitsTask:
    name = "digits"
    input_size = D.SIDE
    classes = D.CLASSES

    def __init__(self) -> None:
        self.train = D.load_split("train")

    @staticmethod
    def as_input(images: np.ndarray) -> np.ndarray:
        return images.astype(np.float32) / 255.0

    def train_batch(self, step: int, batch_size: int, seed: int) -> Batch:
        per_epoch = len(self.train) // batch_size
        epoch, pos = divmod(step, per_epoch)
        order = np.random.default_rng([seed, epoch]).permutation(len(self.train))
        chosen = order[pos * batch_size : (pos + 1) * batch_size]
        return Batch(self.as_input(self.train.images[chosen]), self.train.labels[chosen].astype(np.int64))

    def epoch_of(self, step: int, batch_size: int) -> float:
        return step * batch_size / len(self.train)

    def split(self, name: str) -> Batch:
        data = D.load_split(name)
        return Batch(self.as_input(data.images), data.labels.astype(np.int64), data.indices)


class MemoryTask:
    name = "memory"
    input_size = MEMORY_VOCAB
    classes = SYMBOLS

    def __init__(self, distance: int) -> None:
        memory_sequences(1, distance, np.random.default_rng(0))  # validates the distance
        self.distance = distance

    def _batch(self, count: int, rng: np.random.Generator) -> Batch:
        tokens, targets = memory_sequences(count, self.distance, rng)
        x = np.eye(MEMORY_VOCAB, dtype=np.float32)[tokens]
        return Batch(x, targets.astype(np.int64))

    def train_batch(self, step: int, batch_size: int, seed: int) -> Batch:
        return self._batch(batch_size, np.random.default_rng([seed, step, self.distance]))

    def epoch_of(self, step: int, batch_size: int) -> float:
        return 0.0  # fresh sequences every step: there are no epochs

    def split(self, name: str) -> Batch:
        offset = {"train": 0, "val": 1, "test": 2}[name]
        return self._batch(MEMORY_VAL, np.random.default_rng([1_000_003, offset, self.distance]))


def make_task(name: str, distance: int | None = None) -> DigitsTask | MemoryTask:
    if name == "digits":
        return DigitsTask()
    if name == "memory":
        if distance is None:
            raise TangError("the memory task needs a distance T")
        return MemoryTask(distance)
    raise TangError(f"unknown lab task {name!r}; choose digits or memory")
