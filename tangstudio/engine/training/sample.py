"""A few poems sampled at each evaluation, so a run's log shows what the model writes, not only numbers.

Causal models step one character at a time with their state (O(1) per character). The BiLSTM
extends to the right: it predicts a <mask> appended after the text, which costs a full pass per
character — fine for a handful of short samples.
"""

from __future__ import annotations

from typing import Any

import torch

from tangstudio.engine.corpus.vocab import EOS, MASK, Vocab
from tangstudio.engine.forms import FREE, find


def _allowed(logits: torch.Tensor, first_char: int) -> torch.Tensor:
    out = logits.clone()
    blocked = torch.ones(out.shape[-1], dtype=torch.bool, device=out.device)
    blocked[first_char:] = False
    blocked[EOS] = False
    return out.masked_fill(blocked, float("-inf"))


@torch.no_grad()
def sample_poems(
    model: Any,  # a causal LM or the BiLSTM: build_model's result
    vocab: Vocab,
    forms: list[str],
    temperature: float = 0.8,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> list[str]:
    was_training = model.training
    model.eval()
    gen = torch.Generator(device="cpu").manual_seed(seed)
    first = vocab.first_char_id
    texts = []
    try:
        for form in forms:
            limit = (find(form) or FREE).sample_chars
            ids = [vocab.start_id(form)]
            if model.causal:
                state = model.init_state(1)
                token = torch.tensor([ids[0]], device=device)
                for _ in range(limit):
                    logits, state = model.step(token, state)
                    probs = torch.softmax(_allowed(logits[0].float(), first) / temperature, -1).cpu()
                    nxt = int(torch.multinomial(probs, 1, generator=gen))
                    if nxt == EOS:
                        break
                    ids.append(nxt)
                    token = torch.tensor([nxt], device=device)
            else:
                for _ in range(limit):
                    inputs = torch.tensor([[*ids, MASK]], device=device)
                    logits = model(inputs, torch.tensor([len(ids) + 1], device=device))[0, -1]
                    probs = torch.softmax(_allowed(logits.float(), first) / temperature, -1).cpu()
                    nxt = int(torch.multinomial(probs, 1, generator=gen))
                    if nxt == EOS:
                        break
                    ids.append(nxt)
            texts.append(vocab.decode(ids))
    finally:
        model.train(was_training)
    return texts
