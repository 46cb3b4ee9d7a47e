"""Line drafts (craft/line_drafts.py): each line the best of m drafts, scored by the model and the repeat rule.

Tiny untrained models: what is checked is the score, which draft is kept, that the poem is left as
it was while drafting, and that keeping the best of m lifts the model's log-probability.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from compose_helpers import build_vocab, composer, tiny_lm

from tangstudio.engine.compose.craft.critic import lm_from_steps
from tangstudio.engine.compose.craft.line_drafts import (
    DraftRules,
    best_rest_of_line,
    draft_streams,
    line_score,
    write_rest_of_line,
)
from tangstudio.engine.compose.settings import StepInfo


@pytest.fixture(scope="module")
def lm():
    return tiny_lm(build_vocab(["山水月风萧花"], 60))


def _step(char: str, p: float, forced: bool = False, typed: bool = False) -> StepInfo:
    return StepInfo(0, [], 0.0, char, p, model_prob=p, forced=forced, typed=typed)


def test_a_line_scores_its_mean_log_prob_less_the_penalty_for_each_lazy_repeat(lm):
    c = composer(lm, form="free", seed=1)
    history = [
        _step("山", 0.5),
        _step("，", 0.9, forced=True),
        _step("水", 0.25),  # fresh
        _step("山", 0.1),  # repeats line 1's 山: costs the penalty
        _step("萧", 0.2),  # fresh
        _step("萧", 0.3),  # 萧萧 right after itself: a 叠字, spared
        _step("月", 0.4, typed=True),  # typed by a person: the same in every draft, left out
        _step("。", 0.8, forced=True),
    ]
    logs = [math.log(p) for p in (0.25, 0.1, 0.2, 0.3)]
    assert line_score(history, 2, DraftRules(c, 2.0, 0.0)) == pytest.approx((sum(logs) - 2.0) / 4)
    assert line_score(history, 2, DraftRules(c, 0.0, 0.0)) == pytest.approx(sum(logs) / 4)
    # A draft that only ended the poem (free verse) has no line to score: it scored 0, beat every
    # real line, and free poems stopped after two lines; now it loses to any line.
    ended = [*history, _step("<eos>", 0.05)]
    assert line_score(ended, len(history), DraftRules(c, 2.0, 0.0)) == -math.inf


def test_free_verse_ends_by_one_draw_not_by_the_drafts():
    """At a free line's start the ending is decided by one draw, as without drafts. A model that
    ends a poem at 40 % of its chances: among 8 drafts one nearly always ended it, and every poem
    stopped after the two lines free verse must have; now drafted poems run as long as plain ones."""
    import torch

    from tangstudio.engine.compose.generator import Composer
    from tangstudio.engine.compose.settings import ComposeSettings
    from tangstudio.engine.corpus.vocab import EOS

    eager = tiny_lm(build_vocab(["山水月风萧花"], 60))
    with torch.no_grad():
        eager.model.head.V.bias[EOS] += math.log(0.4 * len(eager.vocab))

    def lines(drafts: int) -> list[int]:
        out = []
        for seed in range(8):
            text = Composer(eager, ComposeSettings(form="free", seed=seed, line_drafts=drafts)).finish().text
            out.append(sum(text.count(m) for m in "，。！？；"))
        return out

    drafted, plain = lines(8), lines(1)
    assert sum(drafted) >= 0.8 * sum(plain) and max(drafted) > 2, (drafted, plain)


def _numpy_stepped(lm):
    """`lm` as the shipped model is loaded: stepped by the numpy kernel, not through torch."""
    from pathlib import Path

    from tangstudio.engine.compose.fast_model import FastLoaded
    from tangstudio.engine.compose.fast_step import FastStep

    return FastLoaded(FastStep.from_model(lm.model), lm.vocab, lm.config, {}, Path("."))


@pytest.mark.parametrize("stepped", ["torch", "numpy"])
@pytest.mark.parametrize("title", ["", "山月"], ids=["untitled", "titled"])
def test_the_best_scored_draft_is_kept_and_the_poem_left_as_it_was(lm, stepped, title):
    model = _numpy_stepped(lm) if stepped == "numpy" else lm

    def at_mid_line():
        c = composer(model, form="wulv", seed=7, line_drafts=1, title=title)
        c.step()
        c.step()
        return c

    c = at_mid_line()
    assert c._guided == bool(title)  # a title is read twice (guidance), both readings batched
    before, n = c.text, len(c.history)
    kept_steps = best_rest_of_line(c, 6)  # 6 drafts side by side: 6 or 12 rows a batched step
    kept = [info.chosen for _, info in kept_steps]
    assert (c.text, len(c.history)) == (before, n)
    # the same six drafts, drawn one after another by hand from a twin at the same seed and place
    # (each from its own stream, as the side-by-side drafts draw), each model step a single one
    twin = at_mid_line()
    rules = DraftRules.of(twin)
    drafts = []
    for stream in draft_streams(twin.generator, 6):
        twin.generator = stream
        write_rest_of_line(twin)
        rest = [s.chosen for s in twin.history[n:]]
        logits = [frame.logits for frame in twin._frames[n + 1 :]]
        drafts.append((rest, line_score(twin.history, n, rules), logits))
        twin.undo(len(twin.history) - n)
    assert len({tuple(rest) for rest, _, _ in drafts}) > 1  # a real choice
    best = max(drafts, key=lambda d: d[1])
    assert kept == best[0]
    assert len(kept) == 4 and kept[-1] == "，"  # the line's last three characters and its mark
    # the batched step read each draft as the single steps did: the states handed back are its own
    for (frame, _), single in zip(kept_steps, best[2]):
        np.testing.assert_allclose(frame.logits, single, rtol=1e-5, atol=1e-5)
        # and hold only its own row of the batch's logits, not the whole batch (every discarded
        # draft's) as a view into it would: a review measured 42 MB kept by a titled 七律, not 3.4
        own = getattr(frame.state, "own", frame.logits)
        assert _held_bytes(frame.logits) == frame.logits.nbytes and _held_bytes(own) == own.nbytes


def _held_bytes(array: np.ndarray) -> int:
    """The bytes an array keeps alive: its own, or those of the array it is a view of."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array.nbytes


