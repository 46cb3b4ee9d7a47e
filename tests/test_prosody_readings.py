"""Readings a poet hears, and a line form the handbooks accept (a poet's review, fifteenth stop).

- 家, 同, 画, 暗, 具 took the readings of every traditional character OpenCC lists for them (傢 仄,
  衕 仄, 畵 六麻, 闇 侵, 俱 平), so 白家依山尽 passed the tones and 一屏画 rhymed in 六麻. Now a character
  of the Tang poems takes only the traditional characters the poems write it for
  (prosody/data/tang_sources.tsv, scripts/build_tang_sources.py).
- 平平仄平仄 (仄仄平平仄平仄) is the accepted form of a 平平平仄仄 line: 杜甫's 月夜 failed the tones.
- 三平尾 was missed when the rhyme character also has a 仄 reading (更上千层看).
"""

from __future__ import annotations

from tangstudio.engine.prosody import check_poem, rhyme_groups, tones
from tangstudio.engine.prosody.tables import s2t_candidates

YUE_YE = "今夜鄜州月，闺中只独看。遥怜小儿女，未解忆长安。香雾云鬟湿，清辉玉臂寒。何时倚虚幌，双照泪痕干。"
DENG_QUE_LOU = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"


def test_a_simplified_character_takes_the_readings_of_what_the_tang_poems_write_it_for() -> None:
    assert "傢" in s2t_candidates("家") and "衕" in s2t_candidates("同")  # OpenCC lists them
    assert tones("家") == {"平"} and tones("同") == {"平"}
    assert tones("暗") == {"仄"} and tones("画") == {"仄"} and tones("具") == {"仄"}
    assert "六麻" not in rhyme_groups("画") and "十二侵" not in rhyme_groups("暗")
    # A character the poems write for distinct words keeps them all: 干 (干, 乾) and 幹 (枝幹, 仄).
    assert tones("干") == {"平", "仄"}
    # Traditional script reads each character as it is.
    assert tones("傢", "traditional") == {"仄"}


def test_a_wrong_tone_in_a_simplified_character_is_caught() -> None:
    broken = DENG_QUE_LOU.replace("白日", "白家").replace("千里", "千同")
    result = check_poem(broken)
    assert not result.tones_loose_ok
    assert [c.char for line in result.lines for c in line.chars if c.kind == "tone"] == ["家", "同"]
    assert not check_poem(
        DENG_QUE_LOU.replace("黄河入海流", "春风入酒家").replace("一层楼", "一屏画")
    ).rhyme_ok


def test_the_swapped_form_of_a_level_level_line_is_a_regulated_line() -> None:
    result = check_poem(YUE_YE)
    assert result.tones_loose_ok and result.rhyme_ok
    assert result.lines[2].pattern == "平平仄平仄" and result.lines[6].pattern == "平平仄平仄"
    assert check_poem("移舟泊烟渚，日暮客愁新。野旷天低树，江清月近人。").tones_loose_ok
    # Its first character must be 平: 独怜小儿女 (仄平仄平仄) is neither form.
    broken = check_poem(YUE_YE.replace("遥怜", "独怜"))
    assert not broken.tones_loose_ok and not broken.lines[2].loose_ok
    # Seven characters: 仄仄平平仄平仄, its 3rd 平.
    chu_sai = "秦时明月汉时关，万里长征人未还。但使龙城飞将在，不教胡马度阴山。"
    seven = check_poem(chu_sai.replace("飞将在", "有人在"))
    assert seven.tones_loose_ok and seven.lines[2].pattern == "仄仄平平仄平仄"
    assert not check_poem(chu_sai.replace("龙城飞将在", "鹿城有人在")).tones_loose_ok


def test_a_level_rhyme_ending_three_level_tones_is_flagged() -> None:
    kan = check_poem(DENG_QUE_LOU.replace("一层楼", "千层看"))  # 看: 平 kān at a 平 rhyme
    assert "line 4: 三平尾" in kan.warnings
    assert "line 4: 三平尾" in check_poem(DENG_QUE_LOU.replace("一层楼", "千层楼")).warnings


