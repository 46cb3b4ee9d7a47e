"""Fit the critic's weights on the val split, report them held out, and ship models/critic/.

    python scripts/fit_critic.py --drafts drafts-val.jsonl --terms DIR [--n 200] [--checkpoint BILSTM] [--ship]

Ours: drafts of the default model at the composer's defaults after val titles
(scripts/critic_drafts.py --split val --k 8: every draft best-of-K would rank). Real: n val poems
per form drawn at random, and every val poem whose title a draft took (for the title-matched
pairs). Features per poem (craft/critic.py): lm, bi, dz, rep, rhyme, colloc, disc; colloc and disc come
from DIR (scripts/fit_disc.py, fitted on the train split only), the BiLSTM from --checkpoint (the
shipped one by default). The weights are a logistic regression (standardised, L2 1e-2, Newton
steps) of two questions pooled with equal weight: real against ours, and real against the same
real poems with their lines shuffled — alone, the first is partly answered by the sampler's
fingerprint (real poems are less probable under the model than its own samples), and a critic
must still know a poem from its lines out of order. The signs are fixed rather than left to the
fit: rep may only cost, every other term only add; a wrong-signed term is dropped and the rest
refitted. The score is a log-odds of "real and in order".

Printed, held out (2-fold: fitted on the titles of even index, scored on the odd, and back): per
form the share of (real, ours) pairs that each feature, the previous critic (the critic.json it
replaces) and the new critic rank real first (AUC), and the pairwise accuracy pooled over forms,
also for a real poem against our drafts after its own title. The shipped weights are the fit on
all of val. With --ship: critic.json, colloc.safetensors and disc.safetensors (and the BiLSTM when
--checkpoint names another) go to models/critic/. Never the test split.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FORMS = ("wujue", "qijue", "wulv", "qilv")


def shuffle_lines(text: str, rng: random.Random) -> str:
    """The poem's lines in another order (marks kept in place): same characters, no order."""
    from tangstudio.engine.prosody.duizhang import poem_lines

    lines = poem_lines(text)
    order = list(range(len(lines)))
    while order == sorted(order) and len(order) > 1:
        rng.shuffle(order)
    return "".join(lines[i] + ("，" if k % 2 == 0 else "。") for k, i in enumerate(order))


def auc(real: np.ndarray, ours: np.ndarray) -> float:
    """P(score(real) > score(ours)) over all pairs, ties half."""
    diff = real[:, None] - ours[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size)


def logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 25) -> tuple[np.ndarray, float]:
    """Weights and bias of a logistic regression by Newton's method (x standardised)."""
    X = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(X.shape[1])
    reg = l2 * np.eye(X.shape[1])
    reg[-1, -1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-X @ w))
        grad = X.T @ (p - y) + reg @ w
        hess = (X * (p * (1 - p))[:, None]).T @ X + reg
        w -= np.linalg.solve(hess, grad)
    return w[:-1], float(w[-1])


def real_sample(corpus, form: str, n: int, titles: set[str]) -> tuple[list[str], list[str]]:
    """n val poems of the form (seeded draw) and every val poem whose title a draft was given."""
    from tangstudio.engine.corpus.titles import clean_title

    pool = corpus.select({form}, "val")
    drawn = random.Random(f"critic-val-{form}").sample(range(len(pool)), min(n, len(pool)))
    keep = sorted(set(drawn) | {k for k, p in enumerate(pool) if clean_title(p.title) in titles})
    return [pool[k].text for k in keep], [clean_title(pool[k].title) for k in keep]


def features(critic, loaded, corpus, drafts: list[dict], n: int, log) -> dict:
    """Per form: the features of our drafts (lm from the composer's steps), of real val poems and of
    those poems with their lines shuffled, with the title and the fold (title index parity) of each."""
    from tangstudio.engine.compose.craft.critic import lm_of_text

    script = loaded.vocab.script
    out = {}
    for form in FORMS:
        start = time.perf_counter()
        mine = [d for d in drafts if d["form"] == form]
        real, real_titles = real_sample(corpus, form, n, {d["title"] for d in mine})
        shuf = [shuffle_lines(t, random.Random(f"shuffle-{k}")) for k, t in enumerate(real)]
        out[form] = {
            "ours": critic.features([d["text"] for d in mine], form, [d["lm"] for d in mine], script),
            "real": critic.features(real, form, [lm_of_text(loaded, t, form) for t in real], script),
            "shuf": critic.features(shuf, form, [lm_of_text(loaded, t, form) for t in shuf], script),
            "ours_title": [d["title"] for d in mine],
            "real_title": real_titles,
            "ours_fold": np.array([d["i"] % 2 for d in mine]),
            "real_fold": np.arange(len(real)) % 2,
        }
        print(f"{form}: {len(mine)} drafts, {len(real)} real, {time.perf_counter() - start:.0f} s", file=log)
    return out


