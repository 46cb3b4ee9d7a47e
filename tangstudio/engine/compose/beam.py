"""Beam search over whole poems: keep the N likeliest constrained prefixes, one batched step each.

    score(x_1..x_t) = Σ log p(x_i | x_<i)       (the model's own probabilities, not renormalised,
                                                  so a constraint that cuts a lot of mass costs)

All hypotheses step together as one batch of the model; each carries its own constraint state
(immutable, so branching copies nothing) and its path of StepInfo. A fixed form has one length,
so scores compare without length normalisation; a free poem that ends is set aside and the
search stops once no open hypothesis can beat the best finished one.

Plain beam search is known to find bland, repetitive text (the likeliest sequences repeat
themselves: "春日落花花"; Holtzman et al. 2020), and its N best differ in a character or two. Two
optional terms, which `generate` turns on (run.py: DIVERSITY, and --repeat-penalty), change what is
searched for, not what is reported (`log_prob` stays the model's own):

- diverse beam search (Vijayakumar et al. 2018): the beam is split into one group per poem asked
  for; the groups step in turn, and a character costs `diversity` nats more for every earlier group
  that chose it at the same place in this step (Hamming diversity), so each group finds its own poem;
- a repeat penalty: a character costs `repeat_penalty` nats for each time it counts as in the poem,
  by the sampler's own rule (craft/steer.repeat_counts: 叠字 spared, spellings of one word one
  character, an acrostic character still ahead already counted), as regulated verse avoids repeats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tangstudio.engine.compose import constraints as C
from tangstudio.engine.compose.decoding import log_softmax, softmax, top_candidates
from tangstudio.engine.compose.line_index import LineIndex
from tangstudio.engine.compose.settings import EOS_MARK, ComposeResult, ComposeSettings, StepInfo
from tangstudio.engine.compose.steppers import stepper_for
from tangstudio.engine.compose.tables import VocabTables, tables_for
from tangstudio.engine.corpus.vocab import EOS
from tangstudio.engine.errors import TangError
from tangstudio.engine.runs.loaded import Loaded

_NAMES = {EOS: EOS_MARK}
# What `generate --beam` searches with (run.py), in nats: chosen by eye on the shipped model, where
# plain beam search gave 4 poems differing in one or two characters of line 4, with 春风 three
# times each; at 1.0 each group writes its own poem. The repeat penalty is --repeat-penalty's.
DIVERSITY = 1.0


@dataclass(frozen=True)
class _Hyp:
    score: float  # what the search ranks by: the log-prob less the penalties
    cstate: C.CState
    path: tuple[StepInfo, ...]
    logp: float = 0.0  # the model's own log-prob of the path (ComposeResult.log_prob)
    group: int = 0


def _nats(value: float) -> str:
    return f"{value:g} nat{'' if value == 1 else 's'}"


def describe(width: int, n: int, diversity: float, repeat_penalty: float) -> str:
    """The note `generate` prints, so the person knows the poems are not the plain N best."""
    costs = []
    head = f"beam search of width {width}"
    if diversity > 0 and n > 1:
        widths = group_widths(width, n)
        head = f"diverse beam search: {len(widths)} groups of {'/'.join(map(str, widths))}, one poem each"
        costs.append(f"{_nats(diversity)} for a character an earlier group chose at the same place")
    if repeat_penalty > 0:
        what = "one" if costs else "a character"
        amount = f"{repeat_penalty:g}" if costs else _nats(repeat_penalty)
        costs.append(f"{amount} for {what} the poem already holds or is given ahead")
    return head + (f" (costs: {'; '.join(costs)})" if costs else "")


def group_widths(width: int, n: int) -> list[int]:
    """One group per poem asked for (at most `width`), the width shared out, the first groups widest."""
    groups = max(1, min(n, width))
    return [width // groups + (g < width % groups) for g in range(groups)]


def beam_search(
    loaded: Loaded,
    settings: ComposeSettings,
    width: int,
    n: int = 1,
    *,
    novelty: LineIndex | None = None,
    tables: VocabTables | None = None,
    diversity: float = 0.0,
    repeat_penalty: float = 0.0,
) -> list[ComposeResult]:
    """The n best poems (n ≤ width) of a beam of `width`, likeliest first.

    With `diversity` > 0 the beam is split into n groups and each gives its best poem (see the
    module's doc); with 0 it is one beam and gives its n best, as plain beam search does.
    """
    if not loaded.causal:
        raise TangError("beam search needs a left-to-right model; a bilstm fills its grid from both sides")
    if width < 1:
        raise TangError(f"beam width must be at least 1, got {width}")
    vocab = loaded.vocab
    stepper = stepper_for(loaded)
    tables = tables or tables_for(vocab)
    plan = C.make_plan(settings, tables)
    use_novelty = novelty if settings.novelty else None
    widths = group_widths(width, n) if diversity > 0 else [width]
    wanted = 1 if diversity > 0 else n  # poems each group gives

    from tangstudio.engine.compose.generator import primer_ids

    state = stepper.init_state(1)
    for token in [*primer_ids(settings, tables), vocab.start_id(settings.form)]:
        logits, state = stepper.step([token], state)
    hyps = [_Hyp(0.0, C.start_state(plan), (), group=g) for g in range(len(widths))]
    state = stepper.select(state, [0] * len(hyps))
    logits = np.repeat(logits, len(hyps), axis=0)
    finished: list[list[_Hyp]] = [[] for _ in widths]
    closed = [False] * len(widths)
    for _ in range(plan.max_len + 1):
        logp = log_softmax(logits)  # [B, V]
        allowed = [C.allowed(plan, tables, settings, h.cstate, use_novelty) for h in hyps]
        masks = np.stack([a.drawn for a in allowed])
        probs = softmax(logp, masks)  # shown: renormalised inside the mask
        V = logp.shape[1]
        chosen_here = np.zeros(V, dtype=np.float32)  # how many earlier groups chose each token now
        survivors: list[_Hyp] = []
        rows: list[int] = []
        tokens: list[int] = []
        for g, group_width in enumerate(widths):
            members = [b for b, h in enumerate(hyps) if h.group == g]
            if closed[g] or not members:
                continue
            totals = np.full((len(members), V), -np.inf, dtype=np.float32)
            for r, b in enumerate(members):
                h = hyps[b]
                row = np.where(masks[b], logp[b], np.float32(-np.inf)) + np.float32(h.score)
                if diversity > 0:
                    row = row - np.float32(diversity) * chosen_here
                if repeat_penalty > 0:
                    row -= np.float32(repeat_penalty) * _repeats(plan, tables, h, V)
                    _refuse_stutter(row, h.cstate.line_text, tables)
                totals[r] = row
            flat = totals.ravel()
            k = min(group_width, int(np.isfinite(flat).sum()))
            if k == 0:
                closed[g] = True
                continue
            index = np.argpartition(-flat, k - 1)[:k] if k < flat.size else np.arange(flat.size)
            index = index[np.argsort(-flat[index], kind="stable")]
            open_here: list[_Hyp] = []
            open_rows: list[int] = []
            open_tokens: list[int] = []
            for idx in index.tolist():
                r, token = divmod(idx, V)
                b = members[r]
                h = hyps[b]
                chosen_here[token] += 1
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
                nxt = _Hyp(
                    float(flat[idx]),
                    C.advance(plan, tables, h.cstate, token),
                    (*h.path, info),
                    h.logp + float(logp[b, token]),
                    g,
                )
                if nxt.cstate.done:
                    finished[g].append(nxt)
                else:
                    open_here.append(nxt)
                    open_rows.append(b)
                    open_tokens.append(token)
            done_g = finished[g]
            if not open_here or (
                len(done_g) >= wanted and max(f.score for f in done_g) >= open_here[0].score
            ):  # scores only fall as poems grow: no open hypothesis of this group can win any more
                closed[g] = True
                continue
            survivors += open_here
            rows += open_rows
            tokens += open_tokens
        if not survivors:
            break
        state = stepper.select(state, rows)
        logits, state = stepper.step(tokens, state)
        hyps = survivors
    best: list[_Hyp] = []
    for done_g in finished:
        best += sorted(done_g, key=lambda h: -h.score)[:wanted]
    best = best[: max(1, min(n, width))]
    best.sort(key=lambda h: -h.logp)
    return [_result(plan, tables, settings, h, novelty) for h in best]


def _refuse_stutter(row: np.ndarray, line_text: str, tables: VocabTables) -> None:
    """The sampler's stutter rule (craft/repetition.stutter) on a beam row, in place: the character
    that would stutter is out, unless it is the only one left."""
    from tangstudio.engine.compose.craft.repetition import stutter_id

    token = stutter_id(tables, line_text)
    if token is not None and np.isfinite(row[token]) and int(np.isfinite(row).sum()) > 1:
        row[token] = -np.inf


def _repeats(plan: C.Plan, tables: VocabTables, h: _Hyp, size: int) -> np.ndarray:
    """float32[V]: how many times each character counts as in the hypothesis's poem."""
    from tangstudio.engine.compose.craft.steer import repeat_counts

    out = np.zeros(size, dtype=np.float32)
    counts = repeat_counts(plan, tables, list(h.path), h.cstate.line, h.cstate.line_text, "")
    if counts:
        out[list(counts)] = list(counts.values())
    return out


def _result(
    plan: C.Plan, tables: VocabTables, settings: ComposeSettings, h: _Hyp, novelty: LineIndex | None
) -> ComposeResult:
    text = "".join(s.chosen for s in h.path if s.chosen != EOS_MARK)
    check = None
    if plan.regulated:
        from tangstudio.engine.prosody import check_poem

        check = check_poem(text, settings.form, tables.vocab.script).to_dict()
    group = (check or {}).get("rhyme_group") or C.rhyme_group(h.cstate)
    backoffs = [note for s in h.path for note in s.notes]
    result = ComposeResult(text, settings.form, list(h.path), group, check, backoffs, log_prob=h.logp)
    if novelty is not None:
        result.copied_lines = novelty.copied_lines(text, plan.prefix_len)
        result.longest_shared = novelty.longest_shared(text)
    return result
