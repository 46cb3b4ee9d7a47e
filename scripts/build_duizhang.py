"""Build the 对仗 pair table and the 叠字 list from the train split (deterministic).

    python scripts/build_duizhang.py [--script simplified]

Writes tangstudio/engine/prosody/data/duizhang.<script>.tsv (aligned pairs of the 律诗 middle
couplets, engine/prosody/duizhang.py) and tangstudio/engine/compose/craft/data/diezi.<script>.tsv
(the characters the corpus doubles, engine/compose/craft/repetition.py) and doubled.<script>.tsv
(every character it doubles a few times; doubling any other is a stutter). Only train-split poems
are read, so the val and test poems that measure the composer never shaped its tables.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", default="simplified", choices=("simplified", "traditional"))
    args = parser.parse_args(argv)

    from tangstudio.engine.compose.craft.repetition import (
        deliberate,
        diezi_path,
        doubled_path,
        mine_diezi,
        write_diezi,
        write_doubled,
    )
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.prosody.duizhang import LV_FORMS, mine, table_path, write_table

    corpus = load_corpus("tang", args.script)
    lv = [p.text for p in corpus.select(set(LV_FORMS), "train")]
    counts = mine(lv)
    source = f"tang {args.script}, train split, {len(lv)} 律诗"
    write_table(counts, table_path(args.script), source)
    print(f"{table_path(args.script)}: {counts.total} aligned pairs from {len(lv)} poems")
    texts = [p.text for p in corpus.select(None, "train")]
    mined = mine_diezi(texts)
    doubled = deliberate(*mined)
    write_diezi(doubled, diezi_path(args.script), f"tang {args.script}, train split, {len(texts)} poems")
    print(f"{diezi_path(args.script)}: {len(doubled)} doubled characters")
    write_doubled(mined[0], doubled_path(args.script), f"tang {args.script}, train split, {len(texts)} poems")
    print(
        f"{doubled_path(args.script)}: every character doubled at least a few times (stutters are the rest)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
