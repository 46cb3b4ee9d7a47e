"""Title guidance (craft/guidance.py): the composer reads the poem twice, with and without its title.

A tiny untrained plan-reading model: what is checked is the arithmetic of the guided distribution,
that the untitled reading advances with every character, undo included, and that nothing changes
without a title or at γ = 0.
"""

from __future__ import annotations

import numpy as np
import pytest
from compose_helpers import build_vocab, composer, tiny_lm

from tangstudio.engine.compose.craft.guidance import guided, log_softmax
from tangstudio.engine.compose.settings import ComposeSettings
from tangstudio.engine.errors import TangError

EXTRA = ["送友人山水月归云", "青山横北郭，白水绕东城。此地一为别，孤蓬万里征。"]


@pytest.fixture(scope="module")
def lm():
    return tiny_lm(build_vocab(EXTRA, 200), seed=4)


def _logp(c) -> np.ndarray:
    return log_softmax(c._frames[-1].logits.astype(np.float64))


def test_guidance_weighs_the_titles_evidence_by_gamma():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50).astype(np.float32), rng.normal(size=50).astype(np.float32)
    la, lb = log_softmax(a.astype(np.float64)), log_softmax(b.astype(np.float64))
    assert np.allclose(log_softmax(guided(a, b, 0.0).astype(np.float64)), la, atol=1e-5)
    q = log_softmax(guided(a, b, 1.5).astype(np.float64))
    # between any two characters: (1 + γ)·(their log-ratio with the title) − γ·(without)
    assert q[3] - q[7] == pytest.approx(2.5 * (la[3] - la[7]) - 1.5 * (lb[3] - lb[7]), abs=1e-4)


def test_the_composer_samples_from_the_guided_distribution_at_every_step(lm):
    kw = {"form": "wujue", "seed": 2, "line_drafts": 1}
    guided_c = composer(lm, title="送友人", guidance=1.5, **kw)
    titled = composer(lm, title="送友人", guidance=0.0, **kw)
    untitled = composer(lm, guidance=0.0, **kw)
    for ch in [None, "山", "水", "月"]:
        if ch is not None:
            for c in (guided_c, titled, untitled):
                c.choose(ch)
        spared = np.array(sorted({lm.vocab.stoi[c] for c in "送友人"}))  # the title's own: no lean
        expected = log_softmax(guided(titled._frames[-1].logits, untitled._frames[-1].logits, 1.5, spared))
        assert np.allclose(_logp(guided_c), expected, atol=1e-4)
    before = _logp(guided_c)
    guided_c.choose("归")
    guided_c.undo()
    assert np.allclose(_logp(guided_c), before)  # both readings' states are kept, not recomputed


def test_model_prob_is_the_titled_readings_not_the_guided_one(lm):
    """What the critic, the line drafts and `--json` call the model's probability stays the model's
    own, p(c | title, poem so far): guidance steers the sampling only."""
    kw = {"form": "wujue", "seed": 2, "line_drafts": 1}
    guided_c = composer(lm, title="送友人", guidance=2.0, **kw)
    titled = composer(lm, title="送友人", guidance=0.0, **kw)
    for ch in ["山", "水", "月"]:
        own = np.exp(log_softmax(titled._frames[-1].logits.astype(np.float64)))
        sampled = np.exp(_logp(guided_c))
        step_g, step_t = guided_c.choose(ch), titled.choose(ch)
        token = lm.vocab.stoi[ch]
        assert step_g.model_prob == pytest.approx(own[token], rel=1e-4)
        assert step_g.model_prob == pytest.approx(step_t.model_prob, rel=1e-4)
        assert step_g.model_prob != pytest.approx(sampled[token], rel=1e-3)


def test_no_title_or_gamma_zero_is_the_model_as_it_is(lm):
    kw = {"form": "qijue", "seed": 9, "line_drafts": 2}
    plain = composer(lm, **kw).finish().text
    assert composer(lm, guidance=2.0, **kw).finish().text == plain  # nothing to guide toward
    titled = composer(lm, title="送友人", guidance=0.0, **kw).finish().text
    assert composer(lm, title="送友人", guidance=3.0, **kw).finish().text != titled


def test_a_guidance_out_of_range_is_refused():
    for bad in (-0.5, 5.5, True):
        with pytest.raises(TangError, match="title guidance must be between 0"):
            ComposeSettings(guidance=bad)


def test_the_titles_own_characters_get_no_lean() -> None:
    """A poet's review: under 春日 every poem opened on 春 or 日. The title's strongest evidence is
    for its own characters; they keep the titled reading's log-probability, the rest lean."""
    rng = np.random.default_rng(0)
    with_title, without = rng.normal(size=50), rng.normal(size=50)
    with_title[7] += 3.0  # the title makes its own character far likelier
    spared = np.array([7])
    lc = log_softmax(with_title.astype(np.float64))
    out = guided(with_title, without, 1.5, spared)
    assert out[7] == pytest.approx(lc[7], abs=1e-5)
    plain = guided(with_title, without, 1.5)
    assert plain[7] > out[7] + 1.0  # the lean it no longer gets
    keep = np.arange(50) != 7
    assert np.allclose(out[keep], plain[keep])
