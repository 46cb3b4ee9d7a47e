"""Our drafts for the discriminative critic (issue 22): poems the default model writes at the
composer's defaults, each after a title taken from a real poem of the split, saved as JSON lines.

    python scripts/critic_drafts.py --split train --n 1000 --out drafts-train.jsonl
    python scripts/critic_drafts.py --split val --n 100 --k 8 --out drafts-val.jsonl

Why titles: the composer is asked for poems with a subject, and a draft with a title (the planner
plans the lines) is what best-of-K ranks. Titles are the cleaned titles of the split's poems of
the form (only those the model can read), drawn at random with a fixed seed. Poem i of form f is
drawn at seed SEED0[split] + i and its draft j (--k > 1) at best_of.draft_seed(that seed, j), the
seeds `generate --candidates` uses, so the first K of a poem's drafts are what best-of-K would
rank. Each line: form, title, i, j, seed, temperature, text, lm (the causal mean log-probability from the
composer's own steps, a critic feature). The file is appended to and an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
FORMS = ("wujue", "qijue", "wulv", "qilv")
SEED0 = {"train": 100_000, "val": 0}  # never the test split


def split_titles(form: str, split: str, n: int, known: dict) -> list[str]:
    """n titles of the split's poems of the form (cleaned, readable by the model), seeded draw;
    with fewer distinct titles than n, the pool is cycled in its drawn order."""
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.titles import clean_title

    titles = {clean_title(p.title) for p in load_corpus("tang", "simplified").select({form}, split)}
    pool = sorted(t for t in titles if t and all(c in known for c in t))
    random.Random(f"critic-titles-{split}-{form}").shuffle(pool)
    return [pool[i % len(pool)] for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=sorted(SEED0), required=True)
    parser.add_argument("--n", type=int, default=1000, help="poems per form")
    parser.add_argument("--k", type=int, default=1, help="drafts per poem")
    parser.add_argument("--model", default="default")
    parser.add_argument(
        "--temperatures",
        default="",
        help="comma list: poem i is drawn at temperature i mod len (a classifier trained on drafts "
        "of one temperature cannot judge others); default: the composer's",
    )
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    from tangstudio.engine.compose.craft.best_of import draft_seed
    from tangstudio.engine.compose.craft.critic import lm_from_steps
    from tangstudio.engine.compose.generator import Composer
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.compose.novelty import index_for_model
    from tangstudio.engine.compose.settings import ComposeSettings
    from tangstudio.engine.compose.tables import tables_for

    loaded = load_for_composing(args.model)
    index = index_for_model(loaded)
    tables = tables_for(loaded.vocab)
    out = Path(args.out)
    done = set()
    if out.exists():
        for line in out.read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            done.add((d["form"], d["i"], d["j"]))
    titles = {f: split_titles(f, args.split, args.n, loaded.vocab.stoi) for f in FORMS}
    temps = [float(t) for t in args.temperatures.split(",") if t.strip()]
    start = time.perf_counter()
    with out.open("a", encoding="utf-8") as fh:
        for i in range(args.n):  # forms interleaved: a stopped run still has every form
            for form in FORMS:
                for j in range(args.k):
                    if (form, i, j) in done:
                        continue
                    seed = draft_seed(SEED0[args.split] + i, j)
                    settings = replace(ComposeSettings(form=form), seed=seed, title=titles[form][i])
                    if temps:
                        settings = replace(settings, temperature=temps[i % len(temps)])
                    r = Composer(loaded, settings, novelty=index, tables=tables).finish()
                    row = {"form": form, "title": titles[form][i], "i": i, "j": j, "seed": seed}
                    row["temperature"] = settings.temperature
                    row |= {"text": r.text, "lm": round(lm_from_steps(r.steps), 5)}
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
            if i % 25 == 0:
                print(f"{i + 1}/{args.n} per form, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
