"""The model alone: a poem sampled with no constraint but the form's start token.

What a model learned of form, rhyme and tone by itself shows only when the decoder stops helping:
every character is drawn from the model's distribution (temperature, top-p), only the special
tokens other than <eos> are masked out, and the poem ends at <eos> or at twice the form's length.
The quality report and the poem study (its unconstrained rhyme rate) both sample this way.
"""

from __future__ import annotations

from typing import Any


def sample_unconstrained(
    loaded: Any, form: str, seed: int, temperature: float = 0.8, top_p: float = 0.95
) -> str:
    """One poem from a causal model (`loaded` from `load_checkpoint`/`load_model`), seeded."""
    import torch

    from tangstudio.engine.compose.decoding import truncate
    from tangstudio.engine.compose.stepping import step
    from tangstudio.engine.compose.tables import LINE_ENDS
    from tangstudio.engine.corpus.vocab import EOS
    from tangstudio.engine.prosody.patterns import SHAPES

    model, vocab = loaded.model, loaded.vocab
    n_lines, n_chars = SHAPES[form]
    limit = 2 * n_lines * (n_chars + 1)
    gen = torch.Generator().manual_seed(seed)
    banned = torch.zeros(len(vocab), dtype=torch.bool)
    banned[: vocab.first_char_id] = True
    banned[EOS] = False
    out: list[str] = []
    with torch.inference_mode():
        state = model.init_state(1)
        logits, state = step(model, torch.tensor([vocab.start_id(form)]), state)
        for _ in range(limit):
            probs = torch.softmax((logits[0].float() / temperature).masked_fill(banned, float("-inf")), -1)
            token = int(torch.multinomial(truncate(probs, 0, top_p), 1, generator=gen))
            if token == EOS:
                break
            out.append(vocab.itos[token])
            logits, state = step(model, torch.tensor([token]), state)
    text = "".join(out)
    return text if not text or text[-1] in LINE_ENDS else text + "。"
