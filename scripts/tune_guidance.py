"""Measure title guidance (engine/compose/craft/guidance.py) on val titles (never test): per γ, how
likely the poems are with their titles, how much the title explains them, and the critic.

    python scripts/tune_guidance.py --gammas 0,1,1.5,2.5 [--n 60] [--seed 100] [--candidates 2] [--line-drafts 8]

Our poems: for each form, n/4 cleaned val titles drawn at --seed (blind_read.py's `subjects`), each
composed at the defaults with the given γ (seeds seed + i·K, the critic's best of K). The real row:
n/4 val poems a form with their own titles. Printed per row, means over poems:

    lm_t      mean log-probability of the characters, the title read first (as the composer reads)
    lm_u      the same with no title
    pmi       lm_t − lm_u: what the title explains of the poem, in nats a character
    critic    the shipped critic (an expected reader rating, 1–5), its lm read with the title
    distinct2, seasons, repeated: as in tune_craft.py
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FORMS = ("wujue", "qijue", "wulv", "qilv")


def measure(loaded, critic, items: list[tuple[str, str, str]]) -> dict:
    import numpy as np
    from fit_critic_readers import lm_as_composed

    from tangstudio.engine.compose.craft.critic import lm_of_text
    from tangstudio.engine.compose.craft.proxies import distinct_2, season_clashes
    from tangstudio.engine.compose.craft.repetition import repeat_counts
    from tangstudio.engine.errors import TangError

    rows, texts = [], []
    for text, form, title in items:
        try:
            titled = lm_as_composed(loaded, text, form, title)
        except TangError:  # a real poem the composer's form cannot hold (a stanza break): left out
            continue
        untitled = lm_of_text(loaded, text, form)
        feat = critic.features([text], form, [titled], loaded.vocab.script)[0]
        rows.append((titled, untitled, titled - untitled, float(critic.score_rows(np.array([feat]))[0])))
        texts.append(text)
    means = np.array(rows).mean(axis=0)
    rep, total = repeat_counts(texts)
    return {
        "poems": len(texts),
        "lm_t": round(float(means[0]), 3),
        "lm_u": round(float(means[1]), 3),
        "pmi": round(float(means[2]), 3),
        "critic": round(float(means[3]), 3),
        "distinct2": round(distinct_2(texts), 3),
        "seasons": round(season_clashes(texts, loaded.vocab.script), 3),
        "repeated": round(rep / total, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gammas", default="0,1,1.5,2.5")
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--candidates", type=int, default=2)
    parser.add_argument("--line-drafts", type=int, default=None, help="default: the composer's")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)

    from blind_read import subjects

    from tangstudio.engine.compose.craft.best_of import compose_best
    from tangstudio.engine.compose.craft.critic import load_critic
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.compose.novelty import index_for_model
    from tangstudio.engine.compose.settings import ComposeSettings
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.titles import clean_title

    loaded = load_for_composing("default")
    index = index_for_model(loaded)
    critic = load_critic()
    known = loaded.vocab.stoi
    corpus = load_corpus("tang", loaded.vocab.script)
    real = []
    for form in FORMS:
        pool = [p for p in corpus.select({form}, "val") if all(c in known for c in clean_title(p.title))]
        real += [
            (p.text, form, clean_title(p.title)) for p in random.Random(f"g-{form}").sample(pool, args.n // 4)
        ]
    out = {"real val": measure(loaded, critic, real)}
    print("real val", out["real val"], flush=True)
    k = args.candidates
    samples = {}
    for gamma in (float(g) for g in args.gammas.split(",")):
        start = time.perf_counter()
        items = []
        for form in FORMS:
            for i, title in enumerate(subjects(form, args.n // 4, args.seed, known)):
                settings = ComposeSettings(form=form, seed=args.seed + i * k, title=title, guidance=gamma)
                if args.line_drafts is not None:
                    settings.line_drafts = args.line_drafts
                for r in compose_best(
                    loaded, settings, 1, k, critic=critic if k > 1 else None, novelty=index
                ):
                    items.append((r.text, form, title))
        label = f"guidance {gamma:g}"
        out[label] = {**measure(loaded, critic, items), "seconds": round(time.perf_counter() - start, 1)}
        samples[label] = items
        print(label, out[label], flush=True)
    if args.json_path:
        Path(args.json_path).write_text(
            json.dumps({"summary": out, "samples": samples}, ensure_ascii=False, indent=1), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
