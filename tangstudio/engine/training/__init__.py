"""Training: data encoding, length-bucket batching, the loop, schedule, evaluation, devices, DDP.

`train(TrainConfig(...), callbacks=..., should_stop=...)` is the one entry point both faces use;
`evaluate(model_or_loaded, vocab, poems)` is the agreed held-out counting everyone compares on.
"""

from tangstudio.engine.training.config import TrainConfig
from tangstudio.engine.training.evaluate import evaluate
from tangstudio.engine.training.loop import RunResult, train

__all__ = ["TrainConfig", "RunResult", "train", "evaluate"]
