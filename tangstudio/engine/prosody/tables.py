"""Tone class and 平水韵 groups of single characters, from the committed tables.

The tables are read on first use (a few tens of milliseconds) so that importing the package stays
free. A character keeps every reading it has: 看 is both 平 (十四寒) and 仄 (十五翰), and the
checker lets such a character count as either. Simplified characters are looked up through their
traditional candidates (s2t.tsv) and take the union of their readings, because one simplified
character can stand for several traditional ones (干 = 干 乾 幹 榦); a character of the Tang poems
takes only the candidates the poems write it for (tang_sources.tsv: 家 is 家, never the 仄 傢).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from tangstudio.engine.corpus.script import check_script
from tangstudio.engine.prosody.groups import GROUPS, group_tone

DATA = Path(__file__).parent / "data"
PING, ZE = "平", "仄"


def _rows(name: str) -> Iterator[list[str]]:
    with open(DATA / name, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                yield line.rstrip("\n").split("\t")


@lru_cache(maxsize=1)
def _traditional() -> dict[str, tuple[str, ...]]:
    """char -> readings: group names, or a bare 平/仄 where the source knew only the tone."""
    return {row[0]: tuple(row[1].split()) for row in _rows("pingshui.tsv")}


@lru_cache(maxsize=1)
def _s2t() -> dict[str, str]:
    return {row[0]: row[1] for row in _rows("s2t.tsv")}


@lru_cache(maxsize=1)
def _tang_sources() -> dict[str, str]:
    return {row[0]: row[1] for row in _rows("tang_sources.tsv")}


def s2t_candidates(char: str) -> str:
    """Every traditional character OpenCC lists for a simplified one (itself when it lists none)."""
    return _s2t().get(char, char)


def _traditional_forms(char: str, script: str) -> str:
    """The traditional characters the tables know `char` by: itself in traditional script, else the
    candidates the Tang poems write it for, else all of OpenCC's (scripts/build_tang_sources.py). A
    character without a mapping is its own traditional form (also a traditional character typed in
    simplified text), so looking it up directly is right."""
    if check_script(script) == "traditional":
        return char
    return _tang_sources().get(char) or s2t_candidates(char)


@lru_cache(maxsize=65536)
def readings(char: str, script: str = "simplified") -> tuple[str, ...]:
    """Every reading of a character (group names or bare 平/仄), traditional candidates united."""
    table = _traditional()
    found: dict[str, None] = {}
    for trad in _traditional_forms(char, script):
        found.update(dict.fromkeys(table.get(trad, ())))
    return tuple(found)


def _tone_of(reading: str) -> str:
    return reading if reading in (PING, ZE) else group_tone(reading)


@lru_cache(maxsize=65536)
def tones(char: str, script: str = "simplified") -> frozenset[str]:
    """{"平"}, {"仄"}, both for a character with readings of each class, or empty if unknown."""
    return frozenset(_tone_of(r) for r in readings(char, script))


@lru_cache(maxsize=1)
def _level_at_line_end() -> frozenset[str]:
    """traditional chars read 平 and 仄 that end lines almost only as 平 (level_at_line_end.tsv)."""
    return frozenset(row[0] for row in _rows("level_at_line_end.tsv"))


@lru_cache(maxsize=65536)
def end_tones(char: str, script: str = "simplified") -> frozenset[str]:
    """The tones a reader hears when `char` ends a line: `tones`, except that a character the Tang
    poets end lines on almost only as 平 (間, 中, 行, 深: scripts/build_rhyme_usage.py) is 平 there,
    so the composer does not choose 汉川间 to end a line where the pattern wants 仄 or line 1 does
    not rhyme. A simplified character takes the union over its traditional candidates, as `tones`
    does."""
    return _heard_as(char, script, {trad: PING for trad in _level_at_line_end()})


@lru_cache(maxsize=1)
def _heard_inside_line() -> dict[str, str]:
    """traditional chars read 平 and 仄 that the poets use inside a line in one tone (heard_inside_line.tsv)."""
    return {row[0]: row[3] for row in _rows("heard_inside_line.tsv")}


@lru_cache(maxsize=65536)
def inner_tones(char: str, script: str = "simplified") -> frozenset[str]:
    """The tones a reader hears when `char` stands inside a line, where the pattern fixes a tone:
    `tones`, except that a character the Tang poets use there almost only in one reading (不 仄,
    吟 平, 徑 仄, 知 平: scripts/build_inner_tones.py) has that one, so the composer does not write
    行人不相见 for 平平平仄仄. The union over a simplified character's traditional candidates."""
    return _heard_as(char, script, _heard_inside_line())


@lru_cache(maxsize=1)
def _two_words() -> frozenset[str]:
    """traditional chars whose rarer reading inside a line is another word (two_words.tsv)."""
    return frozenset(row[0] for row in _rows("two_words.tsv"))


