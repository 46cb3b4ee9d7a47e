"""How fast this machine trains a configuration, measured with the trainer's own step.

The model pane shows "chars/s here" before a run starts. The number means something only if it
is the trainer's speed, so the model comes from `TrainConfig.model_config()` (forget bias, tied
head and implementation included), the optimizer from `make_optimizer` and each step from
`train_step` (bf16, clipping, weight decay), on batches of made-up poems of a typical length.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from tangstudio.engine.corpus.vocab import EOS
from tangstudio.engine.training.batching import Batch, causal_batch, masked_batch
from tangstudio.engine.training.config import TrainConfig

WARM_UP_STEPS = 3  # untimed: the first steps pay for allocation and kernel choice
SPEED_LENGTH = 40  # start + characters + end: a 七绝 with both tokens is 34 long, a 五律 42
FIRST_CHAR_ID = 5  # ids below are <pad> <unk> <bos> <eos> <mask>; start tokens and characters follow


@dataclass(frozen=True)
class Speed:
    chars_per_s: float  # predicted characters (the loss's count) per second of training steps
    params: int
    steps: int  # timed steps, after WARM_UP_STEPS untimed ones (the speed is the median step's)
    device: str


def train_vocab_size(config: TrainConfig) -> int:
    """The vocabulary a run of `config` would build from its training split."""
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.models.archs import is_causal

    poems = load_corpus(config.corpus, config.script).select(config.forms, "train")
    markers = config.plan and is_causal(config.arch)  # as the trainer builds it: <title>, <kw> to read a plan
    return len(Vocab.build((p.text for p in poems), config.script, markers=markers))


def _made_up_batch(config: TrainConfig, vocab_size: int, causal: bool, gen: torch.Generator) -> Batch:
    body = torch.randint(FIRST_CHAR_ID, vocab_size, (config.batch_size, SPEED_LENGTH - 2), generator=gen)
    seqs = [[FIRST_CHAR_ID, *row, EOS] for row in body.tolist()]
    if causal:
        return causal_batch(seqs)
    return masked_batch(seqs, gen, config.mask_min, config.mask_max)


def measure_speed(
    config: TrainConfig,
    vocab_size: int | None = None,
    seconds: float = 1.0,
    max_steps: int = 50,
) -> Speed:
    """Time the trainer's step on `config` for about `seconds` (at least 2, at most `max_steps` steps)."""
    from tangstudio.engine.models import build_model, count_parameters
    from tangstudio.engine.training.device import resolve_device, uses_bf16
    from tangstudio.engine.training.step import head_settings, make_optimizer, train_step

    config.validate()
    vocab_size = vocab_size if vocab_size is not None else train_vocab_size(config)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    model = build_model(config.model_config(vocab_size)).to(device)
    model.train()
    optimizer = make_optimizer(model.parameters(), config, device)
    bf16 = uses_bf16(device)
    batch = _made_up_batch(config, vocab_size, model.causal, torch.Generator().manual_seed(config.seed))
    batch = batch.to(device)
    scale = 1.0 / max(batch.chars, 1)
    head = head_settings(config, device)

    def step() -> None:
        train_step(model, optimizer, batch, config.clip, bf16, scale, head)

    for _ in range(WARM_UP_STEPS):  # allocation, kernel choice, oneDNN's first primitives
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start, times = time.perf_counter(), list[float]()
    while len(times) < 2 or (time.perf_counter() - start < seconds and len(times) < max_steps):
        began = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - began)
    # The median step, not the mean: a step slowed by something else on the machine (the studio
    # loading a model in a thread at launch) made the first estimate 5–18× too low (a TUI review).
    median = sorted(times)[len(times) // 2]
    return Speed(batch.chars / median, count_parameters(model), len(times), str(device))
