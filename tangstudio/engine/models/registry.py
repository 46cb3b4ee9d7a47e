"""One entry point to build any architecture — torch is imported only when a model is built.

    model = build_model(ModelConfig(arch="lstm", vocab_size=len(vocab)))
"""

from __future__ import annotations

from typing import Any

from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import ARCHS, ArchInfo, arch_choices
from tangstudio.engine.models.config import ModelConfig

__all__ = ["ARCHS", "ArchInfo", "ModelConfig", "build_model", "count_parameters"]


def build_model(config: ModelConfig) -> Any:
    """A fresh, randomly initialised nn.Module with `.config` and `.causal`."""
    config.validate()  # fields may have been changed since construction
    info = ARCHS.get(config.arch)
    if info is None:  # pragma: no cover - validate() already refuses it
        raise TangError(f"unknown architecture {config.arch!r}; choose one of: {arch_choices()}")
    return info.builder(config)


def count_parameters(model: Any) -> int:
    """Trainable numbers in the model; a tied embedding counts once."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
