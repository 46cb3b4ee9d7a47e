"""The state_dict shapes of a fused causal model, from its config alone — no torch, nothing allocated.

`load_checkpoint` compares the weights file's shapes with what meta.json's config implies before it
builds anything, so a tampered config cannot make it allocate gigabytes. Building the model on
PyTorch's meta device answers the same question, but its initialisers then run through
torch._refs, which imports torch._dynamo: seconds on every load. For the models the composer
uses (rnn, lstm, gru on the fused kernels) the shapes are simple enough to write down; anything
else returns None and is built on the meta device. tests/test_fast_step.py checks these against
`build_model(config).state_dict()` for every such architecture, depth and head.
"""

from __future__ import annotations

from typing import Any

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def fused_causal_shapes(config: Any) -> dict[str, list[int]] | None:
    """{name: shape} of CausalCharLM's state_dict for a fused rnn/lstm/gru config, else None."""
    if config.arch not in GATES or getattr(config, "impl", "fused") != "fused":
        return None
    V, E, H, G = config.vocab_size, config.embed, config.hidden, GATES[config.arch]
    shapes: dict[str, list[int]] = {"embedding.weight": [V, E]}
    for k in range(config.layers):
        shapes[f"rnn.weight_ih_l{k}"] = [G * H, E if k == 0 else H]
        shapes[f"rnn.weight_hh_l{k}"] = [G * H, H]
        shapes[f"rnn.bias_ih_l{k}"] = [G * H]
        shapes[f"rnn.bias_hh_l{k}"] = [G * H]
    if config.tied:
        if H != E:
            shapes["head.proj.weight"] = [E, H]
        shapes["head.bias"] = [V]
    else:
        shapes["head.V.weight"] = [V, H]
        shapes["head.V.bias"] = [V]
    return shapes


def parameter_count(config: Any) -> int | None:
    """`count_parameters(build_model(config))` without torch, for a fused rnn/lstm/gru; else None.

    The Model pane shows the count as the form changes: building the model meant importing torch
    (3.6 s at load 12) and allocating it, for a sum of products these shapes already give.
    """
    import math

    shapes = fused_causal_shapes(config)
    return None if shapes is None else sum(math.prod(shape) for shape in shapes.values())


def parameter_parts(config: Any) -> dict[str, int] | None:
    """The count by part, {"embedding", "cells", "output"}, for a fused rnn/lstm/gru config, else
    None: a student adding up the equations misses the embedding and the output layer."""
    import math

    shapes = fused_causal_shapes(config)
    if shapes is None:
        return None
    parts = {"embedding": 0, "cells": 0, "output": 0}
    for name, shape in shapes.items():
        part = (
            "embedding" if name.startswith("embedding.") else "cells" if name.startswith("rnn.") else "output"
        )
        parts[part] += math.prod(shape)
    return parts


def second_biases(options: dict[str, Any]) -> int:
    """How many more parameters PyTorch's fused kernels hold than the equations show: a second bias
    vector per gate (b_hh beside b_ih), in every layer and direction (the Model pane says so; a
    student counting its equations got 8,824,874 where it said 8,828,970). The GRU's equations
    already show the candidate's two (b_x, b_h), so its kernels add two a layer, not three. The
    readable cells hold what the equations show: 0 for them."""
    from tangstudio.engine.models.archs import ARCHS, cell_of

    arch = options.get("arch", "")
    if options.get("impl", "fused") != "fused" or arch not in ARCHS:
        return 0
    directions = 1 if ARCHS[arch].causal else 2
    shown = {"gru": 1}.get(cell_of(arch), 0)  # second biases the equations show already
    extra = GATES[cell_of(arch)] - shown
    return int(options.get("layers", 1)) * extra * int(options.get("hidden", 0)) * directions
