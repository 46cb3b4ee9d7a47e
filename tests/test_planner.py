"""The planner (issue 21 §2): its table, determinism, the plan checks, and theme lines (issue 25 item 6)."""

from __future__ import annotations

import numpy as np
import pytest

from tangstudio.engine.compose.planning import build, theme
from tangstudio.engine.compose.planning.check import check_plan, check_title, parse_plan
from tangstudio.engine.compose.planning.planner import propose
from tangstudio.engine.compose.planning.table import PlannerTable, load_table, write_table
from tangstudio.engine.compose.settings import ComposeSettings
from tangstudio.engine.corpus.keywords import KeywordModel
from tangstudio.engine.errors import TangError

TINY = [
    ("送友人", "青山横北郭，白水绕东城。此地一为别，孤蓬万里征。"),
    ("送别", "山中相送罢，日暮掩柴扉。春草明年绿，王孙归不归。"),
    ("秋夜", "秋夜明月照，寒山落叶声。孤灯照客梦，雁过故乡城。"),
    ("秋思", "秋风落叶下，明月照寒山。雁声何处起，故乡归未还。"),
    ("春望", "春风花满城，柳色绿江边。莺啼春日暖，花落故园前。"),
] * 4


def test_the_build_is_deterministic_and_reads_back(tmp_path, monkeypatch):
    monkeypatch.setattr("tangstudio.engine.corpus.keywords.MIN_DF", 2)
    monkeypatch.setattr(build, "MIN_KEYWORD", 1)
    monkeypatch.setattr(build, "MIN_TITLE_WORD", 1)
    model = KeywordModel.build(text for _, text in TINY)
    first = build.count(TINY, model)
    second = build.count(list(TINY), KeywordModel.build(text for _, text in TINY))
    assert first == second
    a, b = tmp_path / "a.json.xz", tmp_path / "b.json.xz"
    write_table(first, a)
    write_table(second, b)
    assert a.read_bytes() == b.read_bytes()
    table = PlannerTable.from_dict(first)
    assert table.keywords and set(table.title) <= set(build.title_words("送友人送别秋夜秋思春望"))
    # 秋 in a title calls for the autumn poems' keywords, not the spring poem's
    ids, _ = table.title["秋"]
    called = {table.keywords[i] for i in ids}
    assert called and not called & {"春风", "莺啼", "柳色"}


def test_the_shipped_table_is_compact_and_loads():
    from tangstudio.engine.compose.planning.table import table_path

    assert table_path("simplified").stat().st_size < 3_000_000
    table = load_table("simplified")
    assert len(table.keywords) > 1000 and "月" in table.index
    assert table.log_prior.shape == (build.BUCKETS, len(table.keywords))


def test_same_seed_same_plan_and_seeds_differ():
    plans = [propose("送友人", 4, seed=s) for s in range(8)]
    assert plans == [propose("送友人", 4, seed=s) for s in range(8)]
    assert len({tuple(p) for p in plans}) > 1
    for plan in plans + [propose("", 8, seed=s) for s in range(4)]:
        assert all(plan) and len(set(plan)) == len(plan)
        assert len(set("".join(plan))) == len("".join(plan))  # no character shared either


def test_the_title_steers_the_plan():
    autumn = {k for s in range(10) for k in propose("秋夜", 4, seed=s)}
    spring = {k for s in range(10) for k in propose("春日", 4, seed=s)}
    assert any("秋" in k or k in {"萤", "雁", "霜", "砧", "杵"} for k in autumn)
    assert autumn != spring


def test_given_keywords_stay_and_allowed_is_respected():
    plan = propose("送友人", 4, seed=3, given=["山", "-", "", "-"])
    assert plan[0] == "山" and plan[2] == "" and plan[1] and plan[3]
    assert "山" not in plan[1] + plan[3]
    words = {"雁", "故人", "明月"}  # each heads enough train lines to be proposed (MIN_LINES)
    only = propose("", 4, seed=0, allowed=lambda w: w in words)
    assert set(only) <= words | {""} and only.count("") == 1
    assert "月" not in propose("秋夜", 4, seed=1, exclude=["月"])


@pytest.mark.parametrize(
    "title",
    ["送友人 abc", "秋夜1", "送\x07友"],
)
def test_a_title_with_latin_digits_or_controls_is_refused(title):
    with pytest.raises(TangError, match="title"):
        check_title(title)


@pytest.mark.parametrize(
    ("plan", "form", "match"),
    [
        (["山", "水", "月"], "qijue", "has 3 keywords but qijue has 4 lines"),
        (["山", "水", "月", "a"], "qijue", "Chinese characters"),
        (["山", "水", "明月光", "归"], "qijue", "one or two"),
        (["山", "\x1b", "月", "归"], "qijue", "control"),
    ],
)
def test_a_bad_plan_is_refused_in_one_line(plan, form, match):
    with pytest.raises(TangError, match=match) as err:
        ComposeSettings(form=form, plan=plan)
    assert "\n" not in str(err.value)


def test_parse_plan_reads_the_ways_a_person_types_it():
    assert parse_plan("山,水,-,归") == ["山", "水", "-", "归"]
    assert parse_plan("山，水、月 归") == ["山", "水", "月", "归"]
    assert parse_plan("山,,月,归") == ["山", "", "月", "归"]
    assert parse_plan("  ") == [] and parse_plan(",,,") == []
    assert check_plan(["山", "-", "", "归"], "wujue") == ["山", "-", "", "归"]


