"""Beam search over whole poems: keep the N likeliest constrained prefixes, one batched step each.

    score(x_1..x_t) = Σ log p(x_i | x_<i)       (the model's own probabilities, not renormalised,
                                                  so a constraint that cuts a lot of mass costs)

All hypotheses step together as one batch of the model; each carries its own constraint state
(immutable, so branching copies nothing) and its path of StepInfo. A fixed form has one length,
so scores compare without length normalisation; a free poem that ends is set aside and the
search stops once no open hypothesis can beat the best finished one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tangstudio.engine.compose import constraints as C
from tangstudio.engine.compose.decoding import log_softmax, softmax, top_candidates
from tangstudio.engine.compose.settings import EOS_MARK, ComposeResult, ComposeSettings, StepInfo
from tangstudio.engine.compose.steppers import stepper_for
from tangstudio.engine.compose.tables import VocabTables, tables_for
from tangstudio.engine.corpus.vocab import EOS
from tangstudio.engine.errors import TangError

_NAMES = {EOS: EOS_MARK}


@dataclass(frozen=True)
class _Hyp:
    score: float
    cstate: C.CState
    path: tuple[StepInfo, ...]


def beam_search(
    loaded,
    settings: ComposeSettings,
    width: int,
    n: int = 1,
    *,
    novelty=None,
    tables: VocabTables | None = None,
) -> list[ComposeResult]:
    """The n best poems (n ≤ width) of a beam of `width`, best first."""
    if not loaded.causal:
        raise TangError("beam search needs a left-to-right model; a bilstm composes by filling")
    if width < 1:
        raise TangError(f"beam width must be at least 1, got {width}")
    vocab = loaded.vocab
    stepper = stepper_for(loaded)
    tables = tables or tables_for(vocab)
    plan = C.make_plan(settings, tables)
    use_novelty = novelty if settings.novelty else None

    from tangstudio.engine.compose.generator import primer_ids

    state = stepper.init_state(1)
    for token in [*primer_ids(settings, tables), vocab.start_id(settings.form)]:
        logits, state = stepper.step([token], state)
    hyps = [_Hyp(0.0, C.start_state(plan), ())]
    finished: list[_Hyp] = []
    for _ in range(plan.max_len + 1):
        logp = log_softmax(logits)  # [B, V]
        allowed = [C.allowed(plan, tables, settings, h.cstate, use_novelty) for h in hyps]
        masks = np.stack([a.mask for a in allowed])
        scored = np.where(masks, logp, np.float32(-np.inf))
        probs = softmax(logp, masks)  # shown: renormalised inside the mask
        totals = scored + np.array([h.score for h in hyps], dtype=np.float32)[:, None]
        flat = totals.ravel()
        k = min(width, int(np.isfinite(flat).sum()))
        index = np.argpartition(-flat, k - 1)[:k] if k < flat.size else np.arange(flat.size)
        index = index[np.argsort(-flat[index], kind="stable")]
        V = logp.shape[1]
        survivors, rows, tokens = [], [], []
        for idx in index.tolist():
            total = float(flat[idx])
            b, token = divmod(idx, V)
            h = hyps[b]
            info = StepInfo(
                h.cstate.pos,
                top_candidates(probs[b], vocab.itos, names=_NAMES),
                1.0 - float(np.exp(logp[b][masks[b]]).sum()),
                _NAMES.get(token, vocab.itos[token]),
                float(probs[b, token]),
                float(np.exp(logp[b, token])),
                allowed[b].forced,
                list(allowed[b].notes),
            )
            nxt = _Hyp(total, C.advance(plan, tables, h.cstate, token), (*h.path, info))
            if nxt.cstate.done:
                finished.append(nxt)
            else:
                survivors.append(nxt)
                rows.append(b)
                tokens.append(token)
        if not survivors:
            break
        if finished and len(finished) >= n and max(f.score for f in finished) >= survivors[0].score:
            break  # scores only fall as poems grow: no open hypothesis can win any more
        state = stepper.select(state, rows)
        logits, state = stepper.step(tokens, state)
        hyps = survivors
    finished.sort(key=lambda h: -h.score)
    return [_result(plan, tables, settings, h, novelty) for h in finished[: max(1, min(n, width))]]


def _result(plan: C.Plan, tables: VocabTables, settings: ComposeSettings, h: _Hyp, novelty) -> ComposeResult:
    text = "".join(s.chosen for s in h.path if s.chosen != EOS_MARK)
    check = None
    if plan.regulated:
        from tangstudio.engine.prosody import check_poem

        check = check_poem(text, settings.form, tables.vocab.script).to_dict()
    group = (check or {}).get("rhyme_group") or C.rhyme_group(h.cstate)
    backoffs = [note for s in h.path for note in s.notes]
    result = ComposeResult(text, settings.form, list(h.path), group, check, backoffs, log_prob=h.score)
    if novelty is not None:
        result.copied_lines = novelty.copied_lines(text)
        result.longest_shared = novelty.longest_shared(text)
    return result