def test_keeping_the_best_of_eight_lines_lifts_the_poems_log_probability():
    import torch

    peaked = tiny_lm(build_vocab(["山水月风萧花"], 60), seed=2)
    with torch.no_grad():  # an untrained model is nearly uniform: give its output layer some opinions
        peaked.model.head.V.weight.mul_(8.0)

    def lms(m: int) -> np.ndarray:
        return np.array(
            [
                lm_from_steps(composer(peaked, form="wujue", seed=s, line_drafts=m).finish().steps)
                for s in range(8)
            ]
        )

    one, eight = lms(1), lms(8)
    # +0.23 nats a character here; a random pick among the drafts would move it by ±0.03
    assert eight.mean() > one.mean() + 0.1, (one, eight)


def test_the_drafted_line_is_written_one_character_at_a_time_as_finish_writes_it(lm):
    whole = composer(lm, form="qijue", seed=3, line_drafts=4).finish().text
    c = composer(lm, form="qijue", seed=3, line_drafts=4)
    shown = []
    while not c.done:
        shown.append(c.step_drafted().chosen)
    assert "".join(shown) == whole == c.text


def test_an_undone_line_is_drawn_afresh_not_replayed(lm):
    c = composer(lm, form="wujue", seed=3, line_drafts=4)
    c.finish()
    first = c.text
    c.reroll(1)
    assert c.text[:6] == first[:6] and c.text[6:12] != first[6:12]


def test_a_typed_character_mid_line_makes_the_rest_of_the_line_drawn_again(lm):
    c = composer(lm, form="wujue", seed=3, line_drafts=4)
    kept = c.step_drafted().chosen
    second = c.preview()  # what the kept line writes next is not what the person types
    typed = next(ch for ch in "山水月风花" if ch not in (kept, second.chosen) and c.judge(ch).fits)
    c.write(typed)
    while not c.done:
        c.step_drafted()
    assert c.text[1] == typed and len(c.text) == 24


def test_m_drafts_cost_m_model_steps_a_character_and_the_kept_one_is_not_run_again(lm):
    calls = []
    step = lm.model.step

    def counting_step(tokens, state):
        calls.append(tokens.shape)
        return step(tokens, state)

    lm.model.step = counting_step
    try:
        result = composer(lm, form="qilv", seed=0, line_drafts=3).finish()
    finally:
        lm.model.step = step
    # the start token, then each character but the poem's last in each of the three drafts of its line
    assert len(calls) == 1 + 3 * (len(result.text) - 1)


@pytest.mark.parametrize(
    "settings",
    [
        {"form": "free"},  # drafts end at different steps; a draft may end the poem
        {"form": "wujue", "acrostic": "山水"},  # forced places inside the drafted lines' poem
        {"form": "qijue", "title": "山月", "prefix": "月"},
    ],
    ids=["free", "acrostic", "titled-prefix"],
)
@pytest.mark.parametrize("m", [2, 5])  # 2: below BATCH_FROM untitled (single steps); 5: batched
def test_whole_poems_side_by_side_are_the_poems_written_one_by_one(monkeypatch, settings, m):
    from functools import partial

    import torch

    from tangstudio.engine.compose.craft import line_drafts

    peaked = tiny_lm(build_vocab(["山水月风萧花"], 60), seed=3)
    with torch.no_grad():
        peaked.model.head.V.weight.mul_(4.0)

    def poems() -> list[tuple[str, list[float]]]:
        out = []
        for seed in range(4):
            result = composer(peaked, seed=seed, line_drafts=m, **settings).finish()
            out.append((result.text, [s.model_prob for s in result.steps]))
        return out

    together = poems()
    monkeypatch.setattr(line_drafts, "best_rest_of_line", partial(best_rest_of_line, side_by_side=False))
    apart = poems()
    assert [text for text, _ in together] == [text for text, _ in apart]
    for (_, a), (_, b) in zip(together, apart):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    assert len({text for text, _ in together}) > 1
