"""Issue 24 part 2: per-character cost of the LSTM vs the output head + loss, short vs long batch.

Same process, rounds alternate, so a noisy shared machine hurts both alike. Short = the median
batch of the epoch's plan, long = the longest (max_len 256). 2×LSTM 256, embed 128, batch 128.

    .venv/bin/python benchmarks/long_poems_split.py [all|regulated]      # ~60 s
"""

import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
import torch
import torch.nn.functional as F

from benchmarks.bench_train import make_model
from tangstudio.engine.corpus import load_corpus
from tangstudio.engine.corpus.vocab import PAD, Vocab
from tangstudio.engine.training.batching import causal_batch, plan_epoch

poems = load_corpus("tang", "simplified").select(sys.argv[1] if len(sys.argv) > 1 else "all", "train")
vocab = Vocab.build((p.text for p in poems), "simplified")
seqs = [s for s in (vocab.encode_poem(p.text, p.form) for p in poems) if len(s) <= 256]
model, opt = make_model(len(vocab), torch.device("cpu"))
plan = sorted(
    plan_epoch([len(s) for s in seqs], 128, seed=0, epoch=0), key=lambda idx: max(len(seqs[i]) for i in idx)
)
short, long_ = (
    causal_batch([seqs[i] for i in plan[len(plan) // 2]]),
    causal_batch([seqs[i] for i in plan[-1]]),
)
W = model.embedding.weight


def lstm(b):
    h, _ = model.rnn(model.embedding(b.inputs))
    h.sum().backward()


def head(b, hd):
    lg = model.head(hd, W)
    F.cross_entropy(
        lg.reshape(-1, lg.shape[-1]), b.targets.reshape(-1), ignore_index=PAD, reduction="sum"
    ).backward()


res = {}
hds = {
    n: model.rnn(model.embedding(b.inputs))[0].detach().requires_grad_()
    for n, b in (("short", short), ("long", long_))
}
for n, b in (("short", short), ("long", long_)):
    lstm(b)
    head(b, hds[n])  # warm-up per shape
for _ in range(3):
    for n, b in (("short", short), ("long", long_)):
        for part, f in (("lstm", lambda: lstm(b)), ("head+loss", lambda: head(b, hds[n]))):  # noqa: B023 (called at once)
            t = time.perf_counter()
            f()
            dt = time.perf_counter() - t
            res.setdefault((n, part), []).append(b.chars / dt)
with open("/proc/loadavg") as f:
    load = " ".join(f.read().split()[:3])
print(
    f"V={len(vocab)} short T={short.inputs.shape[1]} ({short.chars} chars)  long T={long_.inputs.shape[1]} ({long_.chars} chars) load={load}"
)
for k, v in res.items():
    print(f"  {k[0]:<6}{k[1]:<10} best {max(v):>8,.0f} chars/s  median {sorted(v)[1]:>8,.0f}")
