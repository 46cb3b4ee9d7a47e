"""The hyperparameters that fully determine a model's shape — torch-free.

A checkpoint stores `to_dict()` as JSON and rebuilds the model from `from_dict()`, so anything
that reaches a config is validated here: a tampered or hand-edited file must fail with one clear
line, not with a shape mismatch deep inside torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import ARCHS, IMPLS, arch_choices

MAX_WIDTH = 8192  # embed/hidden beyond this is a typo on a CPU, not a plan
MAX_LAYERS = 16


@dataclass
class ModelConfig:
    """Architecture and sizes. `impl` picks PyTorch's fused kernels or the readable cells."""

    arch: str
    vocab_size: int
    embed: int = 128
    hidden: int = 256
    layers: int = 2
    dropout: float = 0.1
    tied: bool = False
    impl: str = "fused"
    forget_bias: float = 0.0  # LSTM only: b_f at initialisation (0 = PyTorch's init; 1 is the classic remedy)
    # Training-only regularisation of AWD-LSTM (models/regularize.py); causal fused models only.
    dropout_in: float = 0.0  # locked dropout on the embeddings
    weight_drop: float = 0.0  # DropConnect on the hidden-to-hidden weights
    embed_dropout: float = 0.0  # whole characters dropped from the embedding
    locked: bool = False  # the output dropout (`dropout`) with one mask per sequence, not per step

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise TangError for the first bad value, so a bad config never reaches torch."""
        if self.arch not in ARCHS:
            raise TangError(f"unknown architecture {self.arch!r}; choose one of: {arch_choices()}")
        if self.impl not in IMPLS:
            raise TangError(f"unknown implementation {self.impl!r}; choose one of: {', '.join(IMPLS)}")
        _check_int("vocab_size", self.vocab_size, 1, 10_000_000)
        _check_int("embed", self.embed, 1, MAX_WIDTH)
        _check_int("hidden", self.hidden, 1, MAX_WIDTH)
        _check_int("layers", self.layers, 1, MAX_LAYERS)
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)):
            raise TangError(f"dropout must be a number in [0, 1), got {self.dropout!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise TangError(f"dropout must be in [0, 1), got {self.dropout}")
        self.dropout = float(self.dropout)
        if (
            isinstance(self.forget_bias, bool)
            or not isinstance(self.forget_bias, (int, float))
            or not -10 <= self.forget_bias <= 10
        ):
            raise TangError(f"forget_bias must be a number between -10 and 10, got {self.forget_bias!r}")
        self.forget_bias = float(self.forget_bias)
        if not isinstance(self.tied, bool):
            raise TangError(f"tied must be true or false, got {self.tied!r}")
        for name in ("dropout_in", "weight_drop", "embed_dropout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise TangError(f"{name} must be a number in [0, 1), got {value!r}")
            setattr(self, name, float(value))
        if not isinstance(self.locked, bool):
            raise TangError(f"locked must be true or false, got {self.locked!r}")
        if self.weight_drop and self.impl != "fused":
            raise TangError("weight_drop applies to the fused kernels only (impl fused)")

    @property
    def causal(self) -> bool:
        return ARCHS[self.arch].causal

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> ModelConfig:
        """Rebuild from `to_dict()` output; unknown or missing keys are errors, not guesses."""
        if not isinstance(data, dict):
            raise TangError("model config must be a table of settings")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TangError(f"unknown model config keys: {', '.join(map(str, unknown))}")
        for required in ("arch", "vocab_size"):
            if required not in data:
                raise TangError(f"model config is missing {required!r}")
        return cls(**data)


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TangError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise TangError(f"{name} must be between {low} and {high}, got {value}")
