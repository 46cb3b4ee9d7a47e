"""Training throughput: the trainer's recipe vs the classic padded recipe, same run, same model.

Model: the classic recipe's size — embedding 128, 2×LSTM 256, batch 128 — on the bundled corpus.
Classic recipe: the train poems of at most 125 tokens (longer ones left out), each left-padded to
125 slots, fp32, the loss over every slot, padding included. Ours: what `tangstudio train` does
with its defaults — the trainer's own data (max_len 256, titles and keywords read but not scored),
token-budget length buckets (--budget-len), the chunked head+loss on scored rows only
(--loss-chunk), bf16 head matmuls where the CPU has bf16 units (--head-bf16 auto), the trainer's
`train_step`. Both count only REAL characters (the loss's: body + punctuation + end token) per
second of full training steps (forward, backward, clipping, AdamW), each of the corpus it trains
on. Ours is timed on batches at evenly spaced quantiles of its epoch's batch lengths (so long
batches weigh what they weigh in an epoch); rounds alternate between the recipes so a noisy shared
machine hurts both alike. `--rss` also runs the recipe's longest batches in a forked child and
reports its peak RSS (ru_maxrss, data included). Both recipes run with the trainer's allocator
settings (training/memory.py), unless TANGSTUDIO_KEEP_ALLOCATOR=1.

Also: model FLOPs per character × chars/s against a plain matmul's FLOP/s measured in this run,
i.e. how much of the machine's dense-matmul speed the training step turns into useful work.

    .venv/bin/python benchmarks/bench_train.py [--forms regulated|all] [--rounds 2] [--batches 6] [--rss]
        [--budget-len 96] [--loss-chunk 4096] [--head-bf16 auto|on|off]
    .venv/bin/python benchmarks/bench_train.py --gpu-vs-cpu      # on a GPU machine (benchmarks/gpu_check.sh)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F

from benchmarks.common import Row, machine

EMBED, HIDDEN, LAYERS, CLASSIC_SLOTS = 128, 256, 2, 125
LEVERS = {"head fp32 (--head-bf16 off)": (4096, "off"), "full logits (--loss-chunk 0)": (0, "off")}


def load(forms: str):
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.vocab import Vocab

    poems = load_corpus("tang", "simplified").select(forms, "train")
    vocab = Vocab.build((p.text for p in poems), "simplified")
    seqs = [s for s in (vocab.encode_poem(p.text, p.form) for p in poems) if len(s) <= CLASSIC_SLOTS]
    return vocab, seqs


def make_model(vocab_size: int, device: torch.device):
    from tangstudio.engine.models import ModelConfig, build_model

    torch.manual_seed(0)
    model = build_model(
        ModelConfig(
            arch="lstm", vocab_size=vocab_size, embed=EMBED, hidden=HIDDEN, layers=LAYERS, dropout=0.1
        )
    ).to(device)
    return model, torch.optim.AdamW(model.parameters(), lr=1e-3)


def bucketed_batches(seqs, batch_size: int):
    from tangstudio.engine.training.batching import causal_batch, plan_epoch

    plan = plan_epoch([len(s) for s in seqs], batch_size, seed=0, epoch=0)
    for idx in plan:
        b = causal_batch([seqs[i] for i in idx])
        yield b.inputs, b.targets, b.chars, b.slots, True


def classic_batches(seqs, batch_size: int):
    """Left-padded to 125 slots; the loss covers every slot (PAD targets included), as in the classic recipe."""
    gen = torch.Generator().manual_seed(0)
    order = torch.randperm(len(seqs), generator=gen).tolist()
    for start in range(0, len(order) - batch_size + 1, batch_size):
        full = torch.zeros(batch_size, CLASSIC_SLOTS, dtype=torch.long)
        chars = 0
        for row, i in enumerate(order[start : start + batch_size]):
            seq = seqs[i]
            full[row, CLASSIC_SLOTS - len(seq) :] = torch.tensor(seq)
            chars += len(seq) - 1
        yield full[:, :-1], full[:, 1:], chars, batch_size * (CLASSIC_SLOTS - 1), False


def step(model, optimizer, inputs, targets, ignore_pad: bool, device, bf16: bool = False) -> None:
    inputs, targets = inputs.to(device, non_blocking=True), targets.to(device, non_blocking=True)
    lengths = torch.full((inputs.shape[0],), inputs.shape[1], device=device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(inputs, lengths)
    loss = F.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]),
        targets.reshape(-1),
        ignore_index=0 if ignore_pad else -100,
    )
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


def warm_up(model, optimizer, items, device, bf16: bool = False) -> None:
    """One untimed step per distinct batch shape: the CPU RNN kernels (oneDNN) and cuDNN build a plan
    the first time they see a shape, which a real run pays once and then reuses thousands of times."""
    seen = set()
    for inputs, targets, _, _, ignore in items:
        if inputs.shape not in seen:
            seen.add(inputs.shape)
            step(model, optimizer, inputs, targets, ignore, device, bf16)


def measure(model, optimizer, batches, n_steps: int, device, bf16: bool = False) -> tuple[float, float]:
    """(real chars/s, share of slots that were padding) over n_steps full training steps."""
    chars = slots = 0
    items = batches if isinstance(batches, list) else [next(batches) for _ in range(n_steps)]
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for inputs, targets, n_chars, n_slots, ignore in items:
        step(model, optimizer, inputs, targets, ignore, device, bf16)
        chars, slots = chars + n_chars, slots + n_slots
    if device.type == "cuda":
        torch.cuda.synchronize()
    return chars / (time.perf_counter() - start), 1 - chars / slots


def flops_per_slot(vocab_size: int) -> float:
    """Matmul FLOPs per processed slot for a training step: 2 per multiply-add, ×3 for fwd+bwd."""
    lstm = sum(4 * HIDDEN * ((EMBED if layer == 0 else HIDDEN) + HIDDEN) for layer in range(LAYERS))
    head = HIDDEN * vocab_size
    return 3 * 2 * (lstm + head)


def matmul_flops(device, n: int = 1024, repeat: int = 5, dtype=torch.float32) -> float:
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    times = []
    for _ in range(repeat + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(4):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - t) / 4)
    return 2 * n**3 / statistics.median(times[1:])


def load_ours(forms: str, max_len: int = 256):
    """The trainer's own data for `forms` (TrainConfig defaults: max_len 256, titles and keywords)."""
    from tangstudio.engine.training.data import load_training_data

    return load_training_data("tang", "simplified", forms, max_len, None, 500, plan=True)


