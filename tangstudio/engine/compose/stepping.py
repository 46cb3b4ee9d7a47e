"""One recurrent step at a time, on the kernels that are fastest for one step.

PyTorch routes CPU LSTMs through oneDNN (mkldnn), which re-lays out the weights on every call —
a cost that vanishes over a long training sequence but dominates a single step: measured here,
one step of a 2×512 LSTM took 4.4 ms of CPU through oneDNN and 1.6 ms through the native kernels.
Composing is nothing but single steps, so it turns oneDNN off around each one (and restores the
setting, which other code — training — relies on).
"""

from __future__ import annotations

from typing import Any

import torch


def step(model: Any, tokens: torch.Tensor, state):
    """model.step(tokens, state) with oneDNN's RNN path off for the call."""
    backend = torch.backends.mkldnn
    previous = backend.enabled
    if not previous or tokens.device.type != "cpu":
        return model.step(tokens, state)
    backend.enabled = False  # type: ignore[assignment]  # a descriptor; torch's stubs type it as one
    try:
        return model.step(tokens, state)
    finally:
        backend.enabled = previous
