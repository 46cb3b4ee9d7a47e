"""Rhyme positions (issue 25, item 15): the first line's verdict, and readings poets never rhymed on.

- A 七绝 whose line 1 ends on 平 but outside the rhyme was named "平起首句入韵" while the JSON said
  `first_line_rhymes: false`. The name must agree with the verdict: 首句入韵, 首句不入韵, 首句借邻韵
  (a neighbouring group, an accepted licence) or 首句出韵 (out of the rhyme, with a warning).
- 還/还 is in 一先 (xuán) as well as 十五删 (huán), and counted as a 一先 rhyme. The Tang poets rhyme
  it in 十五删 (the corpus count is in rare_rhymes.tsv), so at a line end only that reading counts,
  for the checker and for the composer's rhyme masks alike.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tangstudio.engine.prosody import check_poem
from tangstudio.engine.prosody.tables import rhyme_groups, rhyming_groups

OFF_FIRST = "秋风零叶月茫茫，独宿芦花三尺寒。谁家玉笛吹杨柳，万里关山一梦残。"  # 茫 七阳, rhyme 十四寒
# 埋 is 九佳, the rhyme 十灰: a neighbouring group (邻韵), which a first line may borrow (corpus poem).
BORROWED = "逐鹿群雄姓几埋，杜君何得尚存台。醉乡另有乾坤在，那见糟丘付劫灰。"
# 否 reads 平 (十一尤) or 仄 (二十五有); not in the rhyme 六麻, so line 1 is read 仄: 首句不入韵.
EITHER_END = "能入城中乞食否，莫辞尘土汚袈裟。欲知住处东城下，绕竹泉声是白家。"
FIRST_RHYMES = "秋风零叶月阑干，独宿芦花三尺寒。谁家玉笛吹杨柳，万里关山一梦残。"  # 干 十四寒
# A 一先 poem whose line 4 ends on 还: before, 还 "rhymed" through its xuán reading.
HUAN_IN_XIAN = "白日依山尽，青云上九天。孤舟何处去，明月照人还。"
# Sheet M's 苏武庙 (ours): a 六麻 poem ending on 金吾, heard by two of its three readers as a broken rhyme.
JINWU_IN_MA = (
    "庙前荒草生元化，谁道功名作汉家。四海无人吹赤角，五天征客起黄沙。"
    "翔龙岂有青鸾驭，曲水犹为白马车。醉罢笙歌还自笑，使君何用读金吾。"
)


def check_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", "check", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_the_variant_name_agrees_with_whether_line_one_rhymes() -> None:
    off = check_poem(OFF_FIRST)
    assert off.rhyme_group == "十四寒" and off.first_line_rhymes is False
    assert "首句入韵" not in (off.variant or "")
    assert off.variant is not None and off.variant.endswith("首句出韵")
    assert off.lines[0].rhymes is False  # shown ✗ in its rhyme column
    assert any(w.startswith("line 1: 首句出韵") and "七阳" in w and "十四寒" in w for w in off.warnings)

    on = check_poem(FIRST_RHYMES)
    assert on.first_line_rhymes is True and on.variant is not None and on.variant.endswith("首句入韵")
    assert on.lines[0].rhymes is True and not any("出韵" in w for w in on.warnings)

    borrowed = check_poem(BORROWED)
    assert borrowed.rhyme_group == "十灰" and borrowed.variant == "仄起首句借邻韵" and not borrowed.warnings
    # 孤雁入群 on a character read both ways (空 kōng 一东 / kòng): heard 平, as the poets end lines
    # on it, it borrows; it was read 仄 to make 首句不入韵, and warned of (a poet's review)
    lone_goose = check_poem("山深雪满空，古寺远闻钟。夜静无人语，云寒锁乱峰。")
    assert lone_goose.rhyme_group == "二冬" and lone_goose.variant == "平起首句借邻韵", lone_goose.variant
    assert not lone_goose.warnings and lone_goose.tones_loose_ok

    either = check_poem(EITHER_END)
    assert either.first_line_rhymes is False and either.variant == "仄起首句不入韵"


def test_no_variant_name_contradicts_the_first_lines_rhyme_over_the_corpus() -> None:
    """Over 600 regulated Tang poems: the name says 首句入韵 exactly when line 1 is in the rhyme."""
    import random

    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.errors import TangError

    poems = load_corpus("tang", "simplified").select("regulated", "train")
    seen = set()
    for poem in random.Random(0).sample(poems, 600):
        try:
            r = check_poem(poem.text)
        except TangError:
            continue  # a lost character
        name = r.variant or ""
        seen.add(name[2:])
        assert name.endswith("首句入韵") == r.first_line_rhymes, (poem.text, name, r.rhyme_group)
    assert {"首句入韵", "首句不入韵", "首句借邻韵", "首句出韵"} <= seen


def test_check_cli_text_and_json_say_the_same_about_line_one() -> None:
    text = check_cli(OFF_FIRST)
    assert text.returncode == 0, text.stderr
    assert "首句入韵" not in text.stdout and "首句出韵" in text.stdout
    data = json.loads(check_cli(OFF_FIRST, "--json").stdout)
    assert data["first_line_rhymes"] is False and "入韵" not in data["variant"]


def test_a_reading_never_rhymed_does_not_count_at_a_rhyme_position() -> None:
    assert rhyme_groups("还") >= {"一先", "十五删"}  # the table keeps every reading
    assert "一先" not in rhyming_groups("还") and "十五删" in rhyming_groups("还")
    assert "一先" not in rhyming_groups("還", "traditional")
    assert rhyming_groups("看") == rhyme_groups("看")  # both readings are rhymed: both kept
    assert rhyming_groups("天") == rhyme_groups("天")

    # Fewer than 20 rhyme uses, but none in the group: 吾 rhymes in 七虞 (9 of 11), never in 六麻.
    assert "六麻" in rhyme_groups("吾") and rhyming_groups("吾") == {"七虞"}
    jinwu = check_poem(JINWU_IN_MA)
    assert jinwu.rhyme_group == "六麻" and jinwu.rhyme_ok is False and jinwu.lines[7].rhymes is False

    # Simplified 干 is 乾 "dry" (十四寒); 乾 "heaven" (一先) stays 乾 in simplified text.
    assert "一先" in rhyme_groups("干") and "一先" not in rhyming_groups("干")
    assert "一先" in rhyming_groups("乾") and "一先" in rhyming_groups("乾", "traditional")
    gan = check_poem("江南春色好，一夜到山前。何处花如雪，年年泪不干。")
    assert gan.rhyme_group == "一先" and gan.rhyme_ok is False and gan.lines[3].rhymes is False

    r = check_poem(HUAN_IN_XIAN)
    assert r.rhyme_group in ("一先", "十五删")
    assert r.rhyme_ok is False  # 天 (一先) and 还 (十五删) do not rhyme
    assert "一先" not in r.lines[3].groups


def test_the_composer_does_not_offer_a_rare_reading_as_a_rhyme() -> None:
    from tangstudio.engine.compose.tables import tables_for
    from tangstudio.engine.corpus.vocab import Vocab

    vocab = Vocab.build(["白日依山尽，青云上九天。明月照人还，年关山干。"], "simplified")
    t = tables_for(vocab)
    xian, shan = t.group_masks[t.group_index["一先"]], t.group_masks[t.group_index["十五删"]]
    assert not xian[vocab.stoi["还"]] and shan[vocab.stoi["还"]]
    assert not xian[vocab.stoi["干"]] and t.group_masks[t.group_index["十四寒"]][vocab.stoi["干"]]
    assert xian[vocab.stoi["天"]] and xian[vocab.stoi["年"]]