def classic_seqs(forms: str, vocab) -> list[list[int]]:
    """The classic recipe's corpus: the same train split, poems of at most 125 tokens, no title."""
    from tangstudio.engine.corpus import load_corpus

    poems = load_corpus("tang", "simplified").select(forms, "train")
    return [s for s in (vocab.encode_poem(p.text, p.form) for p in poems) if len(s) <= CLASSIC_SLOTS]


def ours_batches(data, batch_size: int, budget_len: int, picks: int | None, longest: bool = False):
    """Batches of the trainer's epoch-0 plan, as `Trainer._batch` builds them (titles and keywords
    drawn): `picks` at evenly spaced quantiles of the plan's batch lengths, or (`longest`) the ones
    with the most slots."""
    from tangstudio.engine.training.batching import epoch_plan, planned_batch
    from tangstudio.engine.training.plan_data import PlanDrops, draw

    lengths = data.lengths
    plan = epoch_plan(lengths, batch_size, batch_size * budget_len, seed=0, epoch=0)
    by_len = sorted(plan, key=lambda idx: max(lengths[i] for i in idx))
    if longest:  # the most slots (poems × longest length): the heaviest batches on memory
        chosen = sorted(plan, key=lambda idx: len(idx) * max(lengths[i] for i in idx))[-(picks or 1) :]
    else:
        n = picks or len(by_len)
        chosen = [by_len[round(k * (len(by_len) - 1) / max(n - 1, 1))] for k in range(n)]
    gen = torch.Generator().manual_seed(0)
    batches = [
        planned_batch(draw([data.plans[i] for i in idx], data.vocab, PlanDrops(), gen)) for idx in chosen
    ]
    epoch_chars = sum(len(data.train[i]) - 1 for idx in plan for i in idx)
    epoch_slots = sum(len(idx) * max(lengths[i] for i in idx) for idx in plan)
    return batches, {"batches": len(plan), "chars": epoch_chars, "max_slots": epoch_slots}


