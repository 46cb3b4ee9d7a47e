"""One recurrent step at a time, on the kernels that are fastest for one step.

PyTorch routes CPU LSTMs through oneDNN (mkldnn), which re-lays out the weights on every call —
a cost that vanishes over a long training sequence but dominates a single step: measured here,
one step of a 2×512 LSTM took 4.4 ms of CPU through oneDNN and 1.6 ms through the native kernels.
Composing is nothing but single steps, so it turns oneDNN off around each one (and restores the
setting, which other code — training — relies on).

Faster still is no torch kernel at all: a fused causal model in eval mode on the CPU steps through
`fast_step` (numpy float32 over weights transposed once), the same function to 1e-5
(tests/test_fast_step.py). The state stays a torch tensor sharing the numpy arrays' memory, so
callers (the Composer, beam search's reordering) see no difference. TANGSTUDIO_STEP=torch forces
the torch step, for comparing the two.
"""

from __future__ import annotations

from typing import Any

import torch

from tangstudio.engine.compose.fast_step import FastStep, torch_forced
from tangstudio.engine.models.cells import State

_FORCE_TORCH = torch_forced()


def step(model: Any, tokens: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
    """model.step(tokens, state): on the numpy fast path when the model allows it, else on torch."""
    if not _FORCE_TORCH and tokens.device.type == "cpu":
        from tangstudio.engine.compose.fast_step import for_model

        fast = for_model(model)
        if fast is not None:
            return _fast(fast, tokens, state)
    return torch_step(model, tokens, state)


def _fast(fast: FastStep, tokens: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
    """The numpy step with torch tensors in and out (zero-copy both ways)."""
    np_state = (state[0].numpy(), state[1].numpy()) if isinstance(state, tuple) else state.numpy()
    logits, new = fast.step(tokens.numpy(), np_state)
    out: State = (
        (torch.from_numpy(new[0]), torch.from_numpy(new[1]))
        if isinstance(new, tuple)
        else torch.from_numpy(new)
    )
    return torch.from_numpy(logits), out


def torch_step(model: Any, tokens: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
    """model.step(tokens, state) with oneDNN's RNN path off for the call."""
    backend = torch.backends.mkldnn
    previous = backend.enabled
    if not previous or tokens.device.type != "cpu":
        stepped: tuple[torch.Tensor, State] = model.step(tokens, state)
        return stepped
    backend.enabled = False  # type: ignore[assignment]  # a descriptor; torch's stubs type it as one
    try:
        stepped = model.step(tokens, state)
        return stepped
    finally:
        backend.enabled = previous
