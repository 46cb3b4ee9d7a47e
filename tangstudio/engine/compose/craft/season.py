"""One season to a poem: once the title or the poem names a season, the others' words are unlikely.

Every blind reader so far named season clashes as a tell of our poems (西风 in 深春, 北风 beside
四海春, 红树 by 花香; docs/blind/G–I; 杨花 beside 草叶黄 under an autumn title on sheet M). Real
poems mostly keep to one: under the lexicon below, 5.2 % of the regulated val poems name two
seasons (a 春雪, or 春 and 秋 set against each other on purpose), against 17 % of ours at the
defaults of the fourth stop (docs/quality.md). So, like the repetition penalty, this leans on the
distribution before the draw:

    q'(c) ∝ q(c) · exp(−strength · [writing c completes a word of a season the poem has not named])

A poem's seasons are those its title and its text so far name; until one is named nothing is
penalised, and a title naming two allows both. A season's words are its own character (春 夏 秋 冬)
and words the train split ties to it: `scripts/season_markers.py` lists the words with at least
70 % of their document frequency (normalised per season) in poems whose title names that season;
those kept are the ones whose plain sense is the season, plus 雪 and 北风, weaker ties (63 %, 43 %)
that readers named. The sixth stop added the words of at least 70 % whose plain sense is the
season (杨花, 柳色, 三月, 芳草, 蝉声, 霜风 …), which moved the real poems' share from 5.0 to 5.2 %.
The seventh stop added the festivals, whose season is their date, not a
title statistic (too few poems with a season in the title name them): 上元 and 元夕 (first month,
spring), 端午 and 竞渡 (fifth, summer), 重阳, 重九, 茱萸, 七夕, 乞巧 (seventh and ninth,
autumn), 除夕 and 守岁 (winter). Readers of sheets O and Q named 三春 … 重阳 and 重阳 beside 龙船.
Inside the NOT_SEASONS words the season character is not the season (千秋 a thousand years, 春秋
the Annals, 阳春 the tune, 如雪 a likeness). 三秋 and 九秋 left that list at the sixteenth stop:
under titles naming one season they stand with autumn as often as 秋 does (10 of 11 regulated
train poems), and sheet V's readers named 九秋 beside 春风 as a clash.
"""

from __future__ import annotations

from functools import lru_cache

from tangstudio.engine.corpus.script import convert

SEASON_WORDS: dict[str, tuple[str, ...]] = {
    "spring": (
        "春", "杏花", "桃花", "梨花", "莺", "柳絮", "寒食", "清明", "东风",
        "杨花", "牡丹", "垂柳", "柳色", "二月", "三月", "残花", "芳草", "桃李", "花飞",
        "上元", "元夕",
    ),
    "summer": ("夏", "暑", "炎", "端午", "竞渡"),
    "autumn": (
        "秋", "西风", "落叶", "摇落", "菊", "砧", "蟋蟀", "白露", "红叶", "蝉声",
        "重阳", "重九", "茱萸", "七夕", "乞巧",
    ),
    "winter": ("冬", "腊", "冻", "北风", "朔风", "雪", "霜风", "除夕", "守岁"),
}  # fmt: skip
# A season character or marker that, inside these words, is not the season.
NOT_SEASONS = (
    "千秋", "春秋", "千春", "万春", "阳春", "长春", "九春", "秋毫",
    "华夏", "诸夏", "炎凉", "炎州", "雪鬓", "鬓雪", "如雪", "似雪", "白雪", "霜雪", "冰雪", "雪山",
)  # fmt: skip
_HIDDEN = "〇"


class SeasonLexicon:
    """The markers in one script, indexed by their last character (what the next step would write)."""

    def __init__(self, script: str) -> None:
        def conv(word: str) -> str:
            return word if script == "simplified" else convert(word, "simplified", script)

        self.markers = {s: tuple(conv(w) for w in words) for s, words in SEASON_WORDS.items()}
        self.not_seasons = tuple(conv(w) for w in NOT_SEASONS)
        self.ending: dict[str, list[tuple[str, str]]] = {}  # last char -> [(the rest, season)]
        for season, words in self.markers.items():
            for word in words:
                self.ending.setdefault(word[-1], []).append((word[:-1], season))

    def seasons_in(self, text: str) -> frozenset[str]:
        """The seasons a text names (the exceptions' characters hidden first)."""
        for word in self.not_seasons:
            text = text.replace(word, _HIDDEN * len(word))
        return frozenset(s for s, words in self.markers.items() if any(w in text for w in words))

    def clashes(self, text: str) -> bool:
        """Whether a text names more than one season."""
        return len(self.seasons_in(text)) > 1

    def season_of_next(self, line_text: str, char: str) -> str | None:
        """The season `char` would name if written after `line_text` (the line so far), or None."""
        for rest, season in self.ending.get(char, ()):
            if line_text.endswith(rest) and not self._excepted(line_text + char):
                return season
        return None

    def _excepted(self, text: str) -> bool:
        return any(text.endswith(word) for word in self.not_seasons)

    def off_season(self, named: frozenset[str], line_text: str, char: str) -> bool:
        """Whether writing `char` next names a season other than those already `named` (none named: no)."""
        if not named:
            return False
        season = self.season_of_next(line_text, char)
        return season is not None and season not in named


@lru_cache(maxsize=2)
def lexicon(script: str = "simplified") -> SeasonLexicon:
    return SeasonLexicon(script)


def off_season_ids(
    lex: SeasonLexicon, named: frozenset[str], line_text: str, stoi: dict[str, int]
) -> list[int]:
    """The token ids that would name another season next (the penalty's targets)."""
    if not named:
        return []
    ids = []
    for char in lex.ending:
        token = stoi.get(char)
        if token is not None and lex.off_season(named, line_text, char):
            ids.append(token)
    return sorted(ids)