def ours_step(model, optimizer, batch, head) -> None:
    from tangstudio.engine.training.step import train_step

    train_step(model, optimizer, batch, 1.0, False, 1.0 / max(batch.chars, 1), head)


def time_ours(model, optimizer, batches, head) -> tuple[float, float]:
    """(real chars/s, share of input slots that were padding) over one pass of `batches`."""
    start = time.perf_counter()
    for batch in batches:
        ours_step(model, optimizer, batch, head)
    elapsed = time.perf_counter() - start
    chars, slots, real = (sum(getattr(b, k) for b in batches) for k in ("chars", "slots", "real_slots"))
    return chars / elapsed, 1 - real / slots


def head_of(loss_chunk: int, head_bf16: str):
    from tangstudio.engine.training.config import TrainConfig
    from tangstudio.engine.training.step import head_settings

    return head_settings(TrainConfig(loss_chunk=loss_chunk, head_bf16=head_bf16), torch.device("cpu"))


def peak_rss_child(data, batch_size: int, budget_len: int, head, longest: int = 3) -> float:
    """Peak RSS (MB, ru_maxrss: data included) of a forked child that trains our recipe's
    `longest` longest batches: the worst an epoch of this shape asks of memory."""
    import os
    import resource

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a fresh model, the longest batches, its own peak
        try:
            model, optimizer = make_model(len(data.vocab), torch.device("cpu"))
            for batch in ours_batches(data, batch_size, budget_len, longest, longest=True)[0]:
                ours_step(model, optimizer, batch, head)
            os.write(write, str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024).encode())
        finally:
            os._exit(0)
    os.close(write)
    out = os.read(read, 64).decode()
    os.waitpid(pid, 0)
    return float(out) if out else float("nan")


def run(
    forms: str = "regulated",
    rounds: int = 2,
    picks: int = 6,
    batch_size: int = 128,
    budget_len: int = 96,
    loss_chunk: int = 4096,
    head_bf16: str = "auto",
    rss: bool = False,
    classic_steps: int = 3,
    variants_wanted: dict[str, tuple[int, str]] | None = None,
) -> dict:
    """Both recipes on the CPU, rounds alternating; the figures of one forms' row."""
    from tangstudio.engine.training.memory import tame_cpu_memory

    # as `tangstudio train` runs (TANGSTUDIO_KEEP_ALLOCATOR=1: as before, for comparison)
    tame_cpu_memory(forms)
    dev = torch.device("cpu")
    data = load_ours(forms)
    head = head_of(loss_chunk, head_bf16)
    peak = peak_rss_child(data, batch_size, budget_len, head) if rss else None
    seqs = classic_seqs(forms, data.vocab)
    model, optimizer = make_model(len(data.vocab), dev)
    ours, epoch = ours_batches(data, batch_size, budget_len, picks)
    classic_it = classic_batches(seqs, batch_size)
    classic = [[next(classic_it) for _ in range(classic_steps)] for _ in range(rounds)]
    for batch in ours:  # one untimed step per shape: oneDNN builds a plan per shape, once per run
        ours_step(model, optimizer, batch, head)
    warm_up(model, optimizer, [item for chunk in classic for item in chunk], dev)
    rates: dict[str, list[float]] = {"ours": [], "classic": []}
    pads: dict[str, list[float]] = {"ours": [], "classic": []}
    for r in range(rounds):
        rate, pad = time_ours(model, optimizer, ours, head)
        rates["ours"].append(rate)
        pads["ours"].append(pad)
        rate, pad = measure(model, optimizer, classic[r], classic_steps, dev)
        rates["classic"].append(rate)
        pads["classic"].append(pad)
    variants = {}
    for name, (chunk, bf) in (variants_wanted or {}).items():  # the levers one by one, one round each
        other = head_of(chunk, bf)
        ours_step(model, optimizer, ours[0], other)
        variants[name] = time_ours(model, optimizer, ours, other)[0]
    flops = matmul_flops(dev)
    per_char = flops_per_slot(len(data.vocab))
    ours_rate, classic_rate = statistics.median(rates["ours"]), statistics.median(rates["classic"])
    ours_pad, classic_pad = statistics.mean(pads["ours"]), statistics.mean(pads["classic"])
    return {
        "forms": forms,
        "poems": len(data.train),
        "classic_poems": len(seqs),
        "dropped": data.dropped,
        "vocab": len(data.vocab),
        "device": "cpu",
        "batch": batch_size,
        "budget_len": budget_len,
        "loss_chunk": loss_chunk,
        "head_bf16": head.bf16,
        "picks": len(ours),
        "epoch_batches": epoch["batches"],
        "ours_chars_s": ours_rate,
        "classic_chars_s": classic_rate,
        "ours_rounds": rates["ours"],
        "classic_rounds": rates["classic"],
        "ratio": ours_rate / classic_rate,
        "ours_pad": ours_pad,
        "classic_pad": classic_pad,
        "peak_rss_mb": peak,
        "variants": variants,
        "flops_per_char": per_char,
        "useful_flops": per_char * ours_rate,
        "matmul_flops": flops,
    }