def test_theme_lines_are_spread_and_seeded():
    table = load_table("simplified")
    lines = [theme.assign_lines([1], ["雁"], [0, 1, 2, 3], 4, s, table)[1] for s in range(40)]
    assert lines == [theme.assign_lines([1], ["雁"], [0, 1, 2, 3], 4, s, table)[1] for s in range(40)]
    assert len(set(lines)) >= 3  # not always the same line, and never only the last
    two = theme.assign_lines([1, 2], ["雁", "酒"], [1, 3], 4, 0, table)
    assert sorted(two.values()) == [1, 3]
    assert theme.assign_lines([1, 2, 3], ["雁", "酒", "月"], [2], 4, 0, table) == {1: 2}


def test_another_keyword_differs_and_keeps_the_other_lines_apart():
    from tangstudio.engine.compose.planning.planner import another_keyword

    plan = propose("秋夜", 4, seed=2)
    for seed in range(5):
        new = another_keyword(plan, 1, title="秋夜", seed=seed)
        assert new and new != plan[1]
        assert not set(new) & set(plan[0] + plan[2] + plan[3])
    assert another_keyword(plan, 1, title="秋夜", seed=9) == another_keyword(plan, 1, title="秋夜", seed=9)


def _hand_table(**override) -> dict:
    """A planner table written by hand: four keywords under the title word 秋, 10,000 lines."""
    table = {
        "format": build.FORMAT,
        "version": build.VERSION,
        "poems": 2000,
        "lines": 10_000,
        "keywords": ["雁", "鸥", "舟", "柳"],
        "positions": [[100, 100, 100, 100], [100, 100, 100, 100], [500] * 4, [500] * 4],
        "keyword_poems": [300, 300, 1500, 1500],
        "keyword_df": [300, 300, 1500, 1500],
        "title_words": ["秋"],
        "title_lines": [1000],
        "title_pairs": [[0, 40, 1, 40]],  # 秋 calls for 雁 and 鸥 equally
        "keyword_pairs": [[], [], [], []],
    }
    return {**table, **override}


def test_a_rare_keyword_loses_to_a_common_one_with_the_same_pmi(monkeypatch):
    # Everything equal but how common each word is (train poems holding it): the common one wins.
    table = PlannerTable.from_dict(_hand_table(keyword_df=[3000, 300, 1500, 1500]))
    drawn = [propose("秋", 1, seed=s, table=table)[0] for s in range(200)]
    assert drawn.count("雁") > 3 * drawn.count("鸥")
    # The same raw PMI, log(50·10000 / (100·1000)) = log(5·10000 / (100·100)) = log 5, but 雁 heads
    # ten times the lines: smoothed (build.ALPHA < 1), the common word's PMI is the higher.
    monkeypatch.setattr("tangstudio.engine.compose.planning.table.SHRINK", 0.0)  # PMI alone
    same_pmi = _hand_table(
        positions=[[250] * 4, [25] * 4, [500] * 4, [500] * 4], title_lines=[100], title_pairs=[[0, 50, 1, 5]]
    )
    ids, pmi = PlannerTable.from_dict(same_pmi).title["秋"]
    smoothed = dict(zip(ids.tolist(), pmi.tolist()))
    assert smoothed[0] > smoothed[1] + 0.3 and smoothed[1] > 0
    monkeypatch.setattr(build, "ALPHA", 1.0)  # unsmoothed: the two are equal, as counted
    ids, pmi = PlannerTable.from_dict(same_pmi).title["秋"]
    assert pmi.tolist() == pytest.approx([np.log(5)] * 2)


def test_smoothed_marginal_lifts_rare_words_and_keeps_the_mass():
    counts = {"月": 1000, "莱": 10}
    share = build.smoothed_marginal(counts, 2020)
    assert share["莱"] > 10 / 2020 and share["月"] < 1000 / 2020
    assert sum(share.values()) == pytest.approx(1010 / 2020)
    as_array = build.smoothed_marginal(np.array([1000.0, 10.0]), 2020)
    assert as_array.tolist() == pytest.approx([share["月"], share["莱"]])


def test_pronoun_pairs_and_skip_characters_are_never_proposed():
    from tangstudio.engine.compose.planning.planner import skipped

    assert skipped("君去") and skipped("知君") and skipped("我今") and skipped("我")
    assert not skipped("明月") and not skipped("中秋") and not skipped("故人")
    table = load_table("simplified")
    plans = [k for s in range(20) for t in ("送友人", "赠别", "") for k in propose(t, 8, seed=s, table=table)]
    assert plans and not any(skipped(k) for k in plans)


def test_a_keyword_heading_few_train_lines_is_never_proposed(monkeypatch):
    from tangstudio.engine.compose.planning import planner

    table = PlannerTable.from_dict(_hand_table(positions=[[5, 5, 5, 5], [100] * 4, [500] * 4, [500] * 4]))
    monkeypatch.setattr(planner, "MIN_LINES", 50)
    drawn = {k for s in range(50) for k in propose("秋", 3, seed=s, table=table)}
    assert "雁" not in drawn and drawn <= {"鸥", "舟", "柳"}
    monkeypatch.setattr(planner, "MIN_LINES", 0)
    assert "雁" in {k for s in range(50) for k in propose("秋", 3, seed=s, table=table)}


def test_the_shipped_table_counts_the_regulated_train_poems_with_their_document_frequency():
    table = load_table("simplified")
    assert "regulated" in table.source and "train" in table.source
    assert table.log_df.max() == 0 and table.log_df.min() < -3  # common and rare words told apart
    assert table.log_df[table.index["明月"]] > table.log_df[table.index["猨啼"]]
