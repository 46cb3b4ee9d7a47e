"""The composer's one door to a model: token ids in, numpy logits out, the state kept opaque.

Two kinds of loaded model reach the composer. A shipped or trained fused rnn/lstm/gru read by
`fast_model.load_fast` is numpy through and through (`FastStep`), so composing with it never imports
torch — the first Space is answered before torch could even have loaded. Anything else (a model
loaded with torch: the teaching cells, a GPU, a model the trainer samples from) is stepped through
`stepping.step`, which itself takes the numpy kernel where the model allows it; its logits are
handed over as numpy. Both give the same logits to 1e-5 (tests/test_fast_step.py), so a seeded poem
is the same poem on either path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from tangstudio.engine.compose.fast_step import FastStep
from tangstudio.engine.compose.fast_step import State as FastState
from tangstudio.engine.runs.loaded import Loaded


class Stepper(Protocol):
    def init_state(self, batch: int = 1) -> Any: ...

    def step(self, tokens: Sequence[int], state: Any) -> tuple[np.ndarray, Any]:
        """Logits float32[B, V] for the next character after `tokens` (one per row), and the new state."""
        ...

    def select(self, state: Any, rows: Sequence[int]) -> Any:
        """The state of the given batch rows, in that order (beam search's survivors)."""
        ...

    def join(self, states: Sequence[Any]) -> Any:
        """One batched state of the given states' rows, in order (drafts read side by side)."""
        ...


class NumpyStepper:
    """A FastStep (numpy float32): the state is [layers, B, H] arrays."""

    def __init__(self, fast: FastStep) -> None:
        self.fast = fast

    def init_state(self, batch: int = 1) -> FastState:
        return self.fast.init_state(batch)

    def step(self, tokens: Sequence[int], state: Any) -> tuple[np.ndarray, FastState]:
        return self.fast.step(np.asarray(tokens, dtype=np.int64), state)

    def select(self, state: Any, rows: Sequence[int]) -> Any:
        index = np.asarray(rows, dtype=np.int64)
        return tuple(s[:, index] for s in state) if isinstance(state, tuple) else state[:, index]

    def join(self, states: Sequence[Any]) -> Any:
        if isinstance(states[0], tuple):
            return tuple(np.concatenate(parts, axis=1) for parts in zip(*states))
        return np.concatenate(states, axis=1)


class TorchStepper:
    """An nn.Module's `step` through `stepping.step` (numpy kernel where it applies, else torch)."""

    def __init__(self, model: Any) -> None:
        import torch

        self.model = model
        self.device = next(model.parameters()).device
        self._torch = torch

    def init_state(self, batch: int = 1) -> Any:
        return self.model.init_state(batch, self.device)

    def step(self, tokens: Sequence[int], state: Any) -> tuple[np.ndarray, Any]:
        from tangstudio.engine.compose import stepping

        torch = self._torch
        with torch.inference_mode():
            ids = torch.tensor(list(tokens), device=self.device)
            logits, state = stepping.step(self.model, ids, state)
        return logits.float().cpu().numpy(), state

    def select(self, state: Any, rows: Sequence[int]) -> Any:
        index = self._torch.tensor(list(rows), device=self.device)
        if isinstance(state, tuple):
            return tuple(s.index_select(1, index) for s in state)
        return state.index_select(1, index)

    def join(self, states: Sequence[Any]) -> Any:
        cat = self._torch.cat
        if isinstance(states[0], tuple):
            return tuple(cat(parts, dim=1) for parts in zip(*states))
        return cat(list(states), dim=1)


def stepper_for(loaded: Loaded) -> Stepper:
    """The numpy stepper for a model loaded without torch (`loaded.fast`), else the torch one."""
    fast = getattr(loaded, "fast", None)
    if fast is not None:
        return NumpyStepper(fast)
    return TorchStepper(loaded.model)
