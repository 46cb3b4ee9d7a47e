"""Fit the critic's train-split terms: the classifier (craft/disc.py) and the collocation table (colloc.py).

    python scripts/fit_disc.py --drafts drafts-train.jsonl --out DIR [--real 3000] [--l2 1e-5]
                               [--orders 1,2] [--holdout]

Our drafts: scripts/critic_drafts.py --split train (the default model at the composer's defaults,
after titles of train poems). Real: up to --real train-split poems per form (seeded draw), the four
regulated forms; every (form, label) cell weighs the same (disc_fit.balance). Never the val split
(the critic's weights are fitted there) nor the test split. --holdout keeps the drafts of every
fifth title and HOLD (600) unseen train poems per form out of the fit and prints the AUC on them, per
form — the measurement that chose the settings; without it the fit uses everything and writes
DIR/disc.safetensors, DIR/colloc.safetensors (the bigram counts of every train-split poem) and
DIR/terms.json (what critic.json records of both; scripts/fit_critic.py --terms DIR).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
FORMS = ("wujue", "qijue", "wulv", "qilv")
HOLD = 600  # --holdout: real train poems per form kept out of the fit and scored


def auc(real, ours) -> float:
    """P(score(real) > score(ours)) over all pairs, ties half."""
    diff = np.asarray(real)[:, None] - np.asarray(ours)[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size)


def real_poems(form: str, n: int, skip: int = 0) -> list[str]:
    from tangstudio.engine.corpus import load_corpus

    pool = [p.text for p in load_corpus("tang", "simplified").select({form}, "train")]
    random.Random(f"disc-real-{form}").shuffle(pool)
    return pool[skip : skip + n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--drafts", required=True, help="JSON lines from scripts/critic_drafts.py --split train"
    )
    parser.add_argument("--out", help="the folder for disc.safetensors and disc.json")
    parser.add_argument("--real", type=int, default=3000, help="train poems per form, at most")
    parser.add_argument("--l2", type=float, default=1e-5)
    parser.add_argument("--orders", default="1,2")
    parser.add_argument("--buckets", type=int, default=2**18)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--holdout", action="store_true")
    args = parser.parse_args(argv)

    from tangstudio.engine.compose.craft.colloc import build_colloc, save_colloc
    from tangstudio.engine.compose.craft.disc import save_disc
    from tangstudio.engine.compose.craft.disc_fit import fit_disc
    from tangstudio.engine.corpus import load_corpus

    orders = tuple(int(n) for n in args.orders.split(","))
    drafts = [json.loads(line) for line in Path(args.drafts).read_text(encoding="utf-8").splitlines()]
    held = [d for d in drafts if args.holdout and d["i"] % 5 == 0]
    fit_on = [d for d in drafts if not (args.holdout and d["i"] % 5 == 0)]
    texts, labels, groups = [], [], []
    hold = HOLD if args.holdout else 0  # unseen real poems, the first of each form's shuffled pool
    for form in FORMS:
        real = real_poems(form, args.real, skip=hold)
        texts += real
        labels += [1] * len(real)
        groups += [form] * len(real)
    texts += [d["text"] for d in fit_on]
    labels += [0] * len(fit_on)
    groups += [d["form"] for d in fit_on]
    start = time.perf_counter()
    disc = fit_disc(texts, labels, groups, buckets=args.buckets, orders=orders, l2=args.l2, steps=args.steps)
    sizes = {f: (groups.count(f) - sum(1 for d in fit_on if d["form"] == f)) for f in FORMS}
    ours = {f: sum(1 for d in fit_on if d["form"] == f) for f in FORMS}
    print(f"fitted on real {sizes}, ours {ours} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    if args.holdout:
        print("| form | real (unseen train) | ours (unseen titles) | AUC |\n|---|---|---|---|")
        for form in FORMS:
            mine = [d["text"] for d in held if d["form"] == form]
            real = real_poems(form, HOLD)
            print(f"| {form} | {len(real)} | {len(mine)} | {auc(disc.score(real), disc.score(mine)):.3f} |")
        return 0
    if not args.out:
        parser.error("--out is needed without --holdout")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    info = save_disc(disc, out)
    info["fitted_on"] = (
        f"train split: {sum(sizes.values())} real poems {sizes} against {len(fit_on)} of our drafts {ours} "
        f"(scripts/critic_drafts.py --split train), l2 {args.l2}, {args.steps} full-batch Adam steps"
    )
    train = [p.text for p in load_corpus("tang", "simplified").select(None, "train")]
    colloc = save_colloc(build_colloc(train), out)
    colloc["fitted_on"] = f"train split: bigram counts of {len(train)} poems (every form), seen twice or more"
    terms = {"disc": info, "colloc": colloc}
    (out / "terms.json").write_text(json.dumps(terms, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
