"""Build prosody/data/tang_sources.tsv: which traditional characters a simplified one stands for in Tang verse.

A simplified character is looked up through its traditional candidates (s2t.tsv, from OpenCC's
tables) and takes the union of their readings, because one simplified character can stand for
several traditional ones (干 = 干 乾 幹 榦, each with its own tone). But OpenCC lists every
candidate the script reform merged, however rare: 家 also stands for 傢 (a 仄 reading of 二十二养),
同 for 衕 (一送), 画 for 畵 (六麻), 具 for 俱 (七虞), 暗 for 闇 (侵, 覃). Taking their readings made
家 and 同 fit a 仄 place, and 画 and 暗 rhyme in 平 groups, which no reader of Tang verse hears.

The bundled corpus holds every poem in its original script, and its simplified text is made from
it character by character, so each simplified character of the Tang poems can be traced to the
traditional characters it was written as. A candidate is kept when it stands for at least
MIN_SHARE of the character's uses (家: 家 6,642, 傢 never; 暗: 暗 1,743, 闇 161), or when it is
common in its own right (MIN_USES) and has one tone class, so that the tone it brings is surely
the one it was written in (干: 干 795, 乾 553, and 幹 113, only 仄: 枝幹). Rows are written only for characters whose kept candidates differ from s2t.tsv's; a
character outside the Tang poems (typed by a person) keeps all of OpenCC's candidates.

Usage: python scripts/build_tang_sources.py   (reads the bundled corpus; about 20 s)
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tangstudio.engine.corpus import load_corpus  # noqa: E402
from tangstudio.engine.prosody.tables import DATA, s2t_candidates, tones  # noqa: E402

MIN_SHARE = 0.1
MIN_USES = 100
OUT = DATA / "tang_sources.tsv"


def count_sources() -> dict[str, Counter]:
    """simplified char -> Counter of the traditional characters it was written as in the Tang poems."""
    traditional = load_corpus("tang", "traditional").select(None, None)
    simplified = load_corpus("tang", "simplified").select(None, None)
    if len(traditional) != len(simplified):
        raise SystemExit("the two scripts of the corpus hold different poems: rebuild its cache")
    sources: dict[str, Counter] = defaultdict(Counter)
    for t, s in zip(traditional, simplified):
        if len(t.text) != len(s.text):
            continue  # not converted character by character: it says nothing reliable
        for trad, simp in zip(t.text, s.text):
            sources[simp][trad] += 1
    return sources


def main() -> None:
    sources = count_sources()
    rows = []
    for simp in sorted(sources, key=ord):
        candidates = s2t_candidates(simp)
        if candidates == simp:
            continue  # written one way only: nothing to choose between
        counts = sources[simp]
        total = sum(counts.values())
        kept = [
            t
            for t, n in counts.most_common()
            if t in candidates
            and (n >= MIN_SHARE * total or (n >= MIN_USES and len(tones(t, "traditional")) == 1))
        ]
        if kept and set(kept) != set(candidates):
            used = " ".join(f"{t}:{counts[t]}" for t in candidates if counts[t])
            rows.append(f"{simp}\t{''.join(kept)}\t{used}")
    header = (
        "# simplified\ttraditional characters it stands for in the Tang poems\tuses of each of OpenCC's "
        f"candidates. Built by scripts/build_tang_sources.py: candidates of at least {MIN_SHARE:.0%} of the "
        f"character's uses, or {MIN_USES} uses and one tone class; a character not listed keeps every "
        "candidate of s2t.tsv.\n"
    )
    OUT.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows)} simplified characters narrowed to the forms the Tang poems use → {OUT}")


if __name__ == "__main__":
    main()
