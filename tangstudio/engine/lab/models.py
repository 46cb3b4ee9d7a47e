"""Many-to-one sequence classifiers from the poem models' own recurrent stacks.

    x_1 … x_T ─recurrent layers→ h_T ─V→ class scores          (rnn, lstm, gru)
    x_1 … x_T ─LSTM→ →h_T,  x_T … x_1 ─LSTM→ ←h_1,  V·[→h_T, ←h_1] → scores   (bilstm)

For digits each x_t is one 28-pixel row (seed §4); for the memory task it is a one-hot symbol.
The recurrent part is `make_recurrent` from engine/models/layers.py, so `impl="cells"` runs the
very cells of engine/models/cells.py, and `to_cells` moves trained fused weights onto them.
The BiLSTM's two directions are two separate LSTM stacks (the cells have no bidirectional mode):
the backward one reads the rows in reverse, so its final state has seen the whole image from the
bottom up. Reading a whole image at once, it leaks nothing, unlike a bidirectional language model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import Tensor, nn

from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import ARCHS, IMPLS, arch_choices
from tangstudio.engine.models.cells import CellStack, copy_fused_to_cells
from tangstudio.engine.models.layers import make_recurrent


@dataclass
class ClassifierConfig:
    """Everything that fixes a classifier's shape; stored as JSON in its checkpoints."""

    arch: str
    input_size: int
    classes: int
    hidden: int = 128
    layers: int = 1
    impl: str = "fused"
    forget_bias: float = 0.0

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise TangError(f"unknown architecture {self.arch!r}; choose one of: {arch_choices()}")
        if self.impl not in IMPLS:
            raise TangError(f"unknown implementation {self.impl!r}; choose one of: {', '.join(IMPLS)}")
        for name, low, high in (
            ("input_size", 1, 4096),
            ("classes", 2, 4096),
            ("hidden", 1, 4096),
            ("layers", 1, 8),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise TangError(f"{name} must be a whole number between {low} and {high}, got {value!r}")

    @property
    def kind(self) -> str:
        """The cell each direction runs."""
        return ARCHS[self.arch].cell

    @property
    def bidirectional(self) -> bool:
        return ARCHS[self.arch].bidirectional

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> ClassifierConfig:
        if not isinstance(data, dict) or set(data) - {f.name for f in fields(cls)}:
            raise TangError(f"malformed classifier config: {data!r}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise TangError(f"malformed classifier config ({exc})") from None


class SequenceClassifier(nn.Module):
    """Reads [B, T, input_size] and scores `classes` from the last step (both ends for the BiLSTM)."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.rnn = make_recurrent(c.kind, c.input_size, c.hidden, c.layers, 0.0, c.impl, c.forget_bias)
        self.rnn_back = (
            make_recurrent(c.kind, c.input_size, c.hidden, c.layers, 0.0, c.impl, c.forget_bias)
            if c.bidirectional
            else None
        )
        self.head = nn.Linear(c.hidden * (2 if c.bidirectional else 1), c.classes)

    def features(self, x: Tensor) -> Tensor:
        """The final state(s) the class is read from: [B, H] or [B, 2H]."""
        out, _ = self.rnn(x)
        last: Tensor = out[:, -1]
        if self.rnn_back is None:
            return last
        back, _ = self.rnn_back(x.flip(1))
        return torch.cat([last, back[:, -1]], dim=-1)

    def forward(self, x: Tensor) -> Tensor:
        logits: Tensor = self.head(self.features(x))
        return logits

    @torch.no_grad()
    def prefix_logits(self, x: Tensor) -> Tensor:
        """Scores after each step, from the rows read so far only: [B, T, classes].

        For a one-directional cell this is the head on every h_t; the BiLSTM's backward direction
        is rerun over each prefix (rows t … 1), so it too never sees a row that has not arrived.
        That is an input it never trained on (its backward pass always started at row 28), so a
        BiLSTM's scores before the last row, and the row it "settles" at, say less than a causal
        cell's (PREFIX_CAVEAT, shown with them)."""
        out, _ = self.rnn(x)
        if self.rnn_back is None:
            every_step: Tensor = self.head(out)
            return every_step
        steps = []
        for t in range(x.shape[1]):
            back, _ = self.rnn_back(x[:, : t + 1].flip(1))
            steps.append(self.head(torch.cat([out[:, t], back[:, -1]], dim=-1)))
        return torch.stack(steps, dim=1)


PREFIX_CAVEAT = (
    "a BiLSTM reads every row both ways: before the last row its backward pass starts at the row "
    "just read, which it never did in training, so its early scores and the row it settles at are "
    "not comparable with a one-way cell's"
)


def build_classifier(config: ClassifierConfig) -> SequenceClassifier:
    return SequenceClassifier(config)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def recurrent_parameters(model: SequenceClassifier) -> int:
    """Parameters inside the recurrent stacks (what the cell choice changes), head excluded."""
    stacks = [model.rnn] + ([model.rnn_back] if model.rnn_back is not None else [])
    return sum(p.numel() for s in stacks for p in s.parameters())


def to_cells(model: SequenceClassifier) -> SequenceClassifier:
    """The same classifier on the readable cells, with the same weights (for gradient studies)."""
    if model.config.impl == "cells":
        return model
    new = SequenceClassifier(dataclasses.replace(model.config, impl="cells"))
    for name in ("rnn", "rnn_back"):
        source, target = getattr(model, name), getattr(new, name)
        if source is not None:
            assert isinstance(source, nn.RNNBase) and isinstance(target, CellStack)
            copy_fused_to_cells(source, target)
    new.head.load_state_dict(model.head.state_dict())
    return new.to(next(model.parameters()).device)
