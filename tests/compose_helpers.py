"""Tiny untrained models for the composer tests: a vocabulary from a slice of the corpus, an LSTM on it.

Shared by test_compose.py and test_compose_together.py, which need the same kind of model at
different sizes; untrained is enough, since those tests check constraints, not quality.
"""

from __future__ import annotations

from typing import Any

import torch

from tangstudio.engine.compose.settings import ComposeSettings


def build_vocab(extra: list[str], poems: int) -> Any:
    """A simplified-script vocabulary from the first `poems` regulated training poems plus `extra`."""
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.vocab import Vocab

    chosen = load_corpus("tang", "simplified").select("regulated", "train")[:poems]
    return Vocab.build([p.text for p in chosen] + extra, "simplified")


def tiny_lm(vocab: Any, arch: str = "lstm", seed: int = 0, **sizes: Any) -> Any:
    """A seeded untrained LoadedModel (embed 16, hidden 24, one layer unless `sizes` says otherwise)."""
    from tangstudio.engine.models import ModelConfig, build_model
    from tangstudio.engine.runs.checkpoint import LoadedModel

    torch.manual_seed(seed)
    config = ModelConfig(arch, len(vocab), **{"embed": 16, "hidden": 24, "layers": 1, **sizes})
    return LoadedModel(build_model(config).eval(), vocab, config, {})


def composer(lm: Any, **kw: Any) -> Any:
    """A Composer on `lm` with ComposeSettings(**kw)."""
    from tangstudio.engine.compose.generator import Composer

    return Composer(lm, ComposeSettings(**kw))
