"""`train --init-from MODEL`: start from a trained model's weights and vocabulary.

Fine-tuning on one poet (`--author 白居易`) has a few thousand characters to learn from; starting
from the shipped model, which has read the whole corpus, is what makes that enough. The new run
takes the source's shape and script, so nothing has to be re-typed, and refuses an option that
contradicts them in one line.

The vocabulary is the source's, not the new corpus's: characters it lacks are read as <unk> (the
run says how many, once, in its start event). If the source predates titles and plans and this
run reads them, the two marker tokens are added; every other row of the embedding and the output
layer is carried over by its token, so the source's knowledge of each character stays with it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from tangstudio.engine.corpus.vocab import MARKERS, UNK, Vocab
from tangstudio.engine.errors import TangError
from tangstudio.engine.training.config import TrainConfig

# The options that fix a model's shape, taken over from the source.
SHAPE = ("arch", "embed", "hidden", "layers", "tied", "forget_bias")


@dataclasses.dataclass
class Source:
    ref: str
    model: dict[str, Any]  # the source's ModelConfig as a dict
    vocab: Vocab
    weights: dict[str, torch.Tensor] | None = None


def read_source(ref: str) -> Source:
    """The source model's config and vocabulary (no weights yet), or one line."""
    from tangstudio.engine.compose.model_ref import resolve_model
    from tangstudio.engine.runs.checkpoint import read_config, read_meta

    directory = resolve_model(ref)
    meta = read_meta(directory)
    config, vocab = read_config(directory, meta)
    if not config.causal:
        raise TangError(f"--init-from {ref}: a {config.arch} model cannot start a causal poem model")
    return Source(ref, config.to_dict(), vocab)


def adopt(config: TrainConfig, given: set[str]) -> tuple[TrainConfig, Source]:
    """The config with the source's shape and script; refuses a given option that contradicts them."""
    source = read_source(config.init_from or "")
    taken = {name: source.model[name] for name in SHAPE if name in source.model}
    taken["script"] = source.vocab.script
    for name, value in taken.items():
        if name in given and getattr(config, name) != value:
            what = (
                "a model of another script"
                if name == "script"
                else f"its --{name.replace('_', '-')} is {value!r}"
            )
            raise TangError(
                f"--init-from {source.ref}: {what} (you gave {getattr(config, name)!r}); "
                f"leave --{name.replace('_', '-')} out to take the source's"
            )
    return dataclasses.replace(config, **taken), source


def run_vocab(source: Source, plan: bool) -> Vocab:
    """The source's vocabulary, with the plan markers added after the form starts if this run needs them."""
    if not plan or source.vocab.has_plan:
        return source.vocab
    itos = source.vocab.itos
    first = source.vocab.first_char_id
    return Vocab([*itos[:first], *MARKERS, *itos[first:]], source.vocab.script)


def transplant(model: torch.nn.Module, source: Source, vocab: Vocab) -> None:
    """Copy the source's weights into `model`, moving each vocabulary row to its token's new id."""
    from tangstudio.engine.compose.model_ref import resolve_model
    from tangstudio.engine.runs.checkpoint import read_weights

    weights = read_weights(resolve_model(source.ref))
    state = model.state_dict()  # tensors that share storage with the model: copying into them loads it
    old = source.vocab.stoi
    new_ids = [i for i, tok in enumerate(vocab.itos) if tok in old]
    old_ids = [old[vocab.itos[i]] for i in new_ids]
    for name, tensor in weights.items():
        if name not in state:
            raise TangError(f"--init-from {source.ref}: its weight {name!r} has no place in this model")
        target = state[name]
        if tensor.shape == target.shape and target.shape[0] != len(vocab):
            target.copy_(tensor)
        elif tensor.shape[0] == len(source.vocab) and target.shape[0] == len(vocab):
            target[new_ids] = tensor[old_ids]  # a vocabulary-sized row block: embedding, output, bias
        else:
            raise TangError(
                f"--init-from {source.ref}: weight {name!r} is {tuple(tensor.shape)}, "
                f"this model's is {tuple(target.shape)}"
            )


def unknown_share(train: list[list[int]]) -> tuple[int, int]:
    """(characters read as <unk>, characters in all) over the encoded train poems."""
    unknown = sum(seq.count(UNK) for seq in train)
    return unknown, sum(len(seq) - 2 for seq in train)
