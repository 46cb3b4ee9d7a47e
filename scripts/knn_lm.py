"""Would a kNN-LM make the shipped model better on new verse, without training? A measurement, not a feature.

    python scripts/knn_lm.py [--queries 5000] [--k 64] [--model default]

Sheet U says readers follow the model, about one point per nat, and #22's 2.5 needs about 0.22 nat
more than the shipped model; this CPU cannot train that far. A kNN-LM (Khandelwal et al., 2020,
"Generalization through Memorization") adds no training: the head's input vector at each position
of the train split's regulated poems is a key, the character that follows it the value, and

    p(y | x) = (1 − λ) · p_LM(y | x) + λ · Σ_{(k_i, v_i) ∈ N(x)} [v_i = y] · softmax_i(−‖q(x) − k_i‖² / T)

over the k nearest keys N(x) of the query q(x). Scored here on a random sample of the regulated
val poems' characters (untitled, as scripts/eval_regulated.py reads them), split into the poems that
share a line of 5+ characters with the train split (the same poem under two names, a variant) and
the rest, which is what the composer writes: new lines. Exact search (torch matmul, in chunks).

Measured 2026-12-07 (docs/quality.md, "Eighteenth stop"): over all 5,000 sampled characters
60.21 → 49.86 (k 64, T 10, λ 0.2), but the gain is the 12 % of characters in val poems sharing a
line with train (41.69 → 10.04 there); on the rest, 63.32 → 60.07 at best (T 20, λ 0.15, chosen on
those same characters), 0.053 nat, about a twentieth of a reader's point by sheet U's slope. It
recalls the poems it has read; it does not write new lines better. Not built.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.eval_regulated import lines_of  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--queries", type=int, default=5000, help="val characters sampled (seed 0)")
    parser.add_argument("--k", type=int, default=64, help="neighbours kept per query")
    args = parser.parse_args(argv)

    import torch

    from tangstudio.engine.compose.refs import resolve_model
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.runs.checkpoint import load_checkpoint

    torch.set_num_threads(2)
    loaded = load_checkpoint(resolve_model(args.model), device="cpu")
    model, vocab = loaded.model.eval(), loaded.vocab
    corpus = load_corpus("tang", "simplified")
    train, val = corpus.select("regulated", "train"), corpus.select("regulated", "val")
    seen = {line for p in corpus.select(None, "train") for line in lines_of(p.text)}
    shares = [any(line in seen for line in lines_of(p.text)) for p in val]

    keys, values, _ = head_inputs(model, vocab, train)
    queries, targets, owners = head_inputs(model, vocab, val)
    pick = torch.randperm(len(queries), generator=torch.Generator().manual_seed(0))[: args.queries]
    queries, targets = queries[pick].float(), targets[pick]
    shared = torch.tensor([shares[i] for i in owners[pick].tolist()])
    weight, bias = model.embedding.weight.detach(), model.head.bias.detach()
    base = torch.log_softmax(queries @ weight.T + bias, -1).gather(1, targets[:, None])[:, 0]
    dist, index = nearest(queries, keys, args.k)
    hits = values[index] == targets[:, None]
    print(
        f"{len(keys):,} keys ({len(train):,} regulated train poems); {len(queries):,} val characters, "
        f"{int(shared.sum()):,} of them in val poems sharing a 5+ character line with train"
    )
    print(f"{'T':>5} {'λ':>5} {'all':>7} {'shared':>7} {'new':>7}")
    print(f"{'-':>5} {0:>5} {ppl(base):7.2f} {ppl(base[shared]):7.2f} {ppl(base[~shared]):7.2f}")
    for temperature in (5, 10, 20, 40):
        p_knn = (torch.softmax(-dist / temperature, 1) * hits).sum(1).clamp_min(1e-30)
        for lam in (0.05, 0.1, 0.15, 0.2, 0.3):
            mixed = torch.logaddexp(base + math.log(1 - lam), p_knn.log() + math.log(lam))
            print(
                f"{temperature:>5} {lam:>5} {ppl(mixed):7.2f} {ppl(mixed[shared]):7.2f} {ppl(mixed[~shared]):7.2f}"
            )
    return 0


def head_inputs(model, vocab, poems):  # type: ignore[no-untyped-def]
    """(keys fp16 [N, D], next characters [N], poem index [N]) over every position of `poems`."""
    import torch

    from tangstudio.engine.corpus.vocab import PAD

    seqs = [vocab.encode_poem(p.text, p.form) for p in poems]
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    keys, values, owners = [], [], []
    with torch.no_grad():
        for start in range(0, len(order), 256):
            batch = order[start : start + 256]
            width = max(len(seqs[i]) for i in batch) - 1
            inputs = torch.full((len(batch), width), PAD, dtype=torch.long)
            nexts = torch.full((len(batch), width), -1, dtype=torch.long)
            for row, i in enumerate(batch):
                inputs[row, : len(seqs[i]) - 1] = torch.tensor(seqs[i][:-1])
                nexts[row, : len(seqs[i]) - 1] = torch.tensor(seqs[i][1:])
            features = model(inputs, features=True)[0]
            real = nexts >= 0
            keys.append(features[real].half())
            values.append(nexts[real])
            owners.append(torch.tensor(batch)[:, None].expand(-1, width)[real])
    return torch.cat(keys), torch.cat(values), torch.cat(owners)


def nearest(queries, keys, k: int):  # type: ignore[no-untyped-def]
    """Exact k nearest keys by squared distance, a block of keys at a time (memory stays small)."""
    import torch

    best_d, best_i = [], []
    for start in range(0, len(queries), 512):
        q = queries[start : start + 512]
        dist = index = None
        for first in range(0, len(keys), 200_000):
            block = keys[first : first + 200_000].float()
            d, i = ((block * block).sum(1)[None] - 2 * q @ block.T).topk(k, dim=1, largest=False)
            if dist is not None:
                d, i = torch.cat([dist, d], 1), torch.cat([index, i + first], 1)
                d, keep = d.topk(k, dim=1, largest=False)
                i = i.gather(1, keep)
            dist, index = d, i
        best_d.append(dist + (q * q).sum(1, keepdim=True))
        best_i.append(index)
    return torch.cat(best_d), torch.cat(best_i)


def ppl(log_probs) -> float:  # type: ignore[no-untyped-def]
    return math.exp(-float(log_probs.mean()))


if __name__ == "__main__":
    raise SystemExit(main())
