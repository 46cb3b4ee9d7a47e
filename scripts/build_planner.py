"""Build the planner's table from the train split (deterministic): title words → line keywords.

    python scripts/build_planner.py [--script simplified] [--forms regulated]

Writes tangstudio/engine/compose/planning/data/planner.<script>.json.xz (engine/compose/planning/
build.py says what is counted and why). Only train-split poems are read, so the val and test
poems that measure the model never shaped a plan; and only those of the forms the shipped default
model was trained on (regulated), with the keyword extraction over those same poems, so every word
the planner proposes is one the model has read as a line's keyword (a table counted over every
form offered 到时, 我今, 五字: keywords of free verse that the regulated model never saw as one).
Composing reads the file; it never counts keywords itself (that takes seconds over the corpus).
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
    parser.add_argument("--forms", default="regulated", help="the forms the shipped default reads")
    args = parser.parse_args(argv)

    from tangstudio.engine.compose.planning.build import count
    from tangstudio.engine.compose.planning.table import table_path, write_table
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.keywords import KeywordModel

    corpus = load_corpus("tang", args.script)
    train = corpus.select(args.forms, "train")
    keyword_model = KeywordModel.build(p.text for p in train)
    table = count(((p.title, p.text) for p in train), keyword_model)
    table["source"] = f"tang {args.script}, train split, {args.forms}, {len(train)} poems"
    path = table_path(args.script)
    write_table(table, path)
    print(
        f"{path}: {len(table['keywords'])} keywords, {len(table['title_words'])} title words, "
        f"{table['lines']} planned lines of {table['poems']} poems ({path.stat().st_size / 1e6:.2f} MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
