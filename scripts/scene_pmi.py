"""Do readers score a poem by how well its lines hold together? A measurement, not a feature.

    python scripts/scene_pmi.py [--sheets docs/blind]

Readers of every sheet say the real poems "hold one occasion from start to finish" and ours pile up
stock images from different scenes (隋帝 and 武陵 and 黄鹤 in one poem). One measure of that: how
often, in the train split's poems, the characters of one line appear in the same poem as those of
the others — the poem-level pointwise mutual information,

    scene(poem) = mean over character pairs (a, b), a and b in different lines, a ≠ b, of
                  log( n(a, b) · N / (n(a) · n(b)) )     (n: poems holding them, + 0.5 when unseen)

counted over the Tang train split, every form. Printed: the mean for the regulated val poems, for
our poems on the sheets and for the real ones there, and the Spearman ρ between it and the
readers' overall score of our poems (less the sheet's mean for ours), beside the same ρ for the
number of places named (scripts/place_count.py). A lean on the sampler is worth building only if ρ is
clearly above the causal model's 0.29 (docs/quality.md, "What the overall score measures").

Measured 2026-12-06 (docs/quality.md, "Tenth stop"): regulated val 0.457, ours on the sheets 0.356,
the real poems there 0.425; ρ −0.22 (places named: +0.05). Our poems whose lines hold together by
this measure were scored lower, not higher: it was not built.
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

from tangstudio.engine.compose.craft.disc import lines_of  # noqa: E402
from tangstudio.engine.corpus import load_corpus  # noqa: E402
from tangstudio.engine.hanzi import is_han  # noqa: E402


class PoemCooccurrence:
    """How many train poems hold each character and each pair of characters."""

    def __init__(self, texts: list[str]) -> None:
        chars = sorted({c for t in texts for c in t if is_han(c)})
        self.index = {c: i for i, c in enumerate(chars)}
        n = len(chars)
        self.n = n
        self.docs = len(texts)
        self.single = np.zeros(n, np.int64)
        pair_counts = np.zeros(n * n, np.int32)
        for text in texts:
            ids = np.array(sorted({self.index[c] for c in text if is_han(c)}), np.int64)
            self.single[ids] += 1
            a, b = np.triu_indices(len(ids), 1)
            pair_counts[ids[a] * n + ids[b]] += 1  # ids sorted and distinct: each pair once
        self.pairs = pair_counts

    def pmi(self, a: str, b: str) -> float | None:
        i, j = self.index.get(a), self.index.get(b)
        if i is None or j is None or i == j:
            return None
        i, j = min(i, j), max(i, j)
        joint = max(float(self.pairs[i * self.n + j]), 0.5)
        return float(np.log(joint * self.docs / (self.single[i] * self.single[j])))

    def scene(self, text: str) -> float:
        lines = [[c for c in line if is_han(c)] for line in lines_of(text)]
        values = []
        for x, line in enumerate(lines):
            for other in lines[x + 1 :]:
                for a in line:
                    for b in other:
                        v = self.pmi(a, b)
                        if v is not None:
                            values.append(v)
        return float(np.mean(values)) if values else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=Path, default=ROOT / "docs" / "blind")
    args = parser.parse_args()
    from fit_critic_readers import spearman  # ties (the readers' whole-number scores) share a rank
    from place_count import places_in

    corpus = load_corpus("tang", "simplified")
    table = PoemCooccurrence([p.text for p in corpus.select("all", "train")])
    val = [table.scene(p.text) for p in corpus.select("regulated", "val")]
    print(f"regulated val poems: scene {np.mean(val):.3f} (n {len(val)})")
    ours, real, target, places = [], [], [], []
    for sheet in sorted(p for p in args.sheets.iterdir() if p.is_dir()):
        key_path, ratings_path = sheet / "key.json", sheet / "ratings.csv"
        if not key_path.is_file() or not ratings_path.is_file():
            continue
        key = json.loads(key_path.read_text(encoding="utf-8"))
        with open(ratings_path, encoding="utf-8") as f:
            ratings = list(csv.DictReader(f))
        machine = [r for r in ratings if key.get(r["label"], {}).get("origin") == "machine"]
        mean = np.mean([float(r["overall"]) for r in machine])
        for r in ratings:
            poem = key.get(r["label"])
            if poem is None:
                continue
            s = table.scene(poem["text"])
            if poem["origin"] == "machine":
                ours.append(s)
                target.append(float(r["overall"]) - mean)
                places.append(places_in(poem["text"]))
            else:
                real.append(s)
    print(
        f"sheets, ours: scene {np.mean(ours):.3f} over {len(ours)} ratings; real {np.mean(real):.3f} over {len(real)}"
    )
    print(
        f"Spearman rho with the reader's overall (less the sheet's mean for ours): scene {spearman(np.array(ours), np.array(target)):+.3f}"
    )
    print(f"  places named: {spearman(-np.array(places), np.array(target)):+.3f} (fewer places, higher)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "scripts"))
    sys.exit(main())
