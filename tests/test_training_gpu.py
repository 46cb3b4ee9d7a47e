"""The GPU path: CUDA device, bf16 autocast, cuDNN kernels. Skipped without a CUDA GPU
(benchmarks/gpu_check.sh runs these on a GPU machine)."""

from __future__ import annotations

import math

import pytest
import torch

from tangstudio.engine.errors import TangError
from tangstudio.engine.training.device import resolve_device

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def tiny(corpus: str, **overrides):
    from tangstudio.engine.training import TrainConfig

    base = dict(
        corpus=corpus,
        embed=32,
        hidden=64,
        layers=2,
        dropout=0.1,
        batch_size=32,
        eval_every=10,
        log_every=5,
        samples=1,
        device="cuda",
    )
    base.update(overrides)
    return TrainConfig(**base)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error when CUDA is absent")
def test_asking_for_an_absent_gpu_is_one_clear_error():
    with pytest.raises(TangError, match="no CUDA GPU"):
        resolve_device("cuda")
    assert resolve_device("auto").type in ("cpu", "mps")


@needs_cuda
def test_auto_picks_cuda():
    assert resolve_device("auto").type == "cuda"


@needs_cuda
@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn", "bilstm"])
def test_cuda_bf16_training_and_the_checkpoint_on_cpu(tiny_corpus, arch):
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.runs import load_checkpoint
    from tangstudio.engine.training import train
    from tangstudio.engine.training.evaluate import evaluate

    result = train(tiny(tiny_corpus, arch=arch, steps=20, run=f"gpu-{arch}"))
    assert result.status == "finished" and math.isfinite(result.best_val_loss)
    val = load_corpus(tiny_corpus, "simplified").select("regulated", "val")
    on_cpu = evaluate(load_checkpoint(f"gpu-{arch}", device="cpu"), poems=val)
    on_gpu = evaluate(load_checkpoint(f"gpu-{arch}", device="cuda"), poems=val)  # fp32 on the GPU
    assert abs(on_cpu["loss"] - on_gpu["loss"]) < 1e-3
    assert abs(on_cpu["loss"] - result.best_val_loss) < 0.05  # the run evaluated under bf16 autocast


@needs_cuda
def test_cuda_resume_and_sampling(tiny_corpus):
    from tangstudio.engine.runs import load_checkpoint
    from tangstudio.engine.training import TrainConfig, train
    from tangstudio.engine.training.sample import sample_poems

    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] >= 5

    half = train(tiny(tiny_corpus, steps=12, run="gpu-resume"), should_stop=stop)
    assert half.status == "interrupted" and half.step == 5
    done = train(TrainConfig(run="gpu-resume", resume=True))
    assert done.status == "finished" and done.step == 12
    loaded = load_checkpoint("gpu-resume", device="cuda")
    texts = sample_poems(loaded.model, loaded.vocab, ["wujue", "qilv"], device="cuda")
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=needs_cuda)])
@pytest.mark.parametrize(("arch", "weight_drop"), [("lstm", 0.0), ("lstm", 0.15), ("bilstm", 0.0)])
def test_the_recurrence_runs_in_fp32_under_bf16_autocast(device, arch, weight_drop):
    """Autocast would send a cuDNN LSTM to fp16 (not bf16), where unscaled gradients underflow, and a
    CPU LSTM to oneDNN's bf16, which many CPUs lack: the recurrent layers must see fp32, and the
    gradient must reach their weights, while the output layer stays in bf16."""
    from tangstudio.engine.models import ModelConfig, build_model

    config = ModelConfig(arch=arch, vocab_size=50, embed=16, hidden=32, layers=1, weight_drop=weight_drop)
    model = build_model(config).to(device).train()
    stack = model.rnn if arch == "lstm" else model.forward_lstm
    seen: list[torch.dtype] = []
    stack.register_forward_hook(lambda _module, _inputs, output: seen.append(output[0].dtype))
    with torch.autocast(device, dtype=torch.bfloat16):
        logits = model(torch.randint(4, 50, (3, 9), device=device))
    assert seen == [torch.float32] and logits.dtype == torch.bfloat16
    logits.float().sum().backward()
    grads = [p.grad for name, p in stack.named_parameters() if "weight_hh" in name]
    assert grads and all(g is not None and g.dtype == torch.float32 and g.abs().sum() > 0 for g in grads)
