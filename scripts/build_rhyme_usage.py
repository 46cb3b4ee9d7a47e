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
from tangstudio.engine.prosody.checker import split_lines  # noqa: E402
from tangstudio.engine.prosody.groups import group_tone  # noqa: E402
from tangstudio.engine.prosody.tables import DATA, PING, rhyme_groups  # noqa: E402

MIN_USES = 20
MAX_SHARE = 0.05
MIN_EVIDENCE = 5
OUT = DATA / "rare_rhymes.tsv"


def ping_groups(char: str) -> frozenset[str]:
    return frozenset(g for g in rhyme_groups(char, "traditional") if group_tone(g) == PING)


def count_uses() -> tuple[dict[str, Counter], Counter]:
    """(char -> Counter of the rhyme groups it ended a line in, char -> all its rhyme uses)."""
    in_group: dict[str, Counter] = defaultdict(Counter)
    uses: Counter = Counter()
    for poem in load_corpus("tang", "traditional").select("regulated", None):
        try:
            lines = split_lines(poem.text)
        except TangError:
            continue  # a lost character (●) in the text: the poem says nothing reliable
        ends = [lines[i][-1] for i in range(1, len(lines), 2)]
        for k, char in enumerate(ends):
            if len(ping_groups(char)) < 2:
                continue
            others = [ping_groups(e) for j, e in enumerate(ends) if j != k]
            votes = Counter(g for groups in others for g in groups)
            if not votes:
                continue
            group, n = votes.most_common(1)[0]
            if n * 2 < len(others):
                continue  # no clear rhyme without this line
            uses[char] += 1
            if group in ping_groups(char):
                in_group[char][group] += 1
    return in_group, uses


def main() -> None:
    in_group, uses = count_uses()
    rows = []
    for char in sorted(uses):
        if uses[char] < MIN_EVIDENCE:
            continue
        for group in sorted(ping_groups(char)):
            n = in_group[char][group]
            if (uses[char] >= MIN_USES and n < MAX_SHARE * uses[char]) or n == 0:
                rows.append(f"{char}\t{group}\t{n}\t{uses[char]}")
    header = (
        "# char\trare rhyme group\trhyme uses in it\tall rhyme uses (regulated Tang poems). "
        f"Built by scripts/build_rhyme_usage.py: groups under {MAX_SHARE:.0%} of at least {MIN_USES} uses, "
        f"or never used by a character with at least {MIN_EVIDENCE}.\n"
    )
    OUT.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    print(
        f"{len(rows)} rare rhyme readings of {sum(1 for c in uses if uses[c] >= MIN_EVIDENCE)} characters → {OUT}"
    )


if __name__ == "__main__":
    main()
