"""`--model default|RUN|PATH` to a checkpoint folder, with one clear line when there is none.

`default` is the model shipped in the checkout's models/default/ (a checkpoint directory:
model.safetensors + meta.json). Anything else is what `load_checkpoint` accepts: a checkpoint
directory, a run directory, or the name of a run in the home. Reads no weights and imports no torch;
both loaders (`model_ref` with torch, `fast_model` with numpy) start here, so neither imports the
other to resolve a name.
"""

from __future__ import annotations

from pathlib import Path

from tangstudio.engine import paths
from tangstudio.engine.errors import TangError
from tangstudio.engine.runs.layout import META

DEFAULT = "default"
TRAIN_HINT = "tangstudio train --headless --run my-run"


def resolve_model(ref: str = DEFAULT) -> Path:
    """The checkpoint directory `ref` names, or one clear line; reads no weights and imports no torch,
    so a command can refuse a wrong name at once, before anything heavy loads."""
    from tangstudio.engine.runs.checkpoint import resolve_checkpoint

    if not isinstance(ref, str) or not ref.strip():
        # `--model "$RUN"` with RUN unset must not quietly mean the shipped model (issue 26).
        raise TangError(
            "the model to use is empty (an unset variable?): give `default`, a run name, a run directory "
            "or a checkpoint directory"
        )
    ref = ref.strip()
    if ref == DEFAULT:
        target = paths.shipped_models_dir() / DEFAULT
        if not (target / META).is_file():
            raise TangError(
                f"no default model ships in {target} yet: train one with `{TRAIN_HINT}` "
                "and pass --model my-run (a run name, run directory or checkpoint directory)"
            )
        return target
    return resolve_checkpoint(ref)


def fallback_note(ref: str, directory: Path) -> str | None:
    """A line saying that a run's `last/` stands in for the `best/` it lacks (none saved yet, or
    deleted): the model composed with is then not the run's best, and that must not pass silently."""
    if ref.strip() == DEFAULT or directory.name != "last" or directory.parent.name != "checkpoints":
        return None
    asked = Path(ref).expanduser()
    if asked.resolve() == directory.resolve() or (directory.parent / "best" / META).is_file():
        return None  # last/ asked for by its own path (not a folder here sharing a run's name), or best/ after all
    from tangstudio.engine.runs.checkpoint import read_meta

    try:
        step = read_meta(directory).get("step")
    except TangError:
        step = None
    at = f" (step {step:,})" if isinstance(step, int) else ""
    return f"note: {ref} has no best/ checkpoint: using last/{at}, its latest weights, not its best"
