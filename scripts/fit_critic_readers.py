"""Fit the critic's weights to what blind readers scored, report them held out by sheet, and ship them.

    python scripts/fit_critic_readers.py [--sheets docs/blind] [--only A,B,B2,C,D,E,F,G] [--l2 10] [--ship]

The shipped weights are the fit on sheets A–G (`--only A,B,B2,C,D,E,F,G`): the sheets read after
it (H, H2, H3, I) are its held-out test.

Why: the critic fitted by scripts/fit_critic.py answers "is this a real poem or one of ours?", and it
does (held-out AUC 0.74–0.94), but the readers did not prefer the drafts it kept: over the machine
poems of readings A–G its score follows their overall rating at Spearman ρ ≈ 0.1, while the causal
model's mean log-probability follows it at ≈ 0.5. A critic keeps the draft a reader would keep, so
its weights are fitted here on the readers' own ratings.

Rows: every machine poem of every sheet under --sheets that has a key.json and a ratings.csv. Its
features are the critic's (craft/critic.py), computed now, under the shipped model, with lm read
as the composer reads it (the poem's title first, then the poem). Target: the reader's overall score
less that sheet's mean for our poems (each reader has its own scale). The fit: ridge regression on
standardised features (L2 --l2), with the signs of fit_critic.py held (rep may only cost, every other
term only add; a wrong-signed term is dropped and the rest refitted); a term that does not vary
over the rows (rhyme: our drafts always rhyme) weighs nothing. Held out: leave one sheet out, the
Spearman ρ between the held-out sheet's predictions and its ratings, averaged over sheets, beside
each feature alone. The score is then an expected overall rating: the weights' sum plus the mean
overall of our poems over the sheets.

The colloc and disc tables and the BiLSTM stay as shipped; --ship rewrites models/critic/critic.json.
Readings are measurements on val titles, never the test split's; a reading taken after this fit
(on new drafts) is the fit's real test.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from fit_critic import SIGNS  # noqa: E402  (the signs every critic fit holds; rhyme, absent, adds)


def read_sheets(folder: Path, only: set[str] | None = None) -> list[dict]:
    """The machine poems of every scored sheet (or of those in `only`): text, form, title, sheet and
    the reader's ratings."""
    rows = []
    for sheet in sorted(p for p in folder.iterdir() if p.is_dir() and (only is None or p.name in only)):
        key_path, ratings_path = sheet / "key.json", sheet / "ratings.csv"
        if not key_path.is_file() or not ratings_path.is_file():
            continue
        key = json.loads(key_path.read_text(encoding="utf-8"))
        with open(ratings_path, encoding="utf-8") as f:
            for rating in csv.DictReader(f):
                poem = key.get(rating["label"])
                if poem is None or poem["origin"] != "machine":
                    continue
                rows.append(
                    {
                        "sheet": sheet.name,
                        "text": poem["text"],
                        "form": poem["form"],
                        "title": poem.get("title", ""),
                        "overall": float(rating["overall"]),
                    }
                )
    return rows


def lm_as_composed(loaded, text: str, form: str, title: str) -> float:
    """Mean log-probability of the poem's characters as the composer sees them: the title read
    first (the model reads it before the form's start token), the poem written as a prefix."""
    from tangstudio.engine.compose.craft.critic import lm_from_steps
    from tangstudio.engine.compose.generator import Composer
    from tangstudio.engine.compose.settings import ComposeSettings

    settings = ComposeSettings(form=form, title=title, prefix=text, seed=0, planner=False, novelty=False)
    return lm_from_steps(Composer(loaded, settings).history)


def feature_rows(rows: list[dict]) -> np.ndarray:
    from tangstudio.engine.compose.craft.critic import load_critic
    from tangstudio.engine.compose.model_ref import load_for_composing

    loaded = load_for_composing("default")
    critic = load_critic()
    script = loaded.vocab.script
    out = []
    for r in rows:
        lm = lm_as_composed(loaded, r["text"], r["form"], r["title"])
        out.append(critic.features([r["text"]], r["form"], [lm], script)[0])
    return np.array(out)


def rank(x: np.ndarray) -> np.ndarray:
    """Ranks with ties averaged (Spearman's)."""
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x))
    r[order] = np.arange(len(x))
    for v in np.unique(x):
        r[x == v] = r[x == v].mean()
    return r


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = rank(np.asarray(a, float)), rank(np.asarray(b, float))
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def ridge_signed(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], l2: float) -> np.ndarray:
    """Ridge weights on standardised x (y centred), a wrong-signed term dropped until none is."""
    keep = [i for i in range(len(names)) if x[:, i].std() > 0]
    while True:
        z = x[:, keep]
        w_kept = np.linalg.solve(z.T @ z + l2 * np.eye(len(keep)), z.T @ y) if keep else np.zeros(0)
        wrong = [i for i, w in zip(keep, w_kept) if w * SIGNS.get(names[i], 1.0) < 0]
        if not wrong:
            w = np.zeros(len(names))
            w[keep] = w_kept
            return w
        keep.remove(wrong[0])


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    return mean, np.where(scale > 0, scale, 1.0)


