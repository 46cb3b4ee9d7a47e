"""`--model default|RUN|PATH` to a loaded model, with one clear line when there is none.

`default` is the model shipped in the checkout's models/default/ (a checkpoint directory:
model.safetensors + meta.json). Anything else is what `load_checkpoint` accepts: a checkpoint
directory, a run directory, or the name of a run in the home.
"""

from __future__ import annotations

from tangstudio.engine import paths
from tangstudio.engine.errors import TangError

DEFAULT = "default"
TRAIN_HINT = "tangstudio train --headless --run my-run"


def load_model(ref: str = DEFAULT, device: str = "cpu"):
    from tangstudio.engine.runs.checkpoint import load_checkpoint

    ref = (ref or DEFAULT).strip()
    if ref == DEFAULT:
        target = paths.shipped_models_dir() / DEFAULT
        if not (target / "meta.json").is_file():
            raise TangError(
                f"no default model ships in {target} yet: train one with `{TRAIN_HINT}` "
                "and pass --model my-run (a run name, run directory or checkpoint directory)"
            )
        return load_checkpoint(target, device)
    return load_checkpoint(ref, device)
