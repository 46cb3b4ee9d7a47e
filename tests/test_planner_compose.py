"""The composer reads a title and a plan (issue 21 §2): the exact ids fed, undo, rerolls, old models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from compose_helpers import build_vocab, tiny_lm

from tangstudio.engine.compose.generator import Composer
from tangstudio.engine.compose.settings import ComposeSettings
from tangstudio.engine.corpus.poem import split_clauses
from tangstudio.engine.errors import TangError

torch.set_num_threads(1)
EXTRA = ["送友人山水月归云", "青山横北郭，白水绕东城。此地一为别，孤蓬万里征。"]


class Recorder:
    """The composer's stepper, with every token id it is fed written down."""

    def __init__(self, inner):
        self.inner = inner
        self.fed: list[int] = []

    def init_state(self, batch=1):
        return self.inner.init_state(batch)

    def step(self, tokens, state):
        self.fed += list(tokens)
        return self.inner.step(tokens, state)

    def select(self, state, rows):
        return self.inner.select(state, rows)


@pytest.fixture(scope="module")
def lm():
    return tiny_lm(build_vocab(EXTRA, 200))


@pytest.fixture(scope="module")
def old_lm():
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.vocab import Vocab

    poems = load_corpus("tang", "simplified").select("regulated", "train")[:200]
    return tiny_lm(Vocab.build([p.text for p in poems] + EXTRA, "simplified", markers=False))


def _recording(lm, **kw) -> tuple[Composer, Recorder]:
    # one draft a line: the record is then every token read once, in order (drafts read each line
    # m times from the same fed state: test_craft_line_drafts.py); no title guidance, which reads
    # the poem a second time without its title (test_craft_guidance.py)
    c = Composer(lm, ComposeSettings(**{"line_drafts": 1, "guidance": 0.0, **kw}))
    rec = Recorder(c.stepper)
    c.stepper = rec
    c.restart()
    return c, rec


def _expected(vocab, title: str, form: str, plan: list[str], text: str) -> list[int]:
    ids = [vocab.title_id, *(vocab.stoi[ch] for ch in title)] if title else []
    ids.append(vocab.start_id(form))
    for keyword, line in zip(plan, split_clauses(text)):
        if keyword:
            ids += [vocab.keyword_id, *(vocab.stoi[ch] for ch in keyword)]
        ids += [vocab.stoi[ch] for ch in line]
    return ids[:-1]  # the closing 。 ends the poem: the model is not stepped on it


def test_title_and_plan_are_fed_before_their_places_and_never_sampled(lm):
    vocab = lm.vocab
    assert vocab.has_plan
    plan = ["山", "水月", "", "归"]
    c, rec = _recording(lm, form="wujue", title="送友人", plan=plan, seed=3)
    result = c.finish()
    assert rec.fed == _expected(vocab, "送友人", "wujue", plan, result.text)
    assert result.title == "送友人" and result.plan == plan
    first = vocab.first_char_id
    assert all(vocab.stoi[s.chosen] >= first for s in result.steps)  # markers are never written


def test_with_the_planner_a_title_gets_a_seeded_plan(lm):
    a = Composer(lm, ComposeSettings(form="qijue", title="秋夜", seed=5, planner=True)).finish()
    b = Composer(lm, ComposeSettings(form="qijue", title="秋夜", seed=5, planner=True)).finish()
    assert a.plan == b.plan and a.text == b.text
    assert len(a.plan) == 4 and all(a.plan)
    others = {
        tuple(
            Composer(lm, ComposeSettings(form="qijue", title="秋夜", seed=s, planner=True)).poem_plan.keywords
        )
        for s in range(6)
    }
    assert len(others) > 1


def test_by_default_a_title_is_read_alone_with_no_keywords(lm):
    c = Composer(lm, ComposeSettings(form="qijue", title="秋夜", seed=5))
    assert c.poem_plan.title == "秋夜" and not any(c.poem_plan.keywords)
    assert c.poem_plan.title_ids(lm.vocab)  # the title is still fed


def test_dash_leaves_a_line_to_the_planner(lm):
    c = Composer(lm, ComposeSettings(form="wujue", plan=["山", "-", "", "-"], seed=2))
    kw = c.poem_plan.keywords
    assert kw[0] == "山" and kw[2] == "" and kw[1] and kw[3]


def test_undo_across_a_line_end_keeps_the_keyword_feed(lm):
    c = Composer(lm, ComposeSettings(form="wujue", plan=["山", "水", "月", "归"], seed=1))
    for _ in range(6):  # line 1 and its comma: the top frame has read <kw> 水
        c.step()
    assert c.text.endswith("，")
    fed = c._frames[-1].logits.copy()
    c.undo(1)
    c.choose("，")
    assert np.array_equal(c._frames[-1].logits, fed)
    no_kw = Composer(lm, ComposeSettings(form="wujue", seed=1))
    for ch in c.text:
        no_kw.choose(ch)
    assert not np.allclose(no_kw._frames[-1].logits, fed)  # the keyword did change what comes next


def test_reroll_with_a_new_keyword_feeds_it(lm):
    c, rec = _recording(lm, form="wujue", plan=["山", "水", "月", "归"], seed=4)
    c.finish()
    rec.fed.clear()
    c.reroll(1, keyword="云")
    vocab = lm.vocab
    assert rec.fed[:2] == [vocab.keyword_id, vocab.stoi["云"]]
    assert c.result().plan == ["山", "云", "月", "归"]
    c.reroll(0, keyword="")
    assert c.result().plan[0] == ""


def test_a_keyword_the_model_cannot_write_is_refused(lm):
    with pytest.raises(TangError, match="not in the model's vocabulary"):
        Composer(lm, ComposeSettings(form="wujue", plan=["山", "鱻", "月", "归"], seed=1))


def test_an_old_model_refuses_a_title_or_plan_but_still_plans_the_theme(old_lm):
    assert not old_lm.vocab.has_plan
    for kw in ({"title": "送友人"}, {"plan": ["山", "-", "-", "-"]}):
        with pytest.raises(TangError, match="without titles and plans"):
            Composer(old_lm, ComposeSettings(form="wujue", **kw))
    c, rec = _recording(old_lm, form="wujue", theme="月", seed=2)
    result = c.finish()
    assert "月" in result.text and result.plan == []
    assert c.poem_plan.theme_lines  # the theme has a line of its own
    assert rec.fed == [old_lm.vocab.start_id("wujue"), *old_lm.vocab.encode(result.text)[:-1]]


def test_a_plan_reading_model_gets_the_theme_as_a_keyword(lm):
    c = Composer(lm, ComposeSettings(form="qijue", theme="月", seed=8))
    (line,) = c.poem_plan.theme_lines.values()
    assert c.poem_plan.keywords[line] == "月"
    assert all(k == "" for i, k in enumerate(c.poem_plan.keywords) if i != line)
    assert "月" in c.finish().text


def test_a_dash_alone_lets_the_planner_plan_every_line(lm):
    c = Composer(lm, ComposeSettings(form="wulv", title="秋夜", plan=["-"], seed=3))
    assert len(c.poem_plan.keywords) == 8 and all(c.poem_plan.keywords)
    same = Composer(lm, ComposeSettings(form="wulv", title="秋夜", seed=3, planner=True))
    assert same.poem_plan.keywords == c.poem_plan.keywords