def centred_by_sheet(y: np.ndarray, sheets: np.ndarray) -> np.ndarray:
    out = y.astype(float).copy()
    for s in np.unique(sheets):
        out[sheets == s] -= out[sheets == s].mean()
    return out


def held_out(x: np.ndarray, y: np.ndarray, sheets: np.ndarray, names, l2: float) -> np.ndarray:
    """Each sheet's predictions from a fit on the other sheets."""
    pred = np.zeros(len(y))
    for s in np.unique(sheets):
        train = sheets != s
        mean, scale = standardise(x[train])
        w = ridge_signed((x[train] - mean) / scale, centred_by_sheet(y[train], sheets[train]), names, l2)
        pred[~train] = ((x[~train] - mean) / scale) @ w
    return pred


def per_sheet(pred: np.ndarray, y: np.ndarray, sheets: np.ndarray) -> float:
    return float(np.mean([spearman(pred[sheets == s], y[sheets == s]) for s in np.unique(sheets)]))


def main(argv: list[str] | None = None) -> int:
    from tangstudio.engine.compose.craft.critic import FEATURES, WEIGHTS_FILE, critic_dir, load_critic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", default=str(ROOT / "docs" / "blind"))
    parser.add_argument("--only", help="comma-separated sheet names (default: every scored sheet)")
    parser.add_argument("--l2", type=float, default=10.0)
    parser.add_argument("--ship", action="store_true")
    args = parser.parse_args(argv)
    rows = read_sheets(Path(args.sheets), set(args.only.split(",")) if args.only else None)
    if len({r["sheet"] for r in rows}) < 2:
        print("error: need at least two scored sheets (key.json and ratings.csv)", file=sys.stderr)
        return 2
    x = feature_rows(rows)
    y = np.array([r["overall"] for r in rows])
    sheets = np.array([r["sheet"] for r in rows])
    names = tuple(FEATURES)
    print(f"{len(rows)} machine poems on {len(set(sheets))} sheets: {', '.join(sorted(set(sheets)))}")
    old = json.loads((critic_dir() / WEIGHTS_FILE).read_text(encoding="utf-8"))
    old_score = load_critic().score_rows(x)  # the shipped critic, which --ship would replace
    print("held out by sheet, mean within-sheet Spearman ρ with the readers' overall:")
    for k, name in enumerate(names):
        print(f"  {name:7s} alone   {per_sheet(x[:, k], y, sheets):+.2f}")
    print(f"  shipped critic  {per_sheet(old_score, y, sheets):+.2f}")
    pred = held_out(x, y, sheets, names, args.l2)
    print(f"  refitted (L2 {args.l2:g}) {per_sheet(pred, y, sheets):+.2f}")
    mean, scale = standardise(x)
    w = ridge_signed((x - mean) / scale, centred_by_sheet(y, sheets), names, args.l2)
    print(
        "weights (per standard deviation, in rating points): "
        + ", ".join(f"{n} {v:+.3f}" for n, v in zip(names, w))
    )
    if args.ship:
        new = dict(old)
        new.update(
            mean={n: float(v) for n, v in zip(names, mean)},
            scale={n: float(v) for n, v in zip(names, scale)},
            weights={n: float(v) for n, v in zip(names, w)},
            bias=float(y.mean()),
            fitted_on=f"blind readers' overall scores of {len(rows)} machine poems on sheets "
            f"{', '.join(sorted(set(sheets)))} (docs/blind; val titles), each less its sheet's mean; "
            f"ridge L2 {args.l2:g} on standardised features, signs held (scripts/fit_critic_readers.py); "
            "the score is an expected overall rating (1–5)",
            held_out_by_sheet={
                "refitted": round(per_sheet(pred, y, sheets), 4),
                "shipped_before": round(per_sheet(old_score, y, sheets), 4),
                **{n: round(per_sheet(x[:, k], y, sheets), 4) for k, n in enumerate(names)},
            },
        )
        new.pop("auc_val_held_out", None)  # those figures were the real-or-ours critic's
        path = critic_dir() / WEIGHTS_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(new, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
        print(f"shipped to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