SIGNS = {
    "lm": 1.0,
    "bi": 1.0,
    "dz": 1.0,
    "rep": -1.0,
    "colloc": 1.0,
    "disc": 1.0,
}  # fixed signs (see the module's doc)


def fit_signed(x: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> tuple[np.ndarray, float]:
    """logistic() with SIGNS held: drop a wrong-signed term, refit, until every sign holds."""
    keep = list(range(len(names)))
    while True:
        w_kept, b = logistic(x[:, keep], y)
        wrong = [i for i, w in zip(keep, w_kept) if names[i] in SIGNS and w * SIGNS[names[i]] < 0]
        if not wrong:
            w = np.zeros(len(names))
            w[keep] = w_kept
            return w, b
        keep.remove(wrong[0])


def stack(data: dict, fold: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The fit's rows: per form real against ours and real against shuffled, equally weighted
    (each real poem appears in both questions), limited to one fold when fold is given."""
    xs, ys = [], []
    for d in data.values():
        r = d["real"] if fold is None else d["real"][d["real_fold"] == fold]
        s = d["shuf"] if fold is None else d["shuf"][d["real_fold"] == fold]
        o = d["ours"] if fold is None else d["ours"][d["ours_fold"] == fold]
        xs += [r, o, r, s]
        ys += [np.ones(len(r)), np.zeros(len(o)), np.ones(len(r)), np.zeros(len(s))]
    return np.vstack(xs), np.concatenate(ys)


def fit(data: dict, fold: int | None, names: tuple[str, ...]):
    x, y = stack(data, fold)
    mean, scale = x.mean(0), x.std(0) + 1e-9
    w, b = fit_signed((x - mean) / scale, y, names)
    return mean, scale, w, b


def held_out_scores(data: dict, names) -> dict:
    """Each poem scored by the critic fitted on the other fold (2-fold by title index parity)."""
    out = {form: {k: np.zeros(len(d[k])) for k in ("real", "ours", "shuf")} for form, d in data.items()}
    for fold in (0, 1):
        mean, scale, w, b = fit(data, fold, names)
        for form, d in data.items():
            for kind, fk in (("real", "real_fold"), ("ours", "ours_fold"), ("shuf", "real_fold")):
                pick = d[fk] != fold
                out[form][kind][pick] = ((d[kind][pick] - mean) / scale) @ w + b
    return out


def old_scores(old: dict, rows: np.ndarray) -> np.ndarray:
    """The previous critic (its critic.json) on the same poems: its four terms only."""
    four = ("lm", "bi", "dz", "rep")
    mean = np.array([old["mean"][f] for f in four])
    scale = np.array([old["scale"][f] for f in four])
    w = np.array([old["weights"][f] for f in four])
    return ((rows[:, :4] - mean) / scale) @ w + old["bias"]


def report(data: dict, held: dict, old: dict | None) -> dict:
    from tangstudio.engine.compose.craft.critic import FEATURES

    rows: dict = {}
    print("\nval, share of (real, ours) pairs of one form ranked real first (AUC); critic: held out (2-fold)")
    print(
        "| form | real | ours | "
        + " | ".join(FEATURES)
        + " | old critic | **critic** | critic, real vs shuffled |"
    )
    print("|---|---|---|" + "---|" * (len(FEATURES) + 3))
    wins = pairs = tw = tp = 0
    for form, d in data.items():
        cells = {f: auc(d["real"][:, i], d["ours"][:, i]) for i, f in enumerate(FEATURES)}
        if old is not None:
            cells["old_critic"] = auc(old_scores(old, d["real"]), old_scores(old, d["ours"]))
        h = held[form]
        cells["critic"] = auc(h["real"], h["ours"])
        cells["critic_vs_shuf"] = auc(h["real"], h["shuf"])
        diff = h["real"][:, None] - h["ours"][None, :]
        wins += int((diff > 0).sum())
        pairs += diff.size
        same = np.array(d["real_title"])[:, None] == np.array(d["ours_title"])[None, :]
        tw += int(((diff > 0) & same).sum())
        tp += int(same.sum())
        rows[form] = {k: round(v, 4) for k, v in cells.items()} | {
            "real": len(h["real"]),
            "ours": len(h["ours"]),
        }
        print(
            f"| {form} | {len(h['real'])} | {len(h['ours'])} | "
            + " | ".join(f"{cells[f]:.2f}" for f in FEATURES)
            + f" | {cells.get('old_critic', float('nan')):.2f} | **{cells['critic']:.2f}** | {cells['critic_vs_shuf']:.2f} |"
        )
    rows["pairwise_same_form"] = round(wins / pairs, 4)
    rows["pairwise_same_title"] = round(tw / tp, 4) if tp else None
    print(
        f"\nheld out: a real val poem ranked above our draft of the same form in {wins / pairs:.1%} of {pairs} pairs;"
    )
    if tp:
        print(f"above our draft after its own title in {tw / tp:.1%} of {tp} pairs")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", required=True, help="scripts/critic_drafts.py --split val output")
    parser.add_argument("--terms", required=True, help="scripts/fit_disc.py --out folder")
    parser.add_argument("--checkpoint", help="a bilstm checkpoint folder (default: the shipped critic's)")
    parser.add_argument("--model", default="default")
    parser.add_argument("--n", type=int, default=200, help="real val poems per form (and the titled ones)")
    parser.add_argument("--old", help="the critic.json to compare with (default: the shipped one)")
    parser.add_argument("--ship", action="store_true")
    args = parser.parse_args(argv)

    from tangstudio.engine.compose.craft.bidi import load_bidi
    from tangstudio.engine.compose.craft.colloc import load_colloc
    from tangstudio.engine.compose.craft.critic import FEATURES, WEIGHTS_FILE, Critic, critic_dir
    from tangstudio.engine.compose.craft.disc import load_disc
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.corpus import load_corpus

    loaded = load_for_composing(args.model)
    bidi_dir = Path(args.checkpoint) if args.checkpoint else critic_dir()
    bidi = load_bidi(bidi_dir)
    terms_dir = Path(args.terms)
    terms = json.loads((terms_dir / "terms.json").read_text(encoding="utf-8"))
    colloc, disc = load_colloc(terms_dir, terms["colloc"]), load_disc(terms_dir, terms["disc"])
    corpus = load_corpus("tang", loaded.vocab.script)
    k = len(FEATURES)
    probe = Critic(bidi, np.zeros(k), np.ones(k), np.zeros(k), 0.0, {}, colloc, disc)
    drafts = [json.loads(line) for line in Path(args.drafts).read_text(encoding="utf-8").splitlines()]
    data = features(probe, loaded, corpus, drafts, args.n, sys.stderr)
    old_path = Path(args.old) if args.old else critic_dir() / WEIGHTS_FILE
    old = json.loads(old_path.read_text(encoding="utf-8")) if old_path.is_file() else None
    held = held_out_scores(data, FEATURES)
    rows = report(data, held, old)
    mean, scale, w, b = fit(data, None, FEATURES)
    print(
        "weights (standardised, all val):", dict(zip(FEATURES, np.round(w, 3).tolist())), "bias", round(b, 3)
    )
    per_form = {f: sum(1 for d in drafts if d["form"] == f) for f in FORMS}
    info = {
        "features": list(FEATURES),
        "mean": dict(zip(FEATURES, mean.tolist())),
        "scale": dict(zip(FEATURES, scale.tolist())),
        "weights": dict(zip(FEATURES, w.tolist())),
        "bias": b,
        "fitted_on": f"val split: real val poems ({args.n} drawn per form and those whose titles the drafts "
        f"took) against our drafts {per_form} after val titles at the composer's defaults "
        "(scripts/critic_drafts.py --split val), pooled with real against its lines shuffled",
        "causal_model": str(args.model),
        "colloc": terms["colloc"],
        "disc": terms["disc"],
        "auc_val_held_out": rows,
    }
    if args.ship:
        target = critic_dir()
        target.mkdir(parents=True, exist_ok=True)
        names = ["model.safetensors", "meta.json"] if bidi_dir.resolve() != target.resolve() else []
        for name in names:
            shutil.copyfile(bidi_dir / name, target / name)
        for name in (terms["colloc"]["file"], terms["disc"]["file"]):
            shutil.copyfile(terms_dir / name, target / name)
        (target / WEIGHTS_FILE).write_text(
            json.dumps(info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        print(f"shipped to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
