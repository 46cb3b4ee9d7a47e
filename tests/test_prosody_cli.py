"""`tangstudio check`: the coloured report, --json, and bad input as one line with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

POEM = "天门中断楚江开，碧水东流至北回。两岸青山相对出，孤帆一片日边来。"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", "check", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "120", "NO_COLOR": "1"},
        timeout=60,
    )


@pytest.mark.slow
def test_check_reports_tones_rhyme_and_summary() -> None:
    out = run(POEM)
    assert out.returncode == 0, out.stderr
    assert "平平中仄仄平平" in out.stdout  # the tones under line 1 (中: 中 has both readings)
    assert "十灰" in out.stdout and "平起首句入韵" in out.stdout
    # strict ✗: 中 (zhōng) is heard 平 at line 1's free 3rd place, where the strict pattern wants 仄
    assert "loose ✓" in out.stdout and "strict ✗" in out.stdout


def test_a_lone_level_tone_is_named_in_the_verdict_line() -> None:
    """A poet's review: 孤平 sat beside "tones loose ✓" as a warning only; it is a fault of 律."""
    out = run("白日依山尽，月明照古城。欲穷千里目，更上一层楼。")
    verdict = " ".join(out.stdout.split())
    assert "孤平 ✗ (line 2)" in verdict, out.stdout
    assert "孤平 ✗" not in " ".join(run(POEM).stdout.split())
    data = json.loads(run("白日依山尽，月明照古城。欲穷千里目，更上一层楼。", "--json").stdout)
    assert data["faults"] == ["line 2: 孤平"]  # the JSON names them too (a review of the diff)


def test_a_doubled_pair_facing_a_doubled_pair_is_shown_once() -> None:
    """登高's 萧萧↔滚滚 read "萧↔滚 +1.0 叠字  萧↔滚 +1.0 叠字", like a row printed twice."""
    denggao = "风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。万里悲秋常作客，百年多病独登台。艰难苦恨繁霜鬓，潦倒新停浊酒杯。"
    out = subprocess.run(
        [sys.executable, "-m", "tangstudio", "check", denggao],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "240", "NO_COLOR": "1"},
        timeout=60,
    )
    head = next(line for line in out.stdout.splitlines() if line.startswith("颔联"))
    assert "萧萧↔滚滚 +1.0 叠字" in head and head.count("叠字") == 1, head


@pytest.mark.slow
def test_check_json_traditional_and_violations() -> None:
    out = run("天門中斷楚江開，碧山東流至北回。兩岸青山相對出，孤帆一片日邊去。", "--json", "--form", "qijue")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["script"] == "traditional" and data["form"] == "qijue"
    assert not data["rhyme_ok"] and not data["tones_loose_ok"]
    kinds = {
        (i, j)
        for i, line in enumerate(data["lines"])
        for j, c in enumerate(line["chars"])
        if c["kind"] == "tone"
    }
    assert kinds == {(1, 1), (3, 6)}