def test_the_studio_names_a_lines_rhyme_group_before_its_other_readings() -> None:
    from tangstudio.studio.widgets.poem_view import prosody_marks

    groups = prosody_marks("春风吹客衣，江上意何不，", "wulv", "simplified")["groups"]
    assert groups[1][0].startswith("十一尤")


def test_a_tied_rhyme_is_the_one_the_earliest_even_line_sets() -> None:
    """登鹳雀楼 with 楼 changed to 台: 流 (十一尤) and 台 (十灰) tie, and the checker chose 十灰 by table
    order, blaming line 2; the line that changed is line 4."""
    result = check_poem(DENG_QUE_LOU.replace("一层楼", "一层台"))
    assert result.rhyme_group == "十一尤" and result.lines[1].rhymes and not result.lines[3].rhymes


def test_a_diezi_facing_a_diezi_is_strong_parallelism() -> None:
    """杜甫's 登高: 萧萧 against 滚滚 is the textbook 对仗, and 萧/滚 alone scored 0, "weak"."""
    from tangstudio.engine.prosody.duizhang import aligned_pairs, couplet_score, label, load_table

    table = load_table("simplified")
    assert table is not None and label(table.pmi("萧", "滚")) == "chance"
    pairs = aligned_pairs(table, "无边落木萧萧下", "不尽长江滚滚来")
    assert [p[3] for p in pairs[4:6]] == ["叠字", "叠字"] and all(p[2] >= 1.0 for p in pairs[4:6])
    assert pairs[6][3] != "叠字"  # 下/来: scored as itself
    # One side doubled and the other not is no 叠字 pair; nor is the same 叠字 on both sides.
    assert "叠字" not in [p[3] for p in aligned_pairs(table, "无边落木萧萧下", "不尽长江流水来")]
    assert "叠字" not in [p[3] for p in aligned_pairs(table, "青山萧萧下", "白水萧萧来")]
    assert (
        couplet_score(table, "无边落木萧萧下", "不尽长江滚滚来")
        > sum(table.pmi(a, b) for a, b in zip("无边落木萧萧下", "不尽长江滚滚来")) / 7
    )


def test_kupin_and_sanpingwei_are_judged_on_the_tones_a_reader_hears() -> None:
    """A poet's review: 白云千载空悠悠 (黄鹤楼), the handbook's 三平尾, passed because 空 may be read
    kòng (仄); 不河入海流 passed 孤平 because 不 may be read fǒu. Inside a line they are heard 平 and 仄."""
    from tangstudio.engine.prosody import check_poem

    huanghe = check_poem(
        "昔人已乘黄鹤去，此地空余黄鹤楼。黄鹤一去不复返，白云千载空悠悠。"
        "晴川历历汉阳树，芳草萋萋鹦鹉洲。日暮乡关何处是，烟波江上使人愁。"
    )
    assert "line 4: 三平尾" in huanghe.faults, huanghe.warnings
    assert "line 2: 孤平" in check_poem("白日依山尽，不河入海流。欲穷千里目，更上一层楼。").faults
    assert not check_poem("白日依山尽，黄河入海流。欲穷千里目，更上一层楼。").warnings


def test_a_ze_rhymed_poem_gets_no_notes_of_the_ping_patterns() -> None:
    """寻隐者不遇 ends its unrhymed line on 中, as a 仄韵 poem should: it was told "「中」 read 仄 at a 仄
    line end" and given a 失粘 (a poet's review)."""
    from tangstudio.engine.prosody import check_poem

    for poem in (
        "松下问童子，言师采药去。只在此山中，云深不知处。",
        "独坐幽篁里，弹琴复长啸。深林人不知，明月来相照。",
    ):
        result = check_poem(poem)
        assert result.ze_rhyme and not result.warnings, result.warnings


