"""The form registry: every spelling finds one form, shapes classify, the tone patterns follow 对 and 粘."""

from __future__ import annotations

import pytest

from tangstudio.engine import forms
from tangstudio.engine.compose.settings import ComposeSettings
from tangstudio.engine.corpus.vocab import FORM_STARTS, Vocab
from tangstudio.engine.errors import TangError
from tangstudio.engine.prosody import check_poem


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("qijue", "qijue"),
        ("QiJue ", "qijue"),
        ("七绝", "qijue"),
        ("七言绝句", "qijue"),
        ("五律", "wulv"),
        ("五言律诗", "wulv"),
        ("七言律诗", "qilv"),
        ("五言绝句", "wujue"),
        ("other", "free"),
        ("古体", "free"),
        ("free", "free"),
        ("七絕", "qijue"),  # traditional script (a scholar's 七絕 was refused where 七绝 passed)
        ("五言絕句", "wujue"),
        ("七言律詩", "qilv"),
        ("古體", "free"),
    ],
)
def test_every_spelling_finds_its_form(spelling: str, name: str) -> None:
    assert forms.canonical(spelling) == name
    assert ComposeSettings(form=spelling).form == name


def test_unknown_form_is_one_line_naming_the_choices() -> None:
    with pytest.raises(TangError, match=r"unknown form '八绝'; choose wujue, qijue, wulv, qilv, free"):
        forms.get("八绝")
    with pytest.raises(TangError, match="unknown form"):
        forms.parse_many("wujue,sonnet")


def test_parse_many_reads_old_and_chinese_names_and_labels_back() -> None:
    assert forms.parse_many("wujue,other") == {"wujue", "free"}
    assert forms.parse_many("七绝,五律") == {"qijue", "wulv"}
    assert forms.parse_many("regulated") == forms.REGULATED_NAMES
    assert forms.parse_many("all") is None
    assert forms.label_many(forms.parse_many("七律,七绝,五律,五绝")) == "regulated"
    assert forms.label_many(frozenset({"free", "wujue"})) == "wujue,free"


def test_start_tokens_keep_the_shipped_order() -> None:
    # models/default/meta.json: <free> <wujue> <qijue> <wulv> <qilv> at ids 5-9; never reorder.
    assert FORM_STARTS == ("free", "wujue", "qijue", "wulv", "qilv")
    vocab = Vocab.build(["床前明月光。"], "simplified")
    assert vocab.itos[5:10] == ["<free>", "<wujue>", "<qijue>", "<wulv>", "<qilv>"]
    assert vocab.start_id("other") == vocab.start_id(None) == vocab.stoi["<free>"]
    assert vocab.start_id("七律") == vocab.stoi["<qilv>"]


def test_shapes_classify_and_the_free_form_has_none() -> None:
    assert forms.by_shape([7, 7, 7, 7]) is forms.QIJUE
    assert forms.by_shape([5] * 8) is forms.WULV
    assert forms.by_shape([7, 7, 7]) is forms.FREE
    with pytest.raises(TangError, match="no fixed shape"):
        forms.FREE.shape()


def test_tone_patterns_follow_dui_and_nian() -> None:
    # 五绝 平起, line 1 unrhymed: the textbook 平平平仄仄 / 仄仄仄平平 / 仄仄平平仄 / 平平仄仄平.
    assert forms.WUJUE.tone_pattern("平", False) == ("平平平仄仄", "仄仄仄平平", "仄仄平平仄", "平平仄仄平")
    for form in forms.REGULATED:
        for start in ("平", "仄"):
            for rhymes in (False, True):
                lines = form.tone_pattern(start, rhymes)
                assert len(lines) == form.lines and {len(line) for line in lines} == {form.chars}
                for i in range(1, len(lines)):
                    second = lines[i][1] == lines[i - 1][1]
                    assert second == (i % 2 == 0), (form.name, start, rhymes, i)  # 对 odd, 粘 even
                ends = {i for i, line in enumerate(lines) if line[-1] == "平"}
                assert ends == set(form.rhyme_lines(rhymes))


def test_checker_takes_chinese_form_names() -> None:
    poem = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    assert check_poem(poem, form="五绝").form == "wujue"
    with pytest.raises(TangError, match="qijue needs 4 lines of 7 characters"):
        check_poem(poem, form="七言绝句")
