"""Build prosody/data/heard_inside_line.tsv: characters with a 平 and a 仄 reading that the Tang poets
use inside a line almost only in one of them.

The 平水韵 table keeps every reading, so 不 is 仄 (bù, 五物) and 平 (fǒu, 十一尤), 吟 is 平 and 仄,
徑 仄 and 平, and the checker and the composer let such a character stand for either. A reader hears
the common one: 行人不相见 reads 平平仄平仄, not the 平平平仄仄 it passed as. This script counts,
for every such character, the tone the pattern asks of it where the pattern fixes one: at a
position that is neither free (一三五不论) nor the line's last, in the regulated Tang poems (every
split: these are facts about the language) that pass the loose rule under the checker's best
variant. A character is listed when it stands in at least MIN_USES such places and under
MAX_SHARE of them want its rarer tone: 不 2,919 仄 to 246 平 (7.8 %), 吟 807 平 to 1 仄, 徑 399 仄
to 2 平. (Single-reading characters land in the "wrong" tone 1-4 % of the time, 月 1 %, 一 3.8 %:
a 拗 line fails the loose rule for them and passes for a two-reading one, so the rarer share of a
listed character is mostly 拗, not the rare reading.) 看 (823 to 225) and 思 (759 to 439) keep both.

`tables.inner_tones` reads it: the composer draws these characters only where their common tone
fits, and the checker warns where a line passes only in the rare one. Rows: traditional
character, uses in 平 places, uses in 仄 places, the tone heard.

Usage: python scripts/build_inner_tones.py   (reads the bundled corpus; about a minute)
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tangstudio.engine.corpus import load_corpus  # noqa: E402
from tangstudio.engine.errors import TangError  # noqa: E402
from tangstudio.engine.prosody.checker import check_poem  # noqa: E402
from tangstudio.engine.prosody.tables import DATA, PING, ZE, tones  # noqa: E402

MIN_USES = 20
MAX_SHARE = 0.1
OUT = DATA / "heard_inside_line.tsv"


def count_fixed_places() -> dict[str, Counter]:
    """traditional char read 平 and 仄 -> Counter of the tones its fixed inner places ask for.

    Counted with the checker hearing every reading (its `judged_tones` is `tones` here): the checker
    reads this table to choose a line's pattern, and counting through it would feed the table back
    into itself, so a rebuild would not give the file it read."""
    from tangstudio.engine.prosody import checker

    checker.judged_tones = tones  # type: ignore[assignment]
    places: dict[str, Counter] = defaultdict(Counter)
    for poem in load_corpus("tang", "traditional").select("regulated", None):
        try:
            result = check_poem(poem.text, form="auto", script="traditional")
        except TangError:
            continue  # a lost character (●) in the text
        if not result.tones_loose_ok:
            continue
        for line in result.lines:
            for char in line.chars[:-1]:
                if not char.free and char.expected and len(tones(char.char, "traditional")) == 2:
                    places[char.char][char.expected] += 1
    return places


def main() -> None:
    places = count_fixed_places()
    rows = []
    for char in sorted(places):
        ping, ze = places[char][PING], places[char][ZE]
        if ping + ze >= MIN_USES and min(ping, ze) < MAX_SHARE * (ping + ze):
            rows.append(f"{char}\t{ping}\t{ze}\t{PING if ping > ze else ZE}")
    header = (
        "# char\tfixed inner places wanting 平\twanting 仄\tthe tone heard (regulated Tang poems passing "
        f"the loose rule). Built by scripts/build_inner_tones.py: characters read 平 and 仄 in at least "
        f"{MIN_USES} such places, under {MAX_SHARE:.0%} of them in the rarer tone.\n"
    )
    OUT.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows)} of {len(places)} two-reading characters heard in one tone inside a line → {OUT}")


if __name__ == "__main__":
    main()