@pytest.mark.slow
@pytest.mark.parametrize(
    "args,message",
    [
        (("",), "empty poem"),
        (("hello",), "not Chinese"),
        (("床前明月光，疑是地上霜。", "--form", "qijue"), "qijue needs 4 lines of 7"),
        ((POEM, "--form", "haiku"), "unknown form"),
        ((POEM, "--script", "klingon"), "unknown script"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: tuple[str, ...], message: str) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_without_colour_the_broken_places_are_listed_in_words() -> None:
    """A pipe has no red: the legend still said "red: breaks 二四六分明", and the broken character
    could not be found without --json (a poet's review)."""
    done = run("白日依山尽，黄河入海流。欲穷千里目，更上万古楼。")
    assert done.returncode == 0, done.stderr
    assert "✗ line 4, character 4: 古 is 仄, the pattern wants 平" in done.stdout
    assert "red:" not in done.stdout and "✗: breaks 二四六分明" in done.stdout


def test_a_ze_rhymed_quatrain_is_not_held_to_a_level_pattern() -> None:
    """A poet's review: 江雪 was told "灭 is 仄, the pattern wants 平" at each rhyme."""
    done = run("千山鸟飞绝，万径人踪灭。孤舟蓑笠翁，独钓寒江雪。")
    assert done.returncode == 0, done.stderr
    assert "the pattern wants" not in done.stdout and "tones not judged" in done.stdout
    assert "✗ 九屑" not in done.stdout and "✓ 九屑" in done.stdout


def test_check_json_says_why_a_poem_does_not_pass() -> None:
    """`check --json` said ok false with only the faults beside it, which leave out a broken tone, and
    gave free verse no reason at all (an engineer's review)."""
    broken = json.loads(run("白日依山尽，黄河入海流。欲穷千里目，更上万古楼。", "--json").stdout)
    assert not broken["ok"] and broken["reasons"] == ["line 4, character 4: 古 is 仄, the pattern wants 平"]
    free = json.loads(
        run("白日依山尽，黄河入海流。欲穷千里目，更上一层楼。", "--form", "free", "--json").stdout
    )
    assert not free["ok"] and free["reasons"] == [
        "the shape of a 五言绝句 (wujue), checked as free verse: tones not checked"
    ]
    whole = json.loads(run("白日依山尽，黄河入海流。欲穷千里目，更上一层楼。", "--json").stdout)
    assert whole["ok"] and whole["reasons"] == []


def test_a_middle_couplet_with_no_parallel_is_warned_and_a_real_one_is_not() -> None:
    """A 颔联 of no parallel at all scored −0.80 and passed without a word; 月↔金 of 烽火连三月／家书抵万金
    was labelled "against" (a poet's review). The labels say how often the poets paired the two."""
    unpaired = run(
        "客路青山外，孤舟夜色中。寒潮连海阔，今夜我思君。江上秋风起，山中落叶空。何时归故里，一醉与君同。"
    )
    assert "⚠ 颔联 may not be 对仗: its aligned pairs score" in unpaired.stdout
    data = json.loads(
        run(
            "国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。",
            "--json",
        ).stdout
    )
    assert [c["warning"] for c in data["duizhang"]] == [None, None]
    labels = {p["pair"]: p["label"] for c in data["duizhang"] for p in c["pairs"]}
    assert labels["月金"] == "rare" and "against" not in labels.values()
    assert (
        "rare < 0"
        in run(
            "国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。"
        ).stdout
    )


def test_a_traditional_poem_checked_as_simplified_says_so() -> None:
    """`check --script simplified` on a traditional poem scored every 对仗 pair "+0.00 chance" in
    silence (a poet's review): it says the poem looks traditional; auto and a simplified poem do not."""
    traditional = (
        "國破山河在，城春草木深。感時花濺淚，恨別鳥驚心。烽火連三月，家書抵萬金。白頭搔更短，渾欲不勝簪。"
    )
    said = "the poem looks traditional"
    assert said in run("--script", "simplified", traditional).stdout
    assert said not in run(traditional).stdout
    assert (
        said not in run("--script", "simplified", "国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。").stdout
    )


def test_a_ze_rhymed_poem_is_named_old_style_in_its_header() -> None:
    """望岳's header read "五言律诗 (wulv…) … 古体, not 律" (a poet's review): its name says what it is."""
    header = run(
        "岱宗夫如何，齐鲁青未了。造化钟神秀，阴阳割昏晓。荡胸生曾云，决眦入归鸟。会当凌绝顶，一览众山小。"
    ).stdout
    assert "五言古诗 (wulv" in header and "五言律诗" not in header, header
    assert "五言古绝 (wujue" in run("千山鸟飞绝，万径人踪灭。孤舟蓑笠翁，独钓寒江雪。").stdout
    assert "五言绝句 (wujue" in run("白日依山尽，黄河入海流。欲穷千里目，更上一层楼。").stdout


def test_a_traditional_poem_gets_its_labels_in_traditional_script() -> None:
    """Checked traditional, 春望 read 五言律诗, 首句入韵 and 十贿 in simplified (a poet's review)."""
    out = run(
        "國破山河在，城春草木深。感時花濺淚，恨別鳥驚心。烽火連三月，家書抵萬金。白頭搔更短，渾欲不勝簪。"
    ).stdout
    assert "五言律詩 (wulv, traditional)" in out and "仄起首句不入韻" in out and "十賄" in out, out
    assert "五言律诗" not in out and "十贿" not in out


def test_a_traditional_poems_warnings_faults_and_duizhang_are_in_traditional_too() -> None:
    """The table said ✗ 一東 and the warning under it 東 is 一东 (a scholar's review); the 对仗 lines,
    the faults and the legend were simplified beside a traditional header. The poem's own characters
    are left as they are: a traditional poem's 里 is not turned into 裏."""
    out = run("白日依山盡，黃河入海流。欲窮千里目，更上一層東。").stdout
    assert "出韻 — 東 is 一東" in out and "一东" not in out and "出韵" not in out, out
    assert "千里目" in out and "千裏" not in out, out
    lv = run(
        "國破山河在，城春草木深。感時花濺淚，恨別鳥驚心。烽火連三月，家書抵萬金。白頭搔更短，渾欲不勝簪。"
    ).stdout
    assert "頷聯 對仗" in lv and "頸聯 對仗" in lv and "颔联" not in lv and "对仗" not in lv, lv
    doubled = run("白日依山盡，黃河入海流。欲窮千里目，更上一層流。").stdout
    assert "重韻" in doubled and "重韵" not in doubled, doubled
    simplified = run("白日依山尽，黄河入海流。欲穷千里目，更上一层东。").stdout
    assert "出韵 — 东 is 一东" in simplified, simplified
