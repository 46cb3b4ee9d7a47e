"""The composer's craft (issue 22): the repetition penalty, the 对仗 table and bias, best of K.

Tiny untrained models: what is checked is how the penalty and the bias reshape a distribution,
measured as ratios of the probabilities shown with the knob on and off at the same state.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from compose_helpers import build_vocab, composer, tiny_lm

from tangstudio.engine.compose.craft.repetition import (
    BREAK,
    apply_penalty,
    deliberate,
    load_diezi,
    load_variants,
    mine_diezi,
    penalised_counts,
    repeated_share,
    spelling_ids,
)
from tangstudio.engine.prosody import duizhang as D

PLAIN = "山"  # not a 叠字 character of the corpus (doubled in 0.2 % of its uses)
DOUBLED = "萧"  # 萧萧: doubled in about a fifth of its uses


@pytest.fixture(scope="module")
def lm():
    return tiny_lm(build_vocab(["山水月风萧花"], 60))


def _ratio(c, a: str, b: str) -> float:
    return c.judge(a).prob / c.judge(b).prob


def _state(lm, penalty: float, steps, **kw):
    c = composer(lm, form="free", seed=1, repeat_penalty=penalty, duizhang=0, **kw)
    for how, ch in steps:
        c.write(ch) if how == "typed" else c.choose(ch)
    return c


def test_the_shipped_diezi_list_has_the_corpus_doublings_and_not_the_accidents():
    diezi = load_diezi("simplified")
    assert DOUBLED in diezi and "悠" in diezi
    assert PLAIN not in diezi and "光" not in diezi


def test_a_character_chosen_earlier_is_penalised_by_exp_strength(lm):
    steps = [("chosen", PLAIN), ("chosen", "水")]
    off, on = _state(lm, 0.0, steps), _state(lm, 2.0, steps)
    # 山 and 水 both written: penalised alike, so against 月 (unwritten) both drop by e^-2
    assert _ratio(on, PLAIN, "月") == pytest.approx(math.exp(-2.0) * _ratio(off, PLAIN, "月"), rel=1e-3)
    assert _ratio(on, "风", "月") == pytest.approx(_ratio(off, "风", "月"), rel=1e-3)


def test_diezi_is_spared_right_after_itself_once_but_not_a_third_time(lm):
    once = [("chosen", DOUBLED)]
    assert _ratio(_state(lm, 2.0, once), DOUBLED, "月") == pytest.approx(
        _ratio(_state(lm, 0.0, once), DOUBLED, "月"), rel=1e-3
    )
    twice = [("chosen", DOUBLED), ("chosen", DOUBLED)]
    assert _ratio(_state(lm, 0.0, twice), DOUBLED, "月") > 0
    assert _ratio(_state(lm, 2.0, twice), DOUBLED, "月") == 0  # a third in a row is a stutter
    # a plain character right after itself is not 叠字: penalised
    plain = [("chosen", PLAIN)]
    assert _ratio(_state(lm, 2.0, plain), PLAIN, "月") == pytest.approx(
        math.exp(-2.0) * _ratio(_state(lm, 0.0, plain), PLAIN, "月"), rel=1e-3
    )


def test_each_earlier_use_costs_the_penalty_again(lm):
    """A third 山 pays e^-2 twice (a frequency penalty): the pull of a title word cannot buy four
    of it for the price of one repeat. A 叠字 pair counts once."""
    once = [("chosen", PLAIN), ("chosen", "水")]
    twice = [("chosen", PLAIN), ("chosen", "水"), ("chosen", PLAIN)]
    for steps, n in ((once, 1), (twice, 2)):
        on, off = _state(lm, 2.0, steps), _state(lm, 0.0, steps)
        assert _ratio(on, PLAIN, "月") == pytest.approx(
            math.exp(-2.0 * n) * _ratio(off, PLAIN, "月"), rel=1e-3
        )
    pair_then_other = [("chosen", DOUBLED), ("chosen", DOUBLED), ("chosen", "水")]
    on, off = _state(lm, 2.0, pair_then_other), _state(lm, 0.0, pair_then_other)
    assert _ratio(on, DOUBLED, "月") == pytest.approx(math.exp(-2.0) * _ratio(off, DOUBLED, "月"), rel=1e-3)
    stoi = {"山": 2, "水": 3}
    assert penalised_counts([2, 3, 2], "", frozenset(), stoi) == {2: 2, 3: 1}
    # a mark between two 山 ends any 叠字 pair: 山。山 is two of them (written_ids puts BREAK there)
    assert penalised_counts([3, 2, BREAK, 2], "山", frozenset("山"), stoi) == {3: 1}  # 叠字 right after
    assert penalised_counts([3, 2, BREAK, 2, 3], "山水", frozenset(), stoi) == {2: 2, 3: 2}
    from types import SimpleNamespace as Step

    from tangstudio.engine.compose.craft.repetition import han_ids_for, written_ids
    from tangstudio.engine.compose.tables import tables_for

    assert written_ids([Step(chosen=c) for c in ("山", "。", "山", "<eos>")], stoi) == [2, BREAK, 2, BREAK]
    tables = tables_for(build_vocab(["山水。"], 5))
    assert set(han_ids_for(tables)) >= set("山水") and not set(han_ids_for(tables)) & set("，。<eos>")
    q = apply_penalty(np.full(4, 0.25, dtype=np.float32), {1: 2, 2: 1}, math.log(2))
    assert q[0] / q[1] == pytest.approx(4.0) and q[0] / q[2] == pytest.approx(2.0)


def test_typed_and_forced_characters_count_as_written_but_an_unwritten_theme_character_is_spared(lm):
    """What the person asked for is never refused, but once in the poem it is not echoed (the
    studio's typed 山, a prefix's or an acrostic's 花): until the eighth stop such characters did not
    count, and `--theme 月,秋` wrote 月月月临春. A theme character still to be written is never
    penalised, even when another theme character or a spelling of it is in the poem."""
    typed = [("typed", PLAIN), ("chosen", "水")]
    assert _ratio(_state(lm, 3.0, typed), PLAIN, "月") == pytest.approx(
        math.exp(-3.0) * _ratio(_state(lm, 0.0, typed), PLAIN, "月"), rel=1e-3
    )
    for kw in ({"acrostic": "山水"}, {"prefix": "山水，"}):
        off = _state(lm, 0.0, [], **kw)
        on = _state(lm, 3.0, [], **kw)
        off.follow_forced(), on.follow_forced()
        off.choose("花"), on.choose("花")
        assert _ratio(on, PLAIN, "月") == pytest.approx(math.exp(-3.0) * _ratio(off, PLAIN, "月"), rel=1e-3)
        assert _ratio(on, "花", "月") == pytest.approx(math.exp(-3.0) * _ratio(off, "花", "月"), rel=1e-3)
    themed = [("chosen", "水")]
    off, on = _state(lm, 0.0, themed, theme="水花"), _state(lm, 3.0, themed, theme="水花")
    # 花 not yet written: spared (both carry the theme lean, so the ratio compares like with like)
    assert _ratio(on, "花", "月") == pytest.approx(_ratio(off, "花", "月"), rel=1e-3)
    assert _ratio(on, "水", "月") == pytest.approx(math.exp(-3.0) * _ratio(off, "水", "月"), rel=1e-3)
    stoi = {"山": 2, "水": 3}
    assert penalised_counts([2], "", frozenset(), stoi, theme=frozenset({3})) == {2: 1}
    assert penalised_counts([2, 3], "", frozenset(), stoi, theme=frozenset({3})) == {2: 1, 3: 1}
    apes = {"猨": 4, "猿": 5}
    spellings = {4: (5,), 5: (4,)}
    assert penalised_counts([4], "", frozenset(), apes, frozenset({5}), spellings) == {4: 1}  # 猿 spared
    assert penalised_counts([4], "", frozenset(), apes, frozenset(), spellings) == {4: 1, 5: 1}


def test_the_composer_reads_the_lines_keyword_and_the_characters_given_ahead(lm):
    """End to end: after 山, the line's keyword, 山 pays 1 + KEYWORD_ECHO times the penalty; and in
    line 1 of an acrostic 山水, 水 (line 2's opening, given ahead) already counts once."""
    from tangstudio.engine.compose.craft.repetition import KEYWORD_ECHO

    planned = [("chosen", PLAIN)]
    off, on = _state(lm, 0.0, planned, plan=[PLAIN]), _state(lm, 2.0, planned, plan=[PLAIN])
    echo = math.exp(-2.0 * (1 + KEYWORD_ECHO))
    assert _ratio(on, PLAIN, "月") == pytest.approx(echo * _ratio(off, PLAIN, "月"), rel=1e-3)
    off, on = _state(lm, 0.0, [], acrostic="山水"), _state(lm, 2.0, [], acrostic="山水")
    off.follow_forced(), on.follow_forced()  # 山 written; line 2 will open with 水
    assert _ratio(on, "水", "月") == pytest.approx(math.exp(-2.0) * _ratio(off, "水", "月"), rel=1e-3)


def test_a_keyword_written_in_its_line_counts_keyword_echo_more_there():
    """A plan-reading model copies its line's keyword and goes on copying it (秋风秋夜雨 under 秋):
    once written in its own line, the keyword's characters count KEYWORD_ECHO times more."""
    from tangstudio.engine.compose.craft.repetition import KEYWORD_ECHO

    stoi = {"秋": 1, "风": 2, "萧": 3}
    assert penalised_counts([1, 2], "秋风", frozenset(), stoi, keyword="秋") == {1: 1 + KEYWORD_ECHO, 2: 1}
    assert penalised_counts([1, 2], "", frozenset(), stoi, keyword="秋") == {1: 1, 2: 1}  # another line
    assert penalised_counts([2], "风", frozenset(), stoi, keyword="秋") == {2: 1}  # not written yet
    assert penalised_counts([3], "萧", frozenset("萧"), stoi, keyword="萧") == {}  # 萧萧 still allowed
    # the keyword written in another spelling is echoed too: 猨 under the keyword 猿
    apes = {"猨": 4, "猿": 5, "风": 2}
    spellings = {4: (5,), 5: (4,)}
    echoed = penalised_counts([4, 2], "猨风", frozenset(), apes, spellings=spellings, keyword="猿")
    assert echoed == {4: 1 + KEYWORD_ECHO, 5: 1 + KEYWORD_ECHO, 2: 1}


def test_penalised_counts_and_apply_penalty_directly():
    stoi = {"萧": 1, "山": 2, "月": 3}
    assert penalised_counts([1], "萧", frozenset("萧"), stoi) == {}
    assert penalised_counts([1, 1], "萧萧", frozenset("萧"), stoi) == {1: 1}
    assert penalised_counts([2, 3], "山", frozenset(), stoi) == {2: 1, 3: 1}
    assert penalised_counts([2], "", frozenset(), stoi, frozenset({2})) == {2: 1}  # a written theme char
    p = np.array([0.25, 0.25, 0.5], dtype=np.float32)
    q = apply_penalty(p, [2], math.log(2))
    assert q.sum() == pytest.approx(1.0) and q[2] / q[0] == pytest.approx(1.0)


def test_the_shipped_variant_groups_join_spellings_and_not_distinct_words():
    groups = load_variants("simplified")
    group_of = {c: g for g in groups for c in g}
    assert "猿" in group_of["猨"] and "杯" in group_of["桮"] and set("窗牕窓窻") <= set(group_of["窗"])
    for a, b in ("复覆", "霜孀", "七漆", "沈沉"):  # yitizi's pairs that are two words in Tang verse
        assert b not in group_of.get(a, a)
    assert len(group_of) == sum(len(g) for g in groups)  # each character in one group only
    traditional = {c: g for g in load_variants("traditional") for c in g}
    assert "猿" in traditional["猨"] and "階" in traditional["堦"]  # 阶 converted, 堦 kept


def test_a_word_written_in_one_spelling_penalises_the_others():
    lm = tiny_lm(build_vocab(["猨猿杯桮月"], 60))
    steps = [("chosen", "猨"), ("chosen", "桮")]
    off, on = _state(lm, 0.0, steps), _state(lm, 2.0, steps)
    drop = math.exp(-2.0)
    assert _ratio(on, "猿", "月") == pytest.approx(drop * _ratio(off, "猿", "月"), rel=1e-3)
    assert _ratio(on, "杯", "月") == pytest.approx(drop * _ratio(off, "杯", "月"), rel=1e-3)
    stoi = lm.vocab.stoi
    counts = penalised_counts(
        [stoi["猨"], stoi["猿"]], "猨猿", frozenset(), stoi, spellings=spelling_ids(stoi, "simplified")
    )
    assert counts[stoi["猿"]] == 2 and counts[stoi["猨"]] == 2
    assert spelling_ids({"猨": 1, "山": 2}, "simplified") == {}  # a spelling with no other in the vocabulary


def test_the_great_numbers_count_as_one_word_but_in_a_couplets_facing_places():
    """Every reader of sheet Y named 万里 beside 千里: 千 written makes 万 a repeat and the other way
    round, except where the two face each other across a couplet (千山鸟飞绝，万径人踪灭)."""
    from tangstudio.engine.compose.craft.repetition import family_repeats

    stoi = {"千": 1, "万": 2, "山": 3, "径": 4}
    assert family_repeats({}, ["千山鸟飞绝"], "", stoi) == {}  # line 2, place 1 faces 千: 对仗
    assert family_repeats({}, ["千山鸟飞绝"], "孤", stoi) == {2: 1}  # place 2 does not
    assert family_repeats({1: 1}, [], "千里", stoi) == {1: 1, 2: 1}  # in the same line
    assert family_repeats({}, ["千山鸟飞绝", "万径人踪灭"], "", stoi) == {
        1: 1,
        2: 1,
    }  # line 3: no couplet with 1
    assert family_repeats({5: 1}, ["孤舟"], "", stoi) == {5: 1}  # neither written: nothing added
    # through the composer: after 千 in line 1, 万 costs e^-strength at a place that does not face it
    lm = tiny_lm(build_vocab(["千万山水月"], 60))
    steps = [("chosen", "千")]
    off, on = _state(lm, 0.0, steps), _state(lm, 2.0, steps)
    assert _ratio(on, "万", "月") == pytest.approx(math.exp(-2.0) * _ratio(off, "万", "月"), rel=1e-3)


def test_diezi_mining_on_a_hand_made_corpus():
    doubled, seen = mine_diezi(["萧萧风雨夜，山山月。", "萧萧萧何处，悠悠。", "月，月。"])
    assert doubled["萧"] == 2  # 萧萧 once, and 萧萧萧 counts once (a doubling, then a third)
    assert doubled["山"] == 1 and doubled["悠"] == 1
    assert doubled["月"] == 0  # across a mark is not adjacent
    assert seen["萧"] == 5
    assert repeated_share("山水山，月。") == pytest.approx(1 / 4)
    kept = deliberate(doubled, seen)
    assert kept == {}  # nothing reaches DIEZI_MIN doublings in so small a corpus


# ---------------------------------------------------------------- 对仗


def _lv(l3: str, l4: str, l5: str, l6: str) -> str:
    filler = "甲乙丙丁戊"
    lines = [filler, filler, l3, l4, l5, l6, filler, filler]
    return "".join(line + ("，" if i % 2 == 0 else "。") for i, line in enumerate(lines))


def test_duizhang_mining_counts_aligned_pairs_of_the_middle_couplets_only():
    a = _lv("山月白云高", "水风红雨低", "春花千里远", "秋叶万家深")
    b = _lv("水风红雨低", "山月白云高", "春花千里远", "秋叶万家深")  # 山/水 the other way round
    jue = "山月白云高，水风红雨低。春花千里远，秋叶万家深。"  # a 绝句 has no middle couplets
    ragged = a.replace("山月白云高", "山月白云")
    counts = D.mine([a, b, jue, ragged])
    assert counts.total == 20
    assert counts.pairs[("山", "水")] == 2 and counts.pairs[("春", "秋")] == 2
    assert ("甲", "甲") not in counts.pairs  # lines 1-2 and 7-8 are not read
    assert counts.sides["山"] == 2 and counts.sides["秋"] == 2
    table = D.PairTable(counts)
    # E(山,水) = c(山)c(水)/2N = 2·2/40; PMI = log((2 − ½)/E)
    assert table.pmi("山", "水") == pytest.approx(math.log(1.5 / 0.1))
    assert table.pmi("水", "山") == table.pmi("山", "水")
    assert table.pmi("山", "风") == 0.0  # never met, but chance would not have shown it either
    assert D.label(table.pmi("山", "水")) == "often"
    found = D.report(a, table=table)
    assert [c.name for c in found] == ["颔联", "颈联"]
    assert found[0].score == pytest.approx(math.log(15))
    assert [p[3] for p in found[0].pairs] == ["often"] * 5


def test_duizhang_table_round_trips_and_drops_rare_pairs(tmp_path):
    a = _lv("山月白云高", "水风红雨低", "春花千里远", "秋叶万家深")
    counts = D.mine([a, a, _lv("山木石江远", "月天人花深", "甲乙丙丁戊", "戊丁丙乙甲")])
    path = tmp_path / "t.tsv"
    D.write_table(counts, path, "test")
    back = D.read_counts(path)
    assert back.total == counts.total and back.sides == counts.sides
    assert ("山", "月") not in back.pairs  # seen once: below MIN_PAIR
    assert back.pairs[("山", "水")] == 2
    assert D.PairTable(back).pmi("山", "水") == pytest.approx(D.PairTable(counts).pmi("山", "水"))
    lazy = D.PairTable.from_file(path)  # what load_table reads: partners parsed on demand
    for a, b in (("山", "水"), ("水", "山"), ("山", "月"), ("春", "秋"), ("山", "山"), ("云", "雨")):
        assert lazy.pmi(a, b) == pytest.approx(D.PairTable(counts).pmi(a, b))


def test_common_characters_that_never_face_each_other_score_against():
    counts = D.PairCounts()
    for _ in range(50):
        counts.add("山月", "水风")
    counts.add("花", "叶")
    counts.add("花", "叶")
    table = D.PairTable(counts)
    assert table.pmi("山", "风") < 0 and D.label(table.pmi("山", "风")) == "rare"


def test_the_bias_leans_line_4_toward_the_answer_of_line_3(lm):
    from tangstudio.engine.compose.craft.pairing import bias_for

    c0 = composer(lm, form="wulv", seed=3, repeat_penalty=0, duizhang=0, tones="off", novelty=False)
    c1 = composer(lm, form="wulv", seed=3, repeat_penalty=0, duizhang=1.0, tones="off", novelty=False)
    for c in (c0, c1):
        while c.position < 12:  # lines 1-2 and line 3 to its first character
            c.step()
        c.choose("山")
        while c.position < 18:
            c.step()
    assert c0.text == c1.text  # the bias does not touch lines 1-3
    bias = bias_for(c1.tables)
    row = bias.row("山")
    a, b = "水", "风"
    expect = math.exp(row[c1.vocab.stoi[a]] - row[c1.vocab.stoi[b]])
    assert _ratio(c1, a, b) == pytest.approx(expect * _ratio(c0, a, b), rel=1e-3)
    assert row[c1.vocab.stoi[a]] > 1.0  # 山 ↔ 水 is a strong pair in the shipped table


def test_check_reports_each_middle_couplet_with_labelled_pairs():
    import json
    import os
    import subprocess
    import sys

    def run(poem: str) -> dict:
        out = subprocess.run(
            [sys.executable, "-m", "tangstudio", "check", poem, "--json"],
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    lv = run(
        "国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。"
    )
    names = [c["couplet"] for c in lv["duizhang"]]
    assert names == ["颔联", "颈联"]
    first = lv["duizhang"][0]
    assert first["lines"] == ["感时花溅泪", "恨别鸟惊心"]
    table = D.load_table("simplified")
    pmis = [table.pmi(a, b) for a, b in zip("感时花溅泪", "恨别鸟惊心")]
    assert first["score"] == pytest.approx(sum(pmis) / 5, abs=1e-3)
    assert [p["label"] for p in first["pairs"]] == [D.label(x) for x in pmis]
    assert run("床前明月光，疑是地上霜。举头望明月，低头思故乡。")["duizhang"] == []


def test_beam_search_weighs_repeats_by_the_samplers_rule():
    """Beam search's repeat penalty counts as the sampler's does (craft/steer.repeat_counts): a 叠字
    right after itself is spared, and another spelling of a written word is a repeat. Until the
    ninth stop it counted exact characters, so 萧萧 paid and 猨 … 猿 did not."""
    from tangstudio.engine.compose.beam import _Hyp, _repeats

    lm = tiny_lm(build_vocab(["萧猨猿山月"], 60))
    stoi = lm.vocab.stoi

    def weighed(chars: str) -> np.ndarray:
        c = composer(lm, form="free", seed=1, repeat_penalty=2.0, duizhang=0)
        for ch in chars:
            c.choose(ch)
        hyp = _Hyp(0.0, c._frames[-1].cstate, tuple(c.history))
        return _repeats(c.plan, c.tables, hyp, len(lm.vocab))

    assert weighed(DOUBLED)[stoi[DOUBLED]] == 0  # 萧 then 萧: 叠字
    assert weighed(DOUBLED + DOUBLED)[stoi[DOUBLED]] == 1  # a third 萧 repeats the pair
    assert weighed("猨" + PLAIN)[stoi["猿"]] == 1 and weighed("猨" + PLAIN)[stoi["月"]] == 0


def test_a_doubling_the_corpus_never_writes_is_a_stutter_and_refused(lm):
    """A poet's review: 秋夜夜 stands (夜夜, every night), but 江江南 and 剪剪 are stutters. A character
    the train split doubles fewer than DIEZI_MIN times may not follow itself while the craft is on;
    one it doubles now and then (山山, 33 times) is penalised as a repeat, as before."""
    from tangstudio.engine.compose.craft.repetition import load_doubled, stutter

    doubled = load_doubled("simplified")
    assert "夜" in doubled and PLAIN in doubled and "秋" not in doubled and "剪" not in doubled
    assert (
        stutter("秋", doubled) == "秋" and stutter("山", doubled) is None and stutter("萧萧", doubled) == "萧"
    )
    assert stutter("", doubled) is None
    autumn = [("chosen", "秋")]
    assert _ratio(_state(lm, 0.0, autumn), "秋", "月") > 0
    assert _ratio(_state(lm, 2.0, autumn), "秋", "月") == 0
    typed = _state(lm, 2.0, autumn)
    typed.write("秋")  # a person may still write it
    assert typed.text.endswith("秋秋")


def test_beam_search_refuses_a_stutter_as_the_sampler_does():
    """A review of this stop's diff: the stutter rule lived in the sampler's steer only, so `--beam`
    could still write 秋秋. A model leaning hard toward 秋 shows it."""
    import torch

    from tangstudio.engine.compose.beam import beam_search
    from tangstudio.engine.compose.settings import ComposeSettings

    leaning = tiny_lm(build_vocab(["秋山水月"], 60))
    with torch.no_grad():
        leaning.model.head.V.bias[leaning.vocab.stoi["秋"]] += 8.0
    settings = ComposeSettings(form="wujue", tones="off", rhyme=False, line_drafts=1)
    on = beam_search(leaning, settings, 3, 1, repeat_penalty=2.0)  # what generate --beam passes
    assert "秋" in on[0].text and "秋秋" not in on[0].text, on[0].text
    off = beam_search(leaning, settings, 3, 1, repeat_penalty=0.0)
    assert "秋秋" in off[0].text, off[0].text  # the rule is the craft's: off with the penalty
