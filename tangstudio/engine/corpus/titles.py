"""A poem's subject as the model reads it: the corpus title, cleaned of what names no subject.

The Complete Tang Poems' titles carry cataloguing as well as subjects: "岳州众湖阻风二首 二" is
poem two of a pair, "奉和圣制春日幸望春宫应制" a court reply written on command, "赋得涉江采芙蓉"
a set topic. The model should learn what a poem about 阻风 or 望春宫 looks like, not that "二首"
precedes anything, so the rules below keep the subject and drop the rest:

1. notes in brackets go: "闺情（为落殊蕃陈上相知人）" → "闺情";
2. the title splits on spaces; parts that are only a number (二, 一二九, 其三) go, and of the
   parts left the last one is the subject: "琴曲歌辞 湘妃怨" → "湘妃怨", "渔具诗 罩" → "罩",
   "杂忆五首 四" → "杂忆";
3. counts of a set go: "三首", "二十五首", "四绝句" and "其N" anywhere;
4. occasion words that say how, not what, go: 奉和, 奉酬, 奉同, 次韵, 圣制, 应制, 应教,
   应令, 奉敕撰, 赋得;
5. only Han characters stay, and at most MAX_TITLE of them (the start of a long title names
   its subject: "与袁补阙寻蔡拾遗会此公出行后蔡有五韵诗见赠以此篇答焉" keeps its first 12).

A title that comes out empty (七言 二十一 → 七言 stays; 无题 stays) is simply absent.
"""

from __future__ import annotations

import re

MAX_TITLE = 12
_NUMERAL = "一二三四五六七八九十百千两〇零"
_BRACKETS = re.compile(r"（[^）]*）|\([^)]*\)|【[^】]*】|〔[^〕]*〕|《|》")
_NUMBER_PART = re.compile(f"^(其)?[{_NUMERAL}0-9]+(首)?$")
_SET_COUNT = re.compile(f"[{_NUMERAL}]+(首|绝句|章)|其[{_NUMERAL}]+")
_OCCASION = re.compile("奉和|奉酬|奉同|次韵|圣制|应制|应教|应令|奉敕撰|赋得")
_NOT_HAN = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def clean_title(title: str) -> str:
    """The subject in a corpus title, by the rules in this module's docstring ('' when none)."""
    return _subject(title)[:MAX_TITLE]


def cut_title(title: str) -> tuple[str, int] | None:
    """(what is kept, how many characters the subject had) when rule 5 cut the subject, else None.

    Cutting is right for the corpus, but a person who typed a long title must be told that the
    model reads only its start (the composers' notes say so), not find the rest gone silently.
    """
    subject = _subject(title)
    if len(subject) <= MAX_TITLE:
        return None
    return subject[:MAX_TITLE], len(subject)


def _subject(title: str) -> str:
    """Rules 1-5 of the module's docstring, all but the length limit."""
    text = _BRACKETS.sub(" ", title)
    parts = [p for p in text.split() if p and not _NUMBER_PART.match(p)]
    if not parts:
        return ""
    subject = _SET_COUNT.sub("", parts[-1])
    subject = _OCCASION.sub("", subject)
    return _NOT_HAN.sub("", subject)
