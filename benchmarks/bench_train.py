"""Training throughput: our length-bucketed batches vs the classic padded recipe, same run, same model.

Model: the classic recipe's size — embedding 128, 2×LSTM 256, batch 128 — on the bundled corpus.
Classic recipe: every poem left-padded to 125 slots and the loss taken over every slot, padding
included. Ours: length buckets, right padding, padding ignored by the loss. Both count only REAL
characters (body + punctuation + end token) per second of full training steps (forward, backward,
clipping, AdamW). Rounds alternate between the two so a noisy shared machine hurts both alike.

Also: model FLOPs per character × chars/s against a plain matmul's FLOP/s measured in this run,
i.e. how much of the machine's dense-matmul speed the training step turns into useful work.

    .venv/bin/python benchmarks/bench_train.py [--forms regulated|all] [--rounds 2] [--steps 2] [--device cpu|cuda]
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


def run(
    forms: str = "regulated",
    rounds: int = 2,
    steps: int = 2,
    batch_size: int = 128,
    device: str = "cpu",
    bf16: bool = False,
) -> dict:
    dev = torch.device(device)
    vocab, seqs = load(forms)
    model, optimizer = make_model(len(vocab), dev)
    ours_it, classic_it = bucketed_batches(seqs, batch_size), classic_batches(seqs, batch_size)
    plan = {
        "ours": [[next(ours_it) for _ in range(steps)] for _ in range(rounds)],
        "classic": [[next(classic_it) for _ in range(steps)] for _ in range(rounds)],
    }
    for name in plan:
        warm_up(model, optimizer, [item for chunk in plan[name] for item in chunk], dev, bf16)
    rates: dict[str, list[float]] = {"ours": [], "classic": []}
    pads: dict[str, list[float]] = {"ours": [], "classic": []}
    for r in range(rounds):
        for name in ("ours", "classic"):
            rate, pad = measure(model, optimizer, plan[name][r], steps, dev, bf16)
            rates[name].append(rate)
            pads[name].append(pad)
    peak = matmul_flops(dev, dtype=torch.bfloat16 if bf16 else torch.float32)
    per_char = flops_per_slot(len(vocab))
    ours_rate, classic_rate = statistics.median(rates["ours"]), statistics.median(rates["classic"])
    ours_pad, classic_pad = statistics.mean(pads["ours"]), statistics.mean(pads["classic"])
    return {
        "forms": forms,
        "poems": len(seqs),
        "vocab": len(vocab),
        "device": device,
        "batch": batch_size,
        "ours_chars_s": ours_rate,
        "classic_chars_s": classic_rate,
        "ratio": ours_rate / classic_rate,
        "ours_pad": ours_pad,
        "classic_pad": classic_pad,
        "flops_per_char": per_char,
        "ours_flops": per_char * ours_rate / (1 - ours_pad),
        "useful_flops": per_char * ours_rate,
        "matmul_flops": peak,
    }


def rows(quick: bool = False) -> list[Row]:
    r = run(rounds=1 if quick else 2)
    return [
        Row(
            "train chars/s, bucketed (emb 128, 2×LSTM 256, batch 128)",
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
            "plain 1024² matmul",
            r["matmul_flops"] / 1e9,
        ),
    ]


def print_table(r: dict) -> None:
    print(f"machine: {machine()}")
    print(
        f"corpus: tang, forms {r['forms']}, {r['poems']:,} train poems ≤ {CLASSIC_SLOTS} tokens, vocab {r['vocab']:,}; "
        f"device {r['device']}, batch {r['batch']}"
    )
    print(f"{'recipe':<34}{'real chars/s':>14}{'padding':>10}")
    print(
        f"{'classic (left-pad to 125, all slots)':<34}{r['classic_chars_s']:>14,.0f}{r['classic_pad']:>10.1%}"
    )
    print(f"{'ours (length buckets, pad ignored)':<34}{r['ours_chars_s']:>14,.0f}{r['ours_pad']:>10.1%}")
    print(f"ratio ours / classic: {r['ratio']:.2f}×  (target ≥ 2×)")
    print(f"model FLOPs per char (fwd+bwd matmuls): {r['flops_per_char'] / 1e6:.2f} MFLOP")
    print(
        f"useful FLOP/s (per real char × chars/s): {r['useful_flops'] / 1e9:.2f} GFLOP/s; "
        f"incl. padding slots: {r['ours_flops'] / 1e9:.2f} GFLOP/s"
    )
    print(
        f"plain matmul (1024×1024) in this run:   {r['matmul_flops'] / 1e9:.2f} GFLOP/s "
        f"→ utilisation {r['useful_flops'] / r['matmul_flops']:.0%}"
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
    parser.add_argument("--forms", default="regulated")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument(
        "--gpu-vs-cpu", action="store_true", help="CUDA (bf16, batch 512) vs CPU (batch 128), same run"
    )
    args = parser.parse_args()
    if args.gpu_vs_cpu:
        print_gpu_table(gpu_vs_cpu(forms=args.forms))
    else:
        print_table(run(args.forms, args.rounds, args.steps, args.batch_size, args.device, args.bf16))
