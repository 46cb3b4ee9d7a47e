"""Issue 24 part 2, fix candidate 1 measured: the head's loss in time chunks, fused (no B×T×V kept).

The forward pass computes, chunk by chunk, the summed cross-entropy and its gradients with respect
to the head's input, weight and bias (softmax − one-hot), so only B×chunk×V logits exist at once;
backward just scales them. Compared in one process, alternating, with the plain head + F.cross_entropy
on the epoch's longest `all` batch (T 255): time of head+loss fwd+bwd, the loss and gradients' agreement.
Peak RSS: run with `plain` or `fused` as the only argument (ru_maxrss is per process).

    .venv/bin/python benchmarks/long_poems_fused.py [both|plain|fused] [CHUNK]
"""

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch
import torch.nn.functional as F

from benchmarks.bench_train import make_model
from tangstudio.engine.corpus import load_corpus
from tangstudio.engine.corpus.vocab import PAD, Vocab
from tangstudio.engine.training.batching import causal_batch, plan_epoch


class ChunkedLinearCE(torch.autograd.Function):
    """sum over real targets of CE(z @ W.T + b), computed in chunks of rows; grads made in forward."""

    @staticmethod
    def forward(ctx, z, weight, bias, targets, chunk):  # type: ignore[override]
        dz, dw = torch.zeros_like(z), torch.zeros_like(weight)
        db = torch.zeros_like(bias) if bias is not None else None
        total = z.new_zeros(())
        for s in range(0, z.shape[0], chunk):
            zc, tc = z[s : s + chunk], targets[s : s + chunk]
            logits = F.linear(zc, weight, bias)
            lse = torch.logsumexp(logits, dim=1)
            real = tc != PAD
            safe = tc.clamp(min=0)
            total += ((lse - logits.gather(1, safe[:, None]).squeeze(1)) * real).sum()
            grad = (logits - lse[:, None]).exp_()  # softmax, in place of the logits
            grad[torch.arange(len(tc)), safe] -= 1
            grad *= real[:, None]
            dz[s : s + chunk] = grad @ weight
            dw += grad.T @ zc
            if db is not None:
                db += grad.sum(0)
        ctx.save_for_backward(dz, dw, db if db is not None else torch.empty(0))
        ctx.has_bias = bias is not None
        return total

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        dz, dw, db = ctx.saved_tensors
        return dz * g, dw * g, (db * g if ctx.has_bias else None), None, None


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "both"
    chunk_t = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    poems = load_corpus("tang", "simplified").select("all", "train")
    vocab = Vocab.build((p.text for p in poems), "simplified")
    seqs = [s for s in (vocab.encode_poem(p.text, p.form) for p in poems) if len(s) <= 256]
    model, _ = make_model(len(vocab), torch.device("cpu"))
    plan = plan_epoch([len(s) for s in seqs], 128, seed=0, epoch=0)
    b = causal_batch([seqs[i] for i in max(plan, key=lambda idx: max(len(seqs[i]) for i in idx))])
    head, w = model.head, model.embedding.weight
    hw, hb = (w, head.bias) if head.tied else (head.V.weight, head.V.bias)  # the head's matrix
    h = model.rnn(model.embedding(b.inputs))[0].detach()
    flat_t = b.targets.reshape(-1)

    def plain():
        model.zero_grad(set_to_none=True)
        hh = h.clone().requires_grad_()
        lg = head(hh, w, dropout=False)
        loss = F.cross_entropy(lg.reshape(-1, lg.shape[-1]), flat_t, ignore_index=PAD, reduction="sum")
        loss.backward()
        return loss.detach(), hh.grad, hw.grad.clone()

    def fused():
        model.zero_grad(set_to_none=True)
        hh = h.clone().requires_grad_()
        z = head.proj(hh) if head.tied else hh
        z = z.reshape(-1, z.shape[-1])
        loss = ChunkedLinearCE.apply(z, hw, hb, flat_t, chunk_t * h.shape[0])
        loss.backward()
        return loss.detach(), hh.grad, hw.grad.clone()

    fns = {"plain": plain, "fused": fused}
    names = list(fns) if mode == "both" else [mode]
    out = {n: fns[n]() for n in names}  # warm-up, and the values compared
    times: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(2):
        for n in names:
            t = time.perf_counter()
            fns[n]()
            times[n].append(time.perf_counter() - t)
            print(f"  {n} {times[n][-1]:.2f} s", flush=True)
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(
        f"all, longest batch T={b.inputs.shape[1]}, {b.chars} chars, V={len(vocab)}, chunk {chunk_t} steps, load {load}"
    )
    for n in names:
        ts = sorted(times[n])
        print(
            f"  {n:<6} head+loss fwd+bwd best {b.chars / ts[0]:,.0f} chars/s, worst {b.chars / ts[-1]:,.0f} chars/s"
        )
    if mode == "both":
        (lp, gp, wp), (lf, gf, wf) = out["plain"], out["fused"]
        print(
            f"  loss plain {lp.item():.3f} fused {lf.item():.3f}; max |dh| diff {(gp - gf).abs().max().item():.2e}"
            f" (of {gp.abs().max().item():.2e}); max |dW| diff {(wp - wf).abs().max().item():.2e} (of {wp.abs().max().item():.2e})"
        )
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
