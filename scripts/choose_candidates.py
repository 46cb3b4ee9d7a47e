"""Choose the default K of best-of-K on the val split: the proxies of the kept draft for each K.

    python scripts/choose_candidates.py --drafts drafts-val.jsonl [--ks 1,2,4,8] [--real 40]

The drafts are scripts/critic_drafts.py --split val --k 8: poem i of each form after a val title,
its draft j at best_of.draft_seed(seed, j) — the drafts `generate --candidates K --title T` ranks,
so best of K here is best_of.rank over a poem's first K drafts, with the shipped critic. Printed
per K, pooled over the forms as scripts/tune_craft.py pools them: form·rhyme·tones, the repeated
share, 对仗, the critic's mean score of the kept drafts, distinct-2, the copy span, and the kept
drafts' mean colloc and disc terms; a reference row of real val poems is measured the same way.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
FORMS = ("wujue", "qijue", "wulv", "qilv")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", required=True)
    parser.add_argument("--ks", default="1,2,4,8")
    parser.add_argument("--real", type=int, default=40, help="real val poems per form (reference row)")
    parser.add_argument("--model", default="default")
    args = parser.parse_args(argv)

    import numpy as np
    from tune_craft import summarise

    from tangstudio.engine.compose.craft.critic import lm_of_text, load_critic
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.compose.novelty import CorpusIndex, index_for_model
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.prosody import check_poem

    loaded = load_for_composing(args.model)
    script = loaded.vocab.script
    critic = load_critic()
    index = index_for_model(loaded)
    drafts = [json.loads(line) for line in Path(args.drafts).read_text(encoding="utf-8").splitlines()]
    by_poem: dict = {}
    for d in drafts:
        by_poem.setdefault((d["form"], d["i"]), []).append(d)
    for (form, _), ds in by_poem.items():
        ds.sort(key=lambda d: d["j"])
        for d, s in zip(ds, critic.score([d["text"] for d in ds], form, [d["lm"] for d in ds], script)):
            d["score"] = s
    out = {}
    corpus = load_corpus("tang", script)
    real = {}
    for form in FORMS:
        pool = [p.text for p in corpus.select({form}, "val")]
        texts = random.Random(f"real-{form}").sample(pool, min(args.real, len(pool)))
        real[form] = {"texts": texts, "lm": [lm_of_text(loaded, t, form) for t in texts]}
    train_index = CorpusIndex([p.text for p in corpus.select(None, "train")])
    out["real (val)"] = summarise(real, script, train_index, critic)
    terms = {"real (val)": {}}
    for form, d in real.items():
        s = critic.score(d["texts"], form, d["lm"], script)
        terms["real (val)"][form] = s
    for k in (int(x) for x in args.ks.split(",")):
        per_form = {}
        kept_scores = {}
        for form in FORMS:
            kept = []
            for (f, _), ds in sorted(by_poem.items()):
                if f == form and len(ds) >= k:
                    kept.append(max(ds[:k], key=lambda d: d["score"]["critic"]))
            texts = [d["text"] for d in kept]
            checks = [check_poem(t, form, script) for t in texts]
            per_form[form] = {
                "texts": texts,
                "lm": [d["lm"] for d in kept],
                "ok": sum(c.form_ok and c.rhyme_ok and c.tones_loose_ok for c in checks) / len(checks),
            }
            kept_scores[form] = [d["score"] for d in kept]
        out[f"K {k}"] = summarise(per_form, script, index, critic)
        terms[f"K {k}"] = kept_scores
    cols = ("form_rhyme_tones_ok", "repeated", "duizhang", "critic", "distinct_2", "copy_span")
    print("| row | poems | " + " | ".join(cols) + " | colloc | disc |")
    print("|---|---|" + "---|" * (len(cols) + 2))
    for label, row in out.items():
        scores = [s for form_scores in terms[label].values() for s in form_scores]
        cells = [f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in cols]
        extra = [f"{np.mean([s[t] for s in scores]):.3f}" for t in ("colloc", "disc")]
        print(f"| {label} | {len(scores)} | " + " | ".join(cells + extra) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
