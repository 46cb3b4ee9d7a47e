"""Composing: a step-by-step generator whose form, acrostic, rhyme and tones are real constraints.

The model proposes a distribution over the next character; the constraints (constraints.py) mask
what the form forbids before anything is sampled, so a fixed-form poem has its shape by
construction rather than by luck. Files:

    settings.py     ComposeSettings, StepInfo, ComposeResult: what the faces read and write
    tables.py       per-vocabulary masks: hanzi, 平/仄, 平水韵 groups, punctuation
    constraints.py  the plan (form layout, acrostic, prefix) and the per-step allowed set
    decoding.py     temperature / top-k / top-p / greedy choice from a constrained distribution
    steppers.py     the one door to a model: numpy logits from a FastStep or from a torch module
    generator.py    Composer: cached recurrent state, preview/choose/undo, settings mid-poem
    beam.py         beam search over whole poems
    fill.py         Filler: BiLSTM models compose by filling masked positions
    novelty.py      corpus line index: no copied lines, longest span shared with the corpus
    score.py        per-character probability and surprisal of a given poem
    model_ref.py    `--model default|RUN|PATH` to a loaded model (numpy when it can: load_for_composing)
    run.py          compose_many: n poems sampled, beam-searched or filled (CLI, report, studio)

Importing this package does not import torch, and neither does composing with a model read by
`load_for_composing` (a fused rnn/lstm/gru): masks, distribution, draw and the model's step are numpy.
The names below are loaded on first access (`from tangstudio.engine.compose import Composer`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tangstudio.engine.compose.settings import FORMS, TONE_MODES, ComposeResult, ComposeSettings, StepInfo

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers; nothing imported at run time
    from tangstudio.engine.compose.beam import beam_search as beam_search
    from tangstudio.engine.compose.fill import Filler as Filler
    from tangstudio.engine.compose.generator import Composer as Composer
    from tangstudio.engine.compose.model_ref import load_model as load_model
    from tangstudio.engine.compose.novelty import CorpusIndex as CorpusIndex
    from tangstudio.engine.compose.novelty import index_for_model as index_for_model
    from tangstudio.engine.compose.run import compose_many as compose_many
    from tangstudio.engine.compose.score import score_poem as score_poem

_LAZY = {
    "Composer": "generator",
    "Filler": "fill",
    "beam_search": "beam",
    "score_poem": "score",
    "load_model": "model_ref",
    "compose_many": "run",
    "CorpusIndex": "novelty",
    "index_for_model": "novelty",
}

__all__ = ["FORMS", "TONE_MODES", "ComposeResult", "ComposeSettings", "StepInfo", *_LAZY]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