def test_an_even_line_out_of_the_rhyme_is_named() -> None:
    """A line 4 ending 山 in a 十一尤 poem showed ✗ and "warnings 0"; 首句出韵 got a sentence."""
    from tangstudio.engine.prosody import check_poem

    result = check_poem("白日依山尽，黄河入海流。欲穷千里目，更上一层山。")
    assert result.warnings == ["line 4: 出韵 — 山 is 十五删, not 十一尤"]


def test_a_pair_that_rounds_to_zero_is_weak_not_against() -> None:
    """ "镜↔吟 -0.0 against" beside "+0.0 weak" (a poet's review): the label follows the number shown."""
    from tangstudio.engine.prosody.duizhang import label

    assert label(-0.04) == "chance" and label(-0.06) == "rare" and label(0.96) == "often"


def test_free_verse_has_its_rhyme_named_not_judged() -> None:
    """将进酒's 换韵 was told "rhyme 上平十灰 ✗" and 江雪 read as 古体 "regulated verse rhymes on 平 ✗"
    (a poet's review): free verse may change its rhyme or rhyme on 仄."""
    import os
    import subprocess
    import sys

    from tangstudio.engine.prosody import check_poem

    jiang = "君不见黄河之水天上来，奔流到海不复回。君不见高堂明镜悲白发，朝如青丝暮成雪。"
    assert all(line.rhymes is None for line in check_poem(jiang).lines)
    env = {**os.environ, "COLUMNS": "200"}
    for poem, form in ((jiang, "auto"), ("千山鸟飞绝，万径人踪灭。孤舟蓑笠翁，独钓寒江雪。", "古体")):
        out = subprocess.run(
            [sys.executable, "-m", "tangstudio", "check", poem, "--form", form],
            capture_output=True, text=True, env=env, check=True,
        ).stdout  # fmt: skip
        verdict = out.splitlines()[-2]
        assert "(free verse: named, not judged)" in verdict and "✗" not in verdict, verdict


def test_shidui_is_named_on_the_line_that_breaks_and_not_blamed_on_the_next() -> None:
    """白日依山尽，远树隔烟流 broke 对 at line 2, and check blamed line 3 (失粘); a broken last couplet
    got "tones loose ✗ · warnings 0" (a poet's review)."""
    from tangstudio.engine.prosody import check_poem

    second = check_poem("白日依山尽，远树隔烟流。欲穷千里目，更上一层楼。").warnings
    assert [w.split(" — ")[0] for w in second] == ["line 2: 失对"], second
    last = check_poem("白日依山尽，黄河入海流。欲穷千里目，登临万古楼。").warnings
    assert [w.split(" — ")[0] for w in last] == ["line 4: 失对"], last
    weicheng = check_poem("渭城朝雨浥轻尘，客舍青青柳色新。劝君更尽一杯酒，西出阳关无故人。").warnings
    assert [w.split(" — ")[0] for w in weicheng] == ["line 3: 失粘"], weicheng


def test_the_pattern_is_named_by_the_pattern_line_one_is_judged_by() -> None:
    """登高 with its middle couplets swapped fits a 平起 pattern best and was named 平起首句入韵,
    though 急 is 仄 (a poet's review)."""
    from tangstudio.engine.prosody import check_poem

    swapped = check_poem(
        "风急天高猿啸哀，渚清沙白鸟飞回。万里悲秋常作客，百年多病独登台。"
        "无边落木萧萧下，不尽长江滚滚来。艰难苦恨繁霜鬓，潦倒新停浊酒杯。"
    )
    assert swapped.variant == "仄起首句入韵", swapped.variant
    assert check_poem("白日依山尽，黄河入海流。欲穷千里目，更上一层楼。").variant == "仄起首句不入韵"
    # the name is the start of the pattern shown under line 1: 故人西辞黄鹤楼 is judged 仄起 with 人 ✗
    # and was named 平起 above "人 is 平, the pattern wants 仄" (a poet's review)
    crane = check_poem("故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。")
    assert crane.lines[0].pattern is not None and crane.lines[0].pattern[1] == "仄"
    assert crane.variant is not None and crane.variant.startswith("仄起")
