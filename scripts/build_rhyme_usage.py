"""Build prosody/data/rare_rhymes.tsv: readings the Tang poets (almost) never rhymed on.

The 平水韵 table keeps every reading of a character, so 還 is in 十五删 (huán, "return") and in 一先
(xuán, = 旋). Any reading may stand inside a line, but at a rhyme position a reader hears the
common one: the corpus rhymes 還 in 十五删 518 times and in 一先 7 times. Counting every reading
there lets the checker call 還 a rhyme of a 一先 poem and lets the composer end a 一先 line on it.

This script counts, for every character with more than one 平 group, how often each of its groups
is the rhyme of the regulated Tang poems (every split: these are facts about the language, not a
measure of a model) whose even lines it ends. The poem's rhyme is taken from its *other* even-line
endings (the group most of them share, when at least half do), so the character does not vote for
itself. A group is rare when the character has at least MIN_USES such rhyme uses and the group
holds less than MAX_SHARE of them, or when it has at least MIN_EVIDENCE uses and none in the group
(吾 rhymes in 七虞 9 times of 11 and never in 六麻: a 六麻 poem ending on 金吾 reads as a broken
rhyme, as two of the three blind readers of sheet M said). Rows: traditional character, group,
uses in that group, all rhyme uses. `tables.rhyming_groups` drops these groups at rhyme positions.

The same count over the simplified poems writes prosody/data/rare_rhymes_simplified.tsv. A
simplified character unites the readings of the traditional ones it stands for, but not every
reading comes with it: 干 is written for 乾 where 乾 means "dry" (gān, 十四寒), while 乾 "heaven"
(qián, 一先) stays 乾 in simplified text, so simplified 干 rhymes in 十四寒 and never in 一先, although
the union says both (a poet's review: the composer ended a 一先 line on 干).

It also writes prosody/data/level_at_line_end.tsv: characters with a 平 and a 仄 reading that the
Tang poets end lines on almost only as 平. A line end is where a reader hears a tone, and he hears
the common reading there: 間 ends an even (rhyming, 平) line 639 times and an odd line (3, 5, 7:
仄 ends) 43 times, so a first line ending on 汉川间 before a 六麻 rhyme reads as a first line that
fails to rhyme (two of the three readers of sheet P said so), not as 仄 jiàn. Line 1 is left out
of both counts (it may rhyme, so it says nothing). A character is listed when it ends at least
MIN_END_USES lines after line 1 of the regulated poems and under MAX_ODD_SHARE of those are odd
lines. `tables.end_tones` reads it.

Usage: python scripts/build_rhyme_usage.py   (reads the bundled corpus; about 10 s)
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tangstudio.engine.corpus import load_corpus  # noqa: E402
from tangstudio.engine.errors import TangError  # noqa: E402
from tangstudio.engine.prosody import tables  # noqa: E402
from tangstudio.engine.prosody.checker import split_lines  # noqa: E402
from tangstudio.engine.prosody.groups import group_tone  # noqa: E402
from tangstudio.engine.prosody.tables import DATA, PING, rhyme_groups, tones  # noqa: E402

MIN_USES = 20
MAX_SHARE = 0.05
MIN_EVIDENCE = 5
MIN_END_USES = 10
MAX_ODD_SHARE = 0.1
OUT = DATA / "rare_rhymes.tsv"
SIMPLIFIED_OUT = DATA / "rare_rhymes_simplified.tsv"
LEVEL_OUT = DATA / "level_at_line_end.tsv"


def ping_groups(char: str, script: str = "traditional") -> frozenset[str]:
    return frozenset(g for g in rhyme_groups(char, script) if group_tone(g) == PING)


def count_uses(script: str = "traditional") -> tuple[dict[str, Counter], Counter]:
    """(char -> Counter of the rhyme groups it ended a line in, char -> all its rhyme uses)."""
    in_group: dict[str, Counter] = defaultdict(Counter)
    uses: Counter = Counter()
    for poem in load_corpus("tang", script).select("regulated", None):
        try:
            lines = split_lines(poem.text)
        except TangError:
            continue  # a lost character (●) in the text: the poem says nothing reliable
        ends = [lines[i][-1] for i in range(1, len(lines), 2)]
        for k, char in enumerate(ends):
            if len(ping_groups(char, script)) < 2:
                continue
            others = [ping_groups(e, script) for j, e in enumerate(ends) if j != k]
            votes = Counter(g for groups in others for g in groups)
            if not votes:
                continue
            ranked = votes.most_common(2)
            group, n = ranked[0]
            if n * 2 < len(others) or (len(ranked) > 1 and ranked[1][1] == n):
                # No clear rhyme without this line; a tie is no rhyme either (a 绝句 whose other end
                # is 書, in 六鱼 and 四支), and breaking it by Counter order, which follows frozenset
                # order, would change the table with PYTHONHASHSEED.
                continue
            uses[char] += 1
            if group in ping_groups(char, script):
                in_group[char][group] += 1
    return in_group, uses


def count_line_ends() -> tuple[Counter, Counter]:
    """(char -> even-line ends, char -> odd-line ends after line 1), for characters read 平 and 仄."""
    even: Counter = Counter()
    odd: Counter = Counter()
    for poem in load_corpus("tang", "traditional").select("regulated", None):
        try:
            lines = split_lines(poem.text)
        except TangError:
            continue
        for i, line in enumerate(lines):
            if i == 0 or len(tones(line[-1], "traditional")) < 2:
                continue
            (even if i % 2 == 1 else odd)[line[-1]] += 1
    return even, odd


def write_level_at_line_end() -> None:
    even, odd = count_line_ends()
    rows = [
        f"{char}\t{even[char]}\t{odd[char]}"
        for char in sorted(set(even) | set(odd))
        if even[char] + odd[char] >= MIN_END_USES and odd[char] < MAX_ODD_SHARE * (even[char] + odd[char])
    ]
    header = (
        "# char\teven-line ends (平)\todd-line ends after line 1 (仄) in the regulated Tang poems. "
        f"Built by scripts/build_rhyme_usage.py: characters read 平 and 仄 that end at least {MIN_END_USES} "
        f"lines after line 1, under {MAX_ODD_SHARE:.0%} of them odd ones; at a line end they are heard 平.\n"
    )
    LEVEL_OUT.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows)} characters heard 平 at a line end → {LEVEL_OUT}")


def write_rare_rhymes(script: str, out: Path) -> None:
    """Write the rare (char, group) readings of `script`'s poems to `out`. For simplified text, only
    those its traditional candidates' rows (rare_rhymes.tsv, written first) do not already drop."""
    in_group, uses = count_uses(script)
    already_dropped = (
        (lambda char, group: group not in tables.source_rhyming_groups(char, script))
        if script == "simplified"
        else (lambda char, group: False)
    )
    rows = []
    for char in sorted(uses):
        if uses[char] < MIN_EVIDENCE:
            continue
        for group in sorted(ping_groups(char, script)):
            n = in_group[char][group]
            if ((uses[char] >= MIN_USES and n < MAX_SHARE * uses[char]) or n == 0) and not already_dropped(
                char, group
            ):
                rows.append(f"{char}\t{group}\t{n}\t{uses[char]}")
    header = (
        f"# char\trare rhyme group\trhyme uses in it\tall rhyme uses (regulated Tang poems, {script}). "
        f"Built by scripts/build_rhyme_usage.py: groups under {MAX_SHARE:.0%} of at least {MIN_USES} uses, "
        f"or never used by a character with at least {MIN_EVIDENCE}.\n"
    )
    out.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    print(
        f"{len(rows)} rare rhyme readings of {sum(1 for c in uses if uses[c] >= MIN_EVIDENCE)} characters → {out}"
    )


def main() -> None:
    write_level_at_line_end()
    write_rare_rhymes("traditional", OUT)
    tables._rare.cache_clear()  # the simplified pass reads the rows just written
    tables.source_rhyming_groups.cache_clear()
    write_rare_rhymes("simplified", SIMPLIFIED_OUT)


if __name__ == "__main__":
    main()