@lru_cache(maxsize=65536)
def judged_tones(char: str, script: str = "simplified") -> frozenset[str]:
    """The readings `check` accepts inside a line without a warning: `inner_tones`, except that a
    character whose rarer reading is another word (難 nàn, 應 yìng: two_words.tsv) keeps both. The
    checker cannot tell which word a line means, and told a poet that 杜甫's 万方多难 read 难 as no
    Tang poet did (a poet's review); the composer, which writes the word, still draws the common one."""
    if any(trad in _two_words() for trad in _traditional_forms(char, script)):
        return tones(char, script)
    return inner_tones(char, script)


def _heard_as(char: str, script: str, heard: dict[str, str]) -> frozenset[str]:
    """`tones`, with each traditional candidate read both ways that `heard` lists taking the one
    tone it gives; the union over a simplified character's candidates, as `tones` takes it."""
    candidates = _traditional_forms(char, script)
    if not any(trad in heard for trad in candidates):
        # Most characters: what `tones` says (every composer's tables ask for each character).
        return tones(char, script)
    found: set[str] = set()
    for trad in candidates:
        every = tones(trad, "traditional")
        found |= {heard[trad]} if trad in heard and every == {PING, ZE} else every
    return frozenset(found)


@lru_cache(maxsize=65536)
def rhyme_groups(char: str, script: str = "simplified") -> frozenset[str]:
    """The 平水韵 groups of every reading ("一东", "十五翰", ...); empty if none is known."""
    return frozenset(r for r in readings(char, script) if r in _GROUP_SET)


@lru_cache(maxsize=2)
def _rare(name: str = "rare_rhymes.tsv") -> dict[str, frozenset[str]]:
    """char -> the 平 groups the Tang poets (almost) never rhymed it in (rare_rhymes.tsv, traditional
    characters; rare_rhymes_simplified.tsv, simplified ones)."""
    rare: dict[str, set[str]] = {}
    for row in _rows(name):
        rare.setdefault(row[0], set()).add(row[1])
    return {char: frozenset(groups) for char, groups in rare.items()}


@lru_cache(maxsize=65536)
def source_rhyming_groups(char: str, script: str = "simplified") -> frozenset[str]:
    """`rhyme_groups` less each traditional candidate's readings the corpus (almost) never rhymes."""
    rare = _rare()
    found: set[str] = set()
    for trad in _traditional_forms(char, script):
        groups = {r for r in _traditional().get(trad, ()) if r in _GROUP_SET}
        found |= groups - rare.get(trad, frozenset())
    return frozenset(found)


@lru_cache(maxsize=65536)
def rhyming_groups(char: str, script: str = "simplified") -> frozenset[str]:
    """The groups a character counts in at a rhyme position: `rhyme_groups` less the readings the
    corpus (almost) never rhymes (還 is in 一先 as xuán, but rhymes there 7 times in 581; see
    scripts/build_rhyme_usage.py). A simplified character also loses a reading that stayed with a
    traditional form simplified text still writes: 干 stands for 乾 "dry" (十四寒), never for 乾
    "heaven" (一先), which stays 乾. Inside a line every reading still counts, as `tones` does."""
    found = source_rhyming_groups(char, script)
    if check_script(script) == "simplified":
        found -= _rare("rare_rhymes_simplified.tsv").get(char, frozenset())
    return found or rhyme_groups(char, script)


# Neighbouring 平 groups (邻韵): rhymes close enough that a first line, which need not rhyme, may
# end in one (首句借邻韵, an accepted licence). The clusters the 平水韵 handbooks list; 十三元
# sits in both of its neighbourhoods. In 3,999 regulated Tang poems, 152 of the 197 first lines
# that end on 平 outside the rhyme (and are read so) end in one of these (支/微/齐 39, 真/文/元 34,
# 庚/青/蒸 23, 元/寒/删/先 22, 东/冬 17, 鱼/虞 12 ...).
NEIGHBOURS = (
    ("一东", "二冬"),
    ("三江", "七阳"),
    ("四支", "五微", "八齐"),
    ("六鱼", "七虞"),
    ("九佳", "十灰"),
    ("十一真", "十二文", "十三元"),
    ("十三元", "十四寒", "十五删", "一先"),
    ("二萧", "三肴", "四豪"),
    ("八庚", "九青", "十蒸"),
    ("十三覃", "十四盐", "十五咸"),
)


def neighbours(group: str) -> frozenset[str]:
    """The 邻韵 of a 平 group (itself excluded); empty for a group with none (十一尤, 十二侵 ...)."""
    return frozenset(g for cluster in NEIGHBOURS if group in cluster for g in cluster) - {group}


_GROUP_SET = frozenset(GROUPS)