def rows(quick: bool = False) -> list[Row]:
    r = run(rounds=1 if quick else 2, picks=4 if quick else 6)
    return [
        Row(
            "train chars/s, trainer's recipe (emb 128, 2×LSTM 256, batch 128)",
            r["ours_chars_s"],
            "chars/s",
            "classic left-padded to 125",
            r["classic_chars_s"],
            "≥ 2×",
        ),
        Row(
            "useful model FLOP/s in training",
            r["useful_flops"] / 1e9,
            "GFLOP/s",
            "plain 1024² matmul (fp32)",
            r["matmul_flops"] / 1e9,
        ),
    ]


def print_table(r: dict) -> None:
    print(f"machine: {machine()}")
    print(
        f"corpus: tang, forms {r['forms']}, vocab {r['vocab']:,}; device {r['device']}, batch {r['batch']}; "
        f"ours: {r['poems']:,} train poems ≤ 256 tokens with titles and keywords ({r['dropped']:,} longer left out), "
        f"--budget-len {r['budget_len']}, --loss-chunk {r['loss_chunk']}, bf16 head {'on' if r['head_bf16'] else 'off'}, "
        f"{r['picks']} of the epoch's {r['epoch_batches']} batches at length quantiles; "
        f"classic: {r['classic_poems']:,} train poems ≤ {CLASSIC_SLOTS} tokens"
    )
    print(f"{'recipe':<44}{'real chars/s':>14}{'padding':>10}   rounds")
    rounds = ", ".join(f"{x:,.0f}" for x in r["classic_rounds"])
    print(
        f"{'classic (left-pad to 125, all slots, fp32)':<44}{r['classic_chars_s']:>14,.0f}{r['classic_pad']:>10.1%}   {rounds}"
    )
    rounds = ", ".join(f"{x:,.0f}" for x in r["ours_rounds"])
    print(
        f"{'ours (the trainer: budgets, scored rows)':<44}{r['ours_chars_s']:>14,.0f}{r['ours_pad']:>10.1%}   {rounds}"
    )
    for name, rate in r["variants"].items():
        print(f"{'  ours, ' + name:<44}{rate:>14,.0f}{'':>10}   1 round, same batches")
    print(f"ratio ours / classic: {r['ratio']:.2f}×  (target ≥ 2.5× on all)")
    if r["peak_rss_mb"] is not None:
        print(
            f"peak RSS, ours on its 3 longest batches (forked child, data included): {r['peak_rss_mb']:,.0f} MB"
        )
    print(f"model FLOPs per char (fwd+bwd matmuls): {r['flops_per_char'] / 1e6:.2f} MFLOP")
    print(
        f"useful FLOP/s (per real char × chars/s): {r['useful_flops'] / 1e9:.2f} GFLOP/s; "
        f"plain fp32 matmul (1024×1024) in this run: {r['matmul_flops'] / 1e9:.2f} GFLOP/s"
    )


