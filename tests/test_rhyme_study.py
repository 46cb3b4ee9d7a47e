"""The poem study's rhyme measures: line ends found where a reader finds them, the per-role losses
equal to a poem-by-poem recomputation, and rhyme rates from samples and from the corpus."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tangstudio.engine.study.rhyme import line_end_roles, rhymes

DENG = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"


def test_line_end_roles_point_at_each_lines_last_character():
    roles = line_end_roles(DENG)
    assert {DENG[i]: role for i, role in roles.items()} == {
        "尽": "odd_end",
        "流": "first_rhyme",
        "目": "odd_end",
        "楼": "echo_rhyme",
    }
    lv = "国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。"
    roles = line_end_roles(lv)
    assert [lv[i] for i, r in sorted(roles.items()) if r == "echo_rhyme"] == ["心", "金", "簪"]
    assert [lv[i] for i, r in sorted(roles.items()) if r == "first_rhyme"] == ["深"]
    assert len(roles) == 8


def test_rhymes_reads_the_checker():
    assert rhymes(DENG, "wujue", "simplified")
    assert not rhymes("白日依山尽，黄河入海流。欲穷千里目，更上一层天。", "wujue", "simplified")
    assert not rhymes(DENG, "qijue", "simplified")
    assert not rhymes("", "wujue", "simplified")


def _manual(run: Path) -> dict[str, list[float]]:
    """Every val poem scored alone, no batching, no padding: the losses at each role."""
    import torch
    import torch.nn.functional as F

    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.runs.checkpoint import load_checkpoint

    loaded = load_checkpoint(run)
    poems = load_corpus("tiny", loaded.vocab.script).select(loaded.meta["forms"], "val")
    out: dict[str, list[float]] = {"first_rhyme": [], "echo_rhyme": [], "odd_end": [], "all": []}
    with torch.no_grad():
        for poem in poems:
            seq = torch.tensor([loaded.vocab.encode_poem(poem.text, poem.form)])
            lengths = torch.tensor([seq.shape[1] if not loaded.causal else seq.shape[1] - 1])
            if loaded.causal:
                logits = loaded.model(seq[:, :-1], lengths)[0]
            else:
                logits = loaded.model(seq, lengths)[0, 1:]
            losses = F.cross_entropy(logits.float(), seq[0, 1:], reduction="none").tolist()
            for i, role in line_end_roles(poem.text).items():
                out[role].append(losses[i])
            out["all"] += losses
    return out


@pytest.mark.parametrize("arch", ["gru", "bilstm"])
def test_rhyme_position_loss_equals_a_poem_by_poem_recount(arch, trained_runs, tiny_corpus):
    from tangstudio.engine.study.rhyme import rhyme_position_loss

    run = trained_runs / f"tiny-{arch}"
    measured = rhyme_position_loss(str(run))
    expected = _manual(run)
    for role, values in expected.items():
        assert measured["counts"][role] == len(values)
        if values:
            assert measured[role] == pytest.approx(sum(values) / len(values), abs=1e-5)
    assert measured["counts"]["first_rhyme"] > 0 and measured["counts"]["odd_end"] > 0


def test_unconstrained_rhyme_rate_is_seeded_and_refuses_a_bilstm(trained_runs, tiny_corpus):
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.study.rhyme import unconstrained_rhyme_rate

    first = unconstrained_rhyme_rate(str(trained_runs / "tiny-gru"), "wujue", 6)
    assert first == unconstrained_rhyme_rate(str(trained_runs / "tiny-gru"), "wujue", 6)
    assert 0.0 <= first["rhyme"] <= first["form"] <= 1.0
    # over the well-formed samples, as the chance rate counts (an RNN student's review)
    if first["form"]:
        assert first["rhyme_shaped"] == pytest.approx(first["rhyme"] / first["form"])
    with pytest.raises(TangError, match="BiLSTM"):
        unconstrained_rhyme_rate(str(trained_runs / "tiny-bilstm"), "wujue", 2)


def test_corpus_rhyme_rate_real_poems_rhyme_and_swapped_lines_rarely_do():
    from tangstudio.engine.study.rhyme import corpus_rhyme_rate

    rates = corpus_rhyme_rate("wujue")
    assert rates["poems"] > 100
    assert rates["real"] > 0.5 > 0.2 > rates["last_line_swapped"]
    assert not math.isnan(rates["real"])
