"""Fit the critic's weights on the val split and report it on the test split; ship models/critic/.

    python scripts/fit_critic.py --checkpoint RUN_DIR/checkpoints/best [--n 80] [--ship]

Real poems: n per form drawn at random from the split. Ours: the first n poems at seeds 0.. (val)
or 10000.. (test) per form, sampled at the composer's defaults with K = 1 (what the critic is asked
to rank). Features per poem (craft/critic.py): lm, bi, dz, rep. The weights are a logistic
regression on the val features (standardised, L2 1e-2, Newton steps) of two questions pooled with
equal weight: real against ours, and real against the same real poems with their lines shuffled.
Alone, the first question is answered by the sampler's fingerprint — real poems are less probable
under the model than its own samples — so a critic fitted on it alone prefers improbable drafts,
and ranks a real poem's shuffled lines above the poem itself (measured: 39 of 40 times). The signs
are fixed rather than left to the fit: the model terms and 对仗 may only add (lm, bi, dz ≥ 0) and
repetition may only cost (rep ≤ 0); a term whose fitted sign is the wrong one is dropped and the
rest refitted. The score is a log-odds of "real and in order". --features FILE keeps (or, if it exists, reuses) the measured features. Printed: on val and on test, per form and feature, the share
of (real, ours) pairs of one form that the feature — and the fitted critic — ranks real first (AUC).
With --ship, the BiLSTM (model.safetensors, meta.json) and critic.json go to models/critic/.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from dataclasses import replace
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


def features(critic, loaded, corpus, split: str, n: int, seed0: int, log, knobs: dict) -> dict:
    from tangstudio.engine.compose.craft.critic import lm_from_steps, lm_of_text
    from tangstudio.engine.compose.generator import Composer
    from tangstudio.engine.compose.novelty import index_for_model
    from tangstudio.engine.compose.settings import ComposeSettings
    from tangstudio.engine.compose.tables import tables_for

    script = loaded.vocab.script
    index = index_for_model(loaded)
    tables = tables_for(loaded.vocab)
    out = {}
    for form in FORMS:
        start = time.perf_counter()
        pool = [p.text for p in corpus.select({form}, split)]
        real = random.Random(f"critic-{split}-{form}").sample(pool, min(n, len(pool)))
        real_f = critic.features(real, form, [lm_of_text(loaded, t, form) for t in real], script)
        results = [
            Composer(
                loaded,
                replace(ComposeSettings(form=form), seed=seed0 + k, **knobs),
                novelty=index,
                tables=tables,
            ).finish()
            for k in range(n)
        ]
        ours = [r.text for r in results]
        ours_f = critic.features(ours, form, [lm_from_steps(r.steps) for r in results], script)
        shuf = [shuffle_lines(t, random.Random(f"shuffle-{k}")) for k, t in enumerate(real)]
        shuf_f = critic.features(shuf, form, [lm_of_text(loaded, t, form) for t in shuf], script)
        out[form] = {"real": real_f, "ours": ours_f, "shuf": shuf_f}
        print(f"{split} {form}: {time.perf_counter() - start:.0f} s", file=log)
    return out


SIGNS = {"lm": 1.0, "bi": 1.0, "dz": 1.0, "rep": -1.0}  # fixed signs (see the module's doc)


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


def save_features(path: Path, val: dict, test: dict) -> None:
    arrays = {
        f"{split}_{form}_{kind}": d[kind]
        for split, data in (("val", val), ("test", test))
        for form, d in data.items()
        for kind in ("real", "ours", "shuf")
    }
    np.savez(path, **arrays)


def load_features(path: Path) -> tuple[dict, dict]:
    data = np.load(path)
    out: dict = {"val": {}, "test": {}}
    for name in data.files:
        split, form, kind = name.split("_")
        out[split].setdefault(form, {})[kind] = data[name]
    return out["val"], out["test"]


def table(data: dict, critic, label: str) -> dict:
    from tangstudio.engine.compose.craft.critic import FEATURES

    rows = {}
    for other in ("ours", "shuf"):
        print(f"\n{label}: share of (real, {other}) pairs ranked real first")
        print("| form | " + " | ".join(FEATURES) + " | critic |")
        print("|---|" + "---|" * (len(FEATURES) + 1))
        for form, d in data.items():
            cells = {f: auc(d["real"][:, i], d[other][:, i]) for i, f in enumerate(FEATURES)}
            cells["critic"] = auc(critic.score_rows(d["real"]), critic.score_rows(d[other]))
            rows[f"{form}_vs_{other}"] = cells
            print(f"| {form} | " + " | ".join(f"{cells[f]:.2f}" for f in (*FEATURES, "critic")) + " |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="the bilstm checkpoint folder")
    parser.add_argument("--model", default="default")
    parser.add_argument("--n", type=int, default=80)
    parser.add_argument("--ship", action="store_true")
    parser.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="our poems' temperature (1: the model's own distribution)",
    )
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--features", help="an .npz to keep the measured features in (reused if it exists)")
    args = parser.parse_args(argv)

    from tangstudio.engine.compose.craft.bidi import load_bidi
    from tangstudio.engine.compose.craft.critic import FEATURES, WEIGHTS_FILE, Critic, critic_dir
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.corpus import load_corpus

    loaded = load_for_composing(args.model)
    bidi = load_bidi(Path(args.checkpoint))
    corpus = load_corpus("tang", loaded.vocab.script)
    k = len(FEATURES)
    probe = Critic(bidi, np.zeros(k), np.ones(k), np.zeros(k), 0.0, {})
    knobs = {"temperature": args.temperature, "top_p": args.top_p}
    cached = Path(args.features) if args.features else None
    if cached is not None and cached.exists():
        val, test = load_features(cached)
    else:
        val = features(probe, loaded, corpus, "val", args.n, 0, sys.stderr, knobs)
        test = features(probe, loaded, corpus, "test", args.n, 10_000, sys.stderr, knobs)
        if cached is not None:
            save_features(cached, val, test)
    # two questions pooled, equally weighted: real against ours, and real against its lines shuffled
    x = np.vstack([np.vstack([d["real"], d["ours"], d["real"], d["shuf"]]) for d in val.values()])
    y = np.concatenate(
        [
            np.r_[
                np.ones(len(d["real"])),
                np.zeros(len(d["ours"])),
                np.ones(len(d["real"])),
                np.zeros(len(d["shuf"])),
            ]
            for d in val.values()
        ]
    )
    mean, scale = x.mean(0), x.std(0) + 1e-9
    w, b = fit_signed((x - mean) / scale, y, FEATURES)
    critic = Critic(bidi, mean, scale, w, b, {})
    print("weights (standardised):", dict(zip(FEATURES, np.round(w, 3).tolist())), "bias", round(b, 3))
    val_rows = table(val, critic, "val (fitted here)")
    test_rows = table(test, critic, "test (held out)")
    info = {
        "features": list(FEATURES),
        "mean": dict(zip(FEATURES, mean.tolist())),
        "scale": dict(zip(FEATURES, scale.tolist())),
        "weights": dict(zip(FEATURES, w.tolist())),
        "bias": b,
        "fitted_on": f"val split: {args.n} real poems and {args.n} of ours per form (seeds 0..; {knobs}, "
        "the composer's other defaults)",
        "causal_model": str(args.model),
        "auc_val": val_rows,
        "auc_test": test_rows,
    }
    if args.ship:
        target = critic_dir()
        target.mkdir(parents=True, exist_ok=True)
        for name in ("model.safetensors", "meta.json"):
            shutil.copyfile(Path(args.checkpoint) / name, target / name)
        (target / WEIGHTS_FILE).write_text(
            json.dumps(info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        print(f"shipped to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
