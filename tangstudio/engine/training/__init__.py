"""Training: data encoding, length-bucket batching, the loop, schedule, evaluation, devices, DDP.

`train(TrainConfig(...), callbacks=..., should_stop=...)` is the one entry point both faces use;
`training.evaluate.evaluate(model_or_loaded, vocab, poems)` is the agreed held-out counting
everyone compares on (not re-exported here: the submodule of the same name would shadow it).

Exports are lazy (PEP 562) so that reading or validating a `TrainConfig` — e.g. `tangstudio train`
handing its options to the studio — does not import torch before the first frame.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers; nothing imported at run time
    from tangstudio.engine.training.config import TrainConfig as TrainConfig
    from tangstudio.engine.training.loop import RunResult as RunResult
    from tangstudio.engine.training.loop import train as train

_EXPORTS = {"TrainConfig": "config", "RunResult": "loop", "train": "loop"}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"tangstudio.engine.training.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
