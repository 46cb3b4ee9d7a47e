"""Issue 24 part 2: where one training step's time goes (embed+LSTM fwd, head fwd, loss, backward,
clip+AdamW) and the peak RSS; one forms per process, since ru_maxrss is for the whole process.

    .venv/bin/python benchmarks/long_poems_phases.py FORMS STEPS MAX_LEN [CHUNK] [first|long] [iso]
    FORMS regulated|all; CHUNK>0: head+loss in time chunks with checkpointed head (memory probe);
    long: the epoch's longest batches instead of its first; iso: also time LSTM and head alone.
"""

import resource
import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
import torch
import torch.nn.functional as F

from benchmarks.bench_train import make_model
from tangstudio.engine.corpus import load_corpus
from tangstudio.engine.corpus.vocab import PAD, Vocab
from tangstudio.engine.training.batching import causal_batch, plan_epoch

forms, steps, max_len, chunk = (
    sys.argv[1],
    int(sys.argv[2]),
    int(sys.argv[3]),
    int(sys.argv[4]) if len(sys.argv) > 4 else 0,
)
poems = load_corpus("tang", "simplified").select(forms, "train")
vocab = Vocab.build((p.text for p in poems), "simplified")
seqs = [s for s in (vocab.encode_poem(p.text, p.form) for p in poems) if len(s) <= max_len]
model, opt = make_model(len(vocab), torch.device("cpu"))
plan = plan_epoch([len(s) for s in seqs], 128, seed=0, epoch=0)
pick = sys.argv[5] if len(sys.argv) > 5 else "first"
if pick == "long":
    plan = sorted(plan, key=lambda idx: -max(len(seqs[i]) for i in idx))
    plan = [plan[0], *plan[:steps]]
lens_plan = [max(len(seqs[i]) for i in idx) - 1 for idx in plan]
batches = [causal_batch([seqs[i] for i in idx]) for idx in plan[: steps + 1]]
T = [b.inputs.shape[1] for b in batches]


def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


base_rss = rss()
ph = {k: [] for k in ("rnn_fwd", "head_fwd", "loss", "backward", "clip_opt", "total")}


def loss_of(h, targets):
    if not chunk:
        logits = model.head(h, model.embedding.weight)
        return F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=PAD, reduction="sum"
        )
    tot = 0
    for s in range(0, h.shape[1], chunk):
        lg = torch.utils.checkpoint.checkpoint(
            lambda hh: model.head(hh, model.embedding.weight), h[:, s : s + chunk], use_reentrant=False
        )
        tot = tot + F.cross_entropy(
            lg.reshape(-1, lg.shape[-1]),
            targets[:, s : s + chunk].reshape(-1),
            ignore_index=PAD,
            reduction="sum",
        )
    return tot


chars = 0
for n, b in enumerate(batches):
    t0 = time.perf_counter()
    x = model.embedding(b.inputs)
    h, _ = model.rnn(x)
    t1 = time.perf_counter()
    if chunk:
        nats = loss_of(h, b.targets)
        t2 = t3 = time.perf_counter()
    else:
        logits = model.head(h, model.embedding.weight)
        t2 = time.perf_counter()
        nats = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), b.targets.reshape(-1), ignore_index=PAD, reduction="sum"
        )
        t3 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    (nats / b.chars).backward()
    t4 = time.perf_counter()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    t5 = time.perf_counter()
    if n == 0:
        continue  # warm-up
    chars += b.chars
    for k, v in zip(ph, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0)):
        ph[k].append(v)
# isolate: LSTM-only fwd+bwd and head+loss-only fwd+bwd on the last batch
b = batches[-1]


def timeit(f, n=1):
    f()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return min(ts)


def rnn_only():
    h, _ = model.rnn(model.embedding(b.inputs))
    h.sum().backward()


hd = model.rnn(model.embedding(b.inputs))[0].detach().requires_grad_()


def head_only():
    loss_of(hd, b.targets).backward()


tr, th = (timeit(rnn_only), timeit(head_only)) if "iso" in sys.argv else (float("nan"), float("nan"))
tot = sum(ph["total"])
with open("/proc/loadavg") as f:
    load = f.read().split()[:3]
print(
    f"forms={forms} max_len={max_len} chunk={chunk} poems={len(seqs)} V={len(vocab)} T(steps)={T[1:]} B=128 load={' '.join(load)}"
)
full = [
    causal_batch([seqs[i] for i in idx]) for idx in plan_epoch([len(s) for s in seqs], 128, seed=0, epoch=0)
]
print(
    f"  epoch: {len(full)} batches, T>125 in {sum(x.inputs.shape[1] > 125 for x in full)}, their share of chars {sum(x.chars for x in full if x.inputs.shape[1] > 125) / sum(x.chars for x in full):.0%}, padding {1 - sum(x.chars for x in full) / sum(x.slots for x in full):.1%}"
)
print(
    f"  steps/s {len(ph['total']) / tot:.3f}  chars/s {chars / tot:,.0f}  s/step {tot / len(ph['total']):.2f}"
)
print("  share: " + "  ".join(f"{k} {sum(v) / tot:.0%}" for k, v in ph.items() if k != "total"))
print(
    f"  isolated (last batch T={b.inputs.shape[1]}, {b.chars} chars): LSTM fwd+bwd {tr:.2f}s ({b.chars / tr:,.0f} chars/s)  head+loss fwd+bwd {th:.2f}s ({b.chars / th:,.0f} chars/s)"
)
print(
    f"  logits tensor B*T*V*4 = {128 * b.inputs.shape[1] * len(vocab) * 4 / 1e6:.0f} MB; peak RSS {rss():.0f} MB (after data {base_rss:.0f} MB)"
)
