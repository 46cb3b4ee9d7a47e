"""`--model default|RUN|PATH` to a loaded model (the name resolved by `refs.resolve_model`).

`load_for_composing` is what composing asks for: a fused rnn/lstm/gru is read straight into numpy
(`fast_model.load_fast`), so `generate` and the studio write a poem without ever importing torch;
a bilstm or the teaching cells load with torch. TANGSTUDIO_STEP=torch forces torch for every model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tangstudio.engine.compose.refs import DEFAULT, TRAIN_HINT, resolve_model

if TYPE_CHECKING:
    from tangstudio.engine.compose.fast_model import FastLoaded
    from tangstudio.engine.runs.checkpoint import LoadedModel

__all__ = ["DEFAULT", "TRAIN_HINT", "load_for_composing", "load_model", "resolve_model"]


def load_model(ref: str = DEFAULT, device: str = "cpu") -> LoadedModel:
    from tangstudio.engine.runs.checkpoint import load_checkpoint

    return load_checkpoint(resolve_model(ref), device)


def load_for_composing(ref: str = DEFAULT, need_torch: bool = False) -> FastLoaded | LoadedModel:
    """The model `ref` names, loaded the cheapest way that composes with it (see the module's doc)."""
    from tangstudio.engine.compose.fast_step import torch_forced

    if not need_torch and not torch_forced():
        from tangstudio.engine.compose.fast_model import load_fast

        fast = load_fast(ref)
        if fast is not None:
            return fast
    return load_model(ref)
