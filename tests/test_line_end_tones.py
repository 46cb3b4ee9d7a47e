"""A line end is heard in its common reading (sheet P: "in P23, 间 does not rhyme with 斜").

间 is 平 (jiān, 十五删) and 仄 (jiàn), so the composer let a 七绝 open 秋声萧瑟汉川间 and rhyme in 六麻:
read as 仄, line 1 "does not rhyme" (首句不入韵), which the checker accepts. Two of sheet P's three
readers heard jiān and a first line out of the rhyme. The Tang poets end odd lines (仄 ends) on 間 43
times and even lines (the 平 rhyme) 639 times; scripts/build_rhyme_usage.py lists such characters in
prosody/data/level_at_line_end.tsv, and at a line end the composer hears them 平 only: a 仄 end refuses
them, and a line 1 ending on one rhymes with the rest.
"""

from __future__ import annotations

import pytest
from compose_helpers import build_vocab, composer, tiny_lm

from tangstudio.engine.compose.tables import tables_for
from tangstudio.engine.prosody import check_poem, end_tones, rhyme_groups, tones

OPENING = "秋声萧瑟汉川"  # sheet P's P23 before its 间


def test_a_character_ending_lines_almost_only_as_level_is_level_there() -> None:
    assert tones("间") == {"平", "仄"} and end_tones("间") == {"平"}
    assert end_tones("間", "traditional") == {"平"}
    assert end_tones("中") == {"平"} and end_tones("行") == {"平"}
    # Characters whose 仄 reading ends many odd lines keep both: 看 (508 even ends, 102 odd), 思, 过.
    assert (
        end_tones("看") == {"平", "仄"}
        and end_tones("思") == {"平", "仄"}
        and end_tones("过") == {"平", "仄"}
    )
    assert end_tones("远") == tones("远") == {"仄"} and end_tones("山") == {"平"}
    # 干 stands for 干 乾 (平) and 幹 (仄): the union, as `tones` takes it.
    assert end_tones("干") == {"平", "仄"}


@pytest.fixture(scope="module")
def lm():
    return tiny_lm(build_vocab(["秋声萧瑟汉川间斜沙远中更", "秋风吹落叶，归客望山中。古木寒烟"], 80))


def test_a_tables_ze_end_mask_leaves_out_the_level_heard_characters(lm) -> None:
    t = tables_for(lm.vocab)
    geng, yuan, kan = (lm.vocab.stoi[c] for c in "更远看")
    assert t.ze[geng] and not t.ze_end[geng]  # inside a line 更 may stand for 仄; at the end it may not
    assert t.ze_end[yuan] and t.ze_end[kan]
    assert t.tones_at(geng, line_end=False) == {"平", "仄"} and t.tones_at(geng, line_end=True) == {"平"}


def test_an_odd_line_end_refuses_a_character_heard_level_there(lm) -> None:
    c = composer(lm, form="wulv", seed=1, prefix="秋风吹落叶，归客望山中。古木寒烟")
    for ch in "间中":
        reason = c.judge(ch).reason
        assert reason is not None and "at a line end" in reason and "仄" in reason
    assert c.judge("远").reason is None or "line end" not in c.judge("远").reason


def test_line_one_ending_on_one_rhymes_with_the_rest(lm) -> None:
    c = composer(lm, form="qijue", seed=3, prefix=OPENING)
    c.write("间")
    poem = c.finish().text
    assert poem.startswith(OPENING + "间")
    result = check_poem(poem, "qijue")
    assert result.rhyme_ok and result.first_line_rhymes
    assert result.rhyme_group in rhyme_groups("间")  # 十五删: the even lines joined line 1


def test_check_warns_of_a_level_heard_character_at_a_ze_line_end() -> None:
    p23 = "秋声萧瑟汉川间，雨败衣冠日渐斜。可惜一行藏履迹，不知谁是武陵沙。"  # sheet P, ours
    result = check_poem(p23, "qijue")
    assert result.tones_loose_ok and result.rhyme_ok  # the verdicts stand: 间 may be read 仄 …
    assert (
        "line 1: 「间」 read 仄 at a 仄 line end, but the Tang poets end lines on it as 平" in result.warnings
    )
    # … and a 中 character the poets do end 仄 lines on (看: 102 odd ends) is not warned of.
    kan = check_poem("独坐高楼上，秋风入户寒。白云随意看，明月照栏杆。", "wujue")
    assert not any("Tang poets end lines" in w for w in kan.warnings)


def test_the_studio_marks_a_written_line_end_as_it_is_heard() -> None:
    from tangstudio.studio.widgets.poem_view import prosody_marks

    assert prosody_marks(OPENING + "间，", "qijue", "simplified")["marks"][-1] == "平"
    # Not yet a line end (no mark after it): either reading may still stand.
    assert prosody_marks(OPENING + "更", "qijue", "simplified")["marks"][-1] == "中"
    assert prosody_marks("白云随意看，", "wujue", "simplified")["marks"][-1] == "中"