def gpu_vs_cpu(
    gpu_batch: int = 512,
    gpu_steps: int = 30,
    cpu_batch: int = 128,
    cpu_steps: int = 2,
    forms: str = "regulated",
) -> dict:
    """Bucketed training chars/s on CUDA (bf16 autocast, large batch) vs the same model on this CPU."""
    vocab, seqs = load(forms)
    out = {"forms": forms, "poems": len(seqs), "vocab": len(vocab)}
    for name, device, batch, n_steps, bf16 in (
        ("gpu", "cuda", gpu_batch, gpu_steps, True),
        ("cpu", "cpu", cpu_batch, cpu_steps, False),
    ):
        dev = torch.device(device)
        model, optimizer = make_model(len(vocab), dev)
        batches = bucketed_batches(seqs * 8, batch)
        items = [next(batches) for _ in range(n_steps)]
        warm_up(model, optimizer, items, dev, bf16)
        rate, pad = measure(model, optimizer, items, n_steps, dev, bf16)
        out[name] = {
            "device": device,
            "batch": batch,
            "bf16": bf16,
            "chars_s": rate,
            "pad": pad,
            "matmul_flops": matmul_flops(
                dev, 4096 if name == "gpu" else 1024, dtype=torch.bfloat16 if bf16 else torch.float32
            ),
        }
    out["ratio"] = out["gpu"]["chars_s"] / out["cpu"]["chars_s"]
    out["flops_per_char"] = flops_per_slot(len(vocab))
    return out


def print_gpu_table(r: dict) -> None:
    print(f"machine: {machine()} · GPU {torch.cuda.get_device_name(0)}")
    print(
        f"model: emb {EMBED}, {LAYERS}×LSTM {HIDDEN}, vocab {r['vocab']:,}; length-bucketed training, forms {r['forms']}"
    )
    print(
        f"{'device':<8}{'batch':>7}{'precision':>11}{'real chars/s':>15}{'padding':>9}{'useful TFLOP/s':>16}{'matmul TFLOP/s':>16}"
    )
    for name in ("gpu", "cpu"):
        d = r[name]
        useful = r["flops_per_char"] * d["chars_s"] / 1e12
        print(
            f"{d['device']:<8}{d['batch']:>7}{'bf16' if d['bf16'] else 'fp32':>11}{d['chars_s']:>15,.0f}"
            f"{d['pad']:>9.1%}{useful:>16.3f}{d['matmul_flops'] / 1e12:>16.3f}"
        )
    print(f"ratio GPU / CPU: {r['ratio']:.1f}×")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", default="regulated", help="regulated, all, or several: regulated,all")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batches", type=int, default=6, help="our batches timed, at length quantiles")
    parser.add_argument("--classic-steps", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--budget-len", type=int, default=96)
    parser.add_argument("--loss-chunk", type=int, default=4096)
    parser.add_argument("--head-bf16", default="auto")
    parser.add_argument("--rss", action="store_true", help="also the peak RSS of our longest batches")
    parser.add_argument(
        "--levers",
        action="store_true",
        help="also ours with the head in fp32, and with the plain full-logits head",
    )
    parser.add_argument(
        "--gpu-vs-cpu", action="store_true", help="CUDA (bf16, batch 512) vs CPU (batch 128), same run"
    )
    args = parser.parse_args()
    if args.gpu_vs_cpu:
        print_gpu_table(gpu_vs_cpu(forms=args.forms))
    else:
        for forms in args.forms.split(","):
            print_table(
                run(
                    forms, args.rounds, args.batches, args.batch_size, args.budget_len, args.loss_chunk,
                    args.head_bf16, args.rss, args.classic_steps, LEVERS if args.levers else None,
                )
            )  # fmt: skip
            print(flush=True)
