"""The model alone: a poem sampled with no constraint but the form's start token.

What a model learned of form, rhyme and tone by itself shows only when the decoder stops helping:
every character is drawn from the model's distribution (temperature, top-p), only the special
tokens other than <eos> are masked out, and the poem ends at <eos> or at twice the form's length.
The quality report and the poem study (its unconstrained rhyme rate) both sample this way.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def sample_unconstrained(
    loaded: Any, form: str, seed: int, temperature: float = 0.8, top_p: float = 0.95
) -> str:
    """One poem from a causal model (`load_checkpoint`, `load_model` or `load_fast`), seeded."""
    from tangstudio.engine.compose.decoding import make_rng, pick, softmax
    from tangstudio.engine.compose.steppers import stepper_for
    from tangstudio.engine.compose.tables import LINE_ENDS
    from tangstudio.engine.corpus.vocab import EOS
    from tangstudio.engine.forms import get

    vocab = loaded.vocab
    stepper = stepper_for(loaded)
    n_lines, n_chars = get(form).shape()
    limit = 2 * n_lines * (n_chars + 1)
    rng = make_rng(seed)
    allowed = np.ones(len(vocab), dtype=bool)
    allowed[: vocab.first_char_id] = False
    allowed[EOS] = True
    out: list[str] = []
    state = stepper.init_state(1)
    logits, state = stepper.step([vocab.start_id(form)], state)
    for _ in range(limit):
        probs = softmax(logits[0] / np.float32(temperature), allowed)
        token = pick(probs, temperature, 0, top_p, rng)
        if token == EOS:
            break
        out.append(vocab.itos[token])
        logits, state = stepper.step([token], state)
    text = "".join(out)
    return text if not text or text[-1] in LINE_ENDS else text + "。"
