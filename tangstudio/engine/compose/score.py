"""How surprised is a model by a given poem? Per-character probability, surprisal, and perplexity.

    surprisal(x_t) = −log₂ p(x_t | context)          bits
    perplexity     = exp(−(1/N) Σ ln p(x_t | context)) over the characters and the closing <eos>

Counted like the training evaluation (start token given, every character and <eos> predicted), so
a poem's perplexity sits on the same scale as a run's validation perplexity. A causal model reads
the poem once, left to right; a bilstm scores each position with only that position masked (a
pseudo-likelihood: each character given all the others), one batch row per position.
"""

from __future__ import annotations

import torch

from tangstudio.engine.compose.score_result import CharScore, PoemScore, normalise, poem_score
from tangstudio.engine.corpus.forms import classify
from tangstudio.engine.corpus.vocab import MASK
from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import ppl_kind_of

__all__ = ["CharScore", "PoemScore", "normalise", "score_poem"]


@torch.inference_mode()
def score_poem(loaded, text: str, form: str | None = None) -> PoemScore:
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
        n = len(ids) - 1  # positions 1..len-1 are predicted, each with itself masked
        rows = seq[None].repeat(n, 1)
        positions = torch.arange(1, len(ids), device=device)
        rows[torch.arange(n, device=device), positions] = MASK
        logits = model(rows, torch.full((n,), len(ids), device=device))[
            torch.arange(n, device=device), positions
        ]
    kind = ppl_kind_of(loaded.causal)
    logp = torch.log_softmax(logits.float().cpu(), -1)
    targets = torch.tensor(ids[1:])
    picked = logp[torch.arange(len(targets)), targets]
    ranks = (logp > picked[:, None]).sum(-1) + 1
    top = torch.topk(logp, 5, dim=-1)
    best = [list(zip(i, v)) for i, v in zip(top.indices.tolist(), top.values.tolist())]
    nats = -float(picked.mean())
    return poem_score(text, form, vocab, ids[1:], picked.tolist(), ranks.tolist(), best, nats, kind)
