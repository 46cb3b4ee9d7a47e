"""How surprised is a model by a given poem? Per-character probability, surprisal, and perplexity.

    surprisal(x_t) = −log₂ p(x_t | context)          bits
    perplexity     = exp(−(1/N) Σ ln p(x_t | context)) over the characters and the closing <eos>

Counted like the training evaluation (start token given, every character and <eos> predicted), so
a poem's perplexity sits on the same scale as a run's validation perplexity. A causal model reads
the poem once, left to right; a bilstm scores each position given all the others (a
pseudo-likelihood), which one pass gives, as the BiLSTM never reads the character it predicts.
Log-probs, ranks and the top five are worked out a chunk of positions at a time, so the memory
does not grow with the poem's length times the vocabulary.
"""

from __future__ import annotations

import numpy as np
import torch

from tangstudio.engine.compose.score_result import (
    CHUNK,
    CharScore,
    PoemScore,
    chunk_scores,
    normalise,
    poem_score,
)
from tangstudio.engine.corpus.forms import classify
from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import ppl_kind_of
from tangstudio.engine.runs.loaded import Loaded

__all__ = ["CharScore", "PoemScore", "normalise", "score_poem"]


@torch.inference_mode()
def score_poem(loaded: Loaded, text: str, form: str | None = None) -> PoemScore:
    """Score `text` under a loaded model; the form (for the start token) is read off the shape unless given."""
    from tangstudio.engine.compose.score_result import scorable

    text = normalise(text)
    if not text:
        raise TangError(
            "nothing to score: give a poem, e.g. 床前明月光，疑是地上霜。举头望明月，低头思故乡。"
        )
    vocab, model = loaded.vocab, loaded.model
    scorable(text, vocab)  # a typo is scored around and marked; a wrong script is refused
    form = form or classify(text)
    ids = vocab.encode_poem(text, form)
    device = next(model.parameters()).device
    seq = torch.tensor(ids, device=device)
    if loaded.causal:
        logits = model(seq[None, :-1])[0]  # logits[t] predicts ids[t + 1]
    else:
        # The BiLSTM never reads the character it predicts (models/bilstm.py: position t combines
        # the forward state at t−1 with the backward one at t+1), so masking position t alone
        # changes nothing at t: one pass over the poem gives each position's logits exactly as one
        # row per masked position did, without that N × N × V batch (tested against it).
        logits = model(seq[None], torch.tensor([len(ids)], device=device))[0, 1:]
    kind = ppl_kind_of(loaded.causal)
    targets = np.array(ids[1:])
    picked: list[float] = []
    ranks: list[int] = []
    best: list[list[tuple[int, float]]] = []
    for start in range(0, len(targets), CHUNK):  # the log-probs a chunk at a time (issue 26)
        chunk = logits[start : start + CHUNK].float().cpu().numpy()
        p, r, b = chunk_scores(chunk, targets[start : start + CHUNK])
        picked.extend(p)
        ranks.extend(r)
        best.extend(b)
    nats = -float(np.mean(np.array(picked, dtype=np.float64)))
    return poem_score(text, form, vocab, ids[1:], picked, ranks, best, nats, kind)
