"""List the variant pairs data/variants.tsv was hand-kept from, each marked kept or not.

    pip download --no-deps yitizi==0.1.3 -d DIR
    python scripts/variant_candidates.py DIR/yitizi-0.1.3-py3-none-any.whl

A candidate is a pair that yitizi (CC0) lists as variants of each other, both characters written
at least MIN_USES times in the Tang corpus (simplified). Whether a pair is one word in Tang verse
(猨 猿) or two (复 覆, 霜 孀) is a reader's call, not a table's, so the list is kept by hand; this
script makes the pool it was chosen from reproducible, with the two characters' uses and whether
their 平水韵 readings agree, to help the next review.
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections import Counter
from pathlib import Path

from tangstudio.engine.compose.craft.repetition import load_variants
from tangstudio.engine.corpus import load_corpus
from tangstudio.engine.prosody.tables import readings

MIN_USES = 5


def main(wheel: Path) -> None:
    table: dict[str, str] = json.loads(zipfile.ZipFile(wheel).read("yitizi/yitizi.json"))
    uses: Counter[str] = Counter()
    for poem in load_corpus("tang", "simplified").poems:
        uses.update(poem.text)
    pairs = {
        tuple(sorted((a, b)))
        for a, others in table.items()
        for b in others
        if a != b and a in table.get(b, "") and min(uses[a], uses[b]) >= MIN_USES
    }
    group_of = {c: g for g in load_variants("simplified") for c in g}
    rows = sorted(pairs, key=lambda p: -min(uses[p[0]], uses[p[1]]))
    print("pair\tuses\tsame readings\tkept")
    for a, b in rows:
        kept = b in group_of.get(a, "")
        same = set(readings(a)) == set(readings(b))
        print(f"{a}{b}\t{uses[a]},{uses[b]}\t{'yes' if same else 'no'}\t{'kept' if kept else '-'}")
    print(f"# {len(rows)} candidates, {sum(b in group_of.get(a, '') for a, b in rows)} kept", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/variant_candidates.py YITIZI_WHEEL")
    main(Path(sys.argv[1]))
