"""One entry point to build any architecture — torch is imported only when a model is built.

model = build_model(ModelConfig(arch="lstm", vocab_size=len(vocab)))
"""

from __future__ import annotations

from typing import Any

from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import ARCHS, ArchInfo, arch_choices
from tangstudio.engine.models.config import ModelConfig

__all__ = ["ARCHS", "ArchInfo", "ModelConfig", "build_model", "convert_impl", "count_parameters"]


def build_model(config: ModelConfig) -> Any:
    """A fresh, randomly initialised nn.Module with `.config` and `.causal`."""
    config.validate()  # fields may have been changed since construction
    info = ARCHS.get(config.arch)
    if info is None:  # pragma: no cover - validate() already refuses it
        raise TangError(f"unknown architecture {config.arch!r}; choose one of: {arch_choices()}")
    return info.build(config)


def count_parameters(model: Any) -> int:
    """Trainable numbers in the model; a tied embedding counts once."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# A model's top-level parts, as the Model pane adds its count up (a tied output shares the embedding's
# matrix, which named_parameters, like count_parameters, counts once, under the embedding).
PART_OF = {
    "embedding": "embedding",
    "rnn": "cells",
    "forward_lstm": "cells",
    "backward_lstm": "cells",
    "left_edge": "edges",
    "right_edge": "edges",
    "combine": "combine",
    "head": "output",
}


def parameter_parts_of(model: Any) -> dict[str, int]:
    """count_parameters(model) by part, in reading order: embedding, cells, (a BiLSTM's edges
    →h_{−1} and ←h_n, and its combine layer W), output. Sums to count_parameters(model)."""
    parts = dict.fromkeys(("embedding", "cells", "edges", "combine", "output", "other"), 0)
    for name, p in model.named_parameters():
        if p.requires_grad:
            parts[PART_OF.get(name.split(".")[0], "other")] += p.numel()
    return {k: v for k, v in parts.items() if v or k in ("embedding", "cells", "output")}


def convert_impl(model: Any, impl: str) -> Any:
    """The same model on the other path (fused ↔ cells): same function, same trained weights.

    Lets the studio run a model trained on the fast path through the readable cells.
    """
    import dataclasses

    from torch import nn

    from tangstudio.engine.models.cells import CellStack, copy_cells_to_fused, copy_fused_to_cells

    new = build_model(dataclasses.replace(model.config, impl=impl))
    weight = next(model.parameters())
    new.to(device=weight.device, dtype=weight.dtype).train(model.training)
    recurrent = [name for name, m in model.named_modules() if isinstance(m, (nn.RNNBase, CellStack))]
    for name in recurrent:
        source, target = model.get_submodule(name), new.get_submodule(name)
        if isinstance(source, CellStack) and isinstance(target, nn.RNNBase):
            copy_cells_to_fused(source, target)
        elif isinstance(source, nn.RNNBase) and isinstance(target, CellStack):
            copy_fused_to_cells(source, target)
        else:
            target.load_state_dict(source.state_dict())
    rest = {
        k: v for k, v in model.state_dict().items() if not any(k.startswith(f"{name}.") for name in recurrent)
    }
    missing, unexpected = new.load_state_dict(rest, strict=False)
    if unexpected or not all(any(k.startswith(f"{name}.") for name in recurrent) for k in missing):
        raise RuntimeError(f"convert_impl: weights did not line up ({unexpected or missing})")
    return new
