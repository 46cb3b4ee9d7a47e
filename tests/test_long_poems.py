"""Issue 24 part 2: token-budget batches, the chunked (bf16) head+loss, and exact resume with both."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tangstudio.engine.corpus.vocab import PAD
from tangstudio.engine.errors import TangError
from tangstudio.engine.models import ModelConfig, build_model
from tangstudio.engine.training import TrainConfig, train
from tangstudio.engine.training.batching import (
    causal_batch,
    epoch_plan,
    min_poems,
    plan_epoch,
    plan_epoch_tokens,
    shard,
)
from tangstudio.engine.training.head_loss import head_loss
from tangstudio.engine.training.step import HeadSettings, step_loss


def lengths_with_long_tail(n: int = 900) -> list[int]:
    """Mostly short poems and a tail of long ones, like `--forms all`."""
    return [20 + (i * 37) % 60 if i % 10 else 100 + (i * 53) % 157 for i in range(n)]


@pytest.mark.parametrize("world", [1, 3])
def test_token_plan_covers_every_poem_once_within_the_budget(world):
    lengths = lengths_with_long_tail()
    plan = plan_epoch_tokens(lengths, 32, 32 * 64, seed=5, epoch=2, world=world)
    seen = sorted(i for batch in plan for i in batch)
    assert seen == list(range(len(lengths)))  # every poem, exactly once
    floor = min_poems(32)
    for batch in plan:
        assert len(batch) >= floor and all(shard(batch, r, world) for r in range(world))
        longest = max(lengths[i] for i in batch)
        # within the poem cap and the budget (it leaves room for twice the floor of the longest poems)
        assert len(batch) <= 32 and len(batch) * longest <= 32 * 64
    sizes = {len(b) for b in plan}
    assert 32 in sizes and min(sizes) < 32  # short poems fill the cap, long ones fewer per batch


def test_token_plan_is_the_same_for_any_number_of_processes_and_refuses_too_many():
    lengths = lengths_with_long_tail()
    assert plan_epoch_tokens(lengths, 32, 2048, 1, 0, world=1) == plan_epoch_tokens(
        lengths, 32, 2048, 1, 0, world=4
    )
    with pytest.raises(TangError, match="too few for 5 processes"):
        plan_epoch_tokens(lengths, 32, 2048, 1, 0, world=5)


def test_token_plan_is_a_function_of_seed_and_epoch():
    lengths = lengths_with_long_tail()
    plan = plan_epoch_tokens(lengths, 32, 2048, seed=5, epoch=2)
    assert plan == plan_epoch_tokens(list(lengths), 32, 2048, seed=5, epoch=2)
    assert plan != plan_epoch_tokens(lengths, 32, 2048, seed=5, epoch=3)
    assert plan != plan_epoch_tokens(lengths, 32, 2048, seed=6, epoch=2)
    # no budget: the poem-count plan, unchanged (old runs resume exactly)
    assert epoch_plan(lengths, 32, 0, 5, 2) == plan_epoch(lengths, 32, 5, 2)
    assert epoch_plan(lengths, 32, 2048, 5, 2) == plan


def test_a_budget_bounds_the_slots_of_long_batches():
    lengths = lengths_with_long_tail()
    old = plan_epoch(lengths, 32, seed=0, epoch=0)
    new = plan_epoch_tokens(lengths, 32, 32 * 64, seed=0, epoch=0)
    slots = [len(b) * max(lengths[i] for i in b) for b in new]
    assert max(slots) <= 32 * 64 < max(len(b) * max(lengths[i] for i in b) for b in old)


def rows(n: int, hidden: int, vocab: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    h = torch.tanh(torch.randn(n, hidden, generator=gen))
    weight = torch.randn(vocab, hidden, generator=gen) * 0.3
    bias = torch.randn(vocab, generator=gen) * 0.1
    targets = torch.randint(1, vocab, (n,), generator=gen)
    targets[::5] = PAD  # padding, titles and keywords: read, never scored
    return h, weight, bias, targets


def grads(fn, h, weight, bias):
    h, weight, bias = (t.clone().requires_grad_(True) for t in (h, weight, bias))
    loss = fn(h, weight, bias)
    (loss * 0.37).backward()  # a scale, as the trainer's 1/chars
    return loss.detach(), h.grad, weight.grad, bias.grad


def reference(h, weight, bias, targets):
    return F.cross_entropy(F.linear(h, weight, bias), targets, ignore_index=PAD, reduction="sum")


@pytest.mark.parametrize("chunk", [1, 7, 64, 10_000])
def test_chunked_head_loss_is_the_cross_entropy_and_its_gradient(chunk):
    h, weight, bias, targets = rows(150, 12, 40)
    want = grads(lambda a, w, b: reference(a, w, b, targets), h, weight, bias)
    got = grads(lambda a, w, b: head_loss(a, w, b, targets, chunk, bf16=False)[0], h, weight, bias)
    assert head_loss(h, weight, bias, targets, chunk)[1] == int((targets != PAD).sum())
    for x, y in zip(got, want):
        assert torch.allclose(x, y, rtol=1e-5, atol=1e-5)


def test_bf16_head_loss_stays_within_a_tolerance_of_fp32():
    h, weight, bias, targets = rows(600, 32, 300, seed=1)
    want = grads(lambda a, w, b: reference(a, w, b, targets), h, weight, bias)
    got = grads(lambda a, w, b: head_loss(a, w, b, targets, 128, bf16=True)[0], h, weight, bias)
    chars = int((targets != PAD).sum())
    assert abs(got[0] - want[0]) / chars < 0.01  # nats per character
    assert not torch.equal(got[0], want[0])  # it did run in bf16
    for x, y in zip(got[1:], want[1:]):
        assert (x - y).norm() / y.norm() < 0.02


@pytest.mark.parametrize("arch,tied", [("lstm", False), ("gru", True), ("bilstm", False)])
def test_a_models_step_loss_matches_its_logits(arch, tied):
    torch.manual_seed(0)
    model = build_model(
        ModelConfig(arch=arch, vocab_size=30, embed=8, hidden=12, layers=1, dropout=0.0, tied=tied)
    )
    batch = causal_batch([[5, 9, 10, 11, 3], [6, 12, 3], [5, *range(7, 29), 3]])
    plain = step_loss(model, batch, bf16=False)
    chunked = step_loss(model, batch, bf16=False, head=HeadSettings(chunk=4))
    assert torch.allclose(plain, chunked, rtol=1e-5)
    bf16 = step_loss(model, batch, bf16=False, head=HeadSettings(chunk=4, bf16=True))
    assert abs(float((bf16 - plain).detach())) / batch.chars < 0.01


def test_a_batch_moved_to_a_device_brings_its_scored_slots_and_the_step_reads_them():
    """The trainer moves each batch with `to` (pinned first on CUDA): the scored slots travel with it,
    found on the CPU, and the chunked head scores exactly those rows."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch="lstm", vocab_size=30, embed=8, hidden=12, layers=1, dropout=0.0))
    batch = causal_batch([[5, 9, 10, 11, 3], [6, 12, 3], [5, *range(7, 29), 3]])
    moved = batch.to(torch.device("cpu"))
    assert moved.scored is not None
    assert moved.scored.tolist() == (batch.targets.reshape(-1) != PAD).nonzero().squeeze(1).tolist()
    head = HeadSettings(chunk=4)
    assert torch.allclose(step_loss(model, moved, False, head), step_loss(model, batch, False, head))
    # Half of the slots given: the step scores those alone, so it read what came with the batch.
    half = causal_batch([[5, 9, 10, 11, 3], [6, 12, 3], [5, *range(7, 29), 3]])
    half.scored = moved.scored[::2]
    features, weight, bias = model(half.inputs, half.lengths, features=True)
    want = head_loss(features, weight, bias, half.targets, 4, scored=moved.scored[::2])
    assert want[1] == len(moved.scored[::2]) < batch.chars
    assert torch.allclose(step_loss(model, half, False, head), want[0])


def test_long_poem_options_are_checked():
    for options, message in (
        ({"budget_len": -1}, "--budget-len"),
        ({"loss_chunk": -5}, "--loss-chunk"),
        ({"head_bf16": "yes"}, "--head-bf16"),
        ({"head_bf16": "on", "loss_chunk": 0}, "--loss-chunk"),
    ):
        with pytest.raises(TangError, match=message):
            TrainConfig(run="x", **options).validate()


def test_a_config_stored_before_the_options_resumes_as_it_was_trained():
    stored = {k: v for k, v in TrainConfig(run="old").to_dict().items()}
    for name in ("budget_len", "loss_chunk", "head_bf16"):
        del stored[name]
    old = TrainConfig.from_dict(stored)
    assert (old.budget_len, old.loss_chunk, old.head_bf16) == (0, 0, "off")
    new = TrainConfig.from_dict(TrainConfig(run="new").to_dict())
    assert (new.budget_len, new.loss_chunk, new.head_bf16) == (96, 4096, "auto")


def tiny(corpus: str, **overrides) -> TrainConfig:
    base = dict(
        corpus=corpus, embed=16, hidden=24, layers=2, dropout=0.2, batch_size=16, eval_every=1000,
        log_every=3, samples=0, warmup=2,
    )  # fmt: skip
    base.update(overrides)
    return TrainConfig(**base)


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [
        {"budget_len": 24, "loss_chunk": 50, "head_bf16": "on"},  # small budgets: batch sizes vary
        {"budget_len": 0, "loss_chunk": 0, "head_bf16": "off"},  # the old path
    ],
)
def test_resume_is_exact_with_the_long_poem_options(tiny_corpus, options):
    from tangstudio.engine.runs import load_checkpoint

    torch.set_num_threads(1)
    n = 9
    whole = train(tiny(tiny_corpus, steps=2 * n, run="whole", **options))
    assert whole.status == "finished"
    calls = {"n": 0}

    def stop_after_n() -> bool:
        calls["n"] += 1
        return calls["n"] >= n

    half = train(tiny(tiny_corpus, steps=2 * n, run="split", **options), should_stop=stop_after_n)
    assert half.status == "interrupted" and half.step == n
    resumed = train(TrainConfig(run="split", resume=True))
    assert resumed.status == "finished" and resumed.step == 2 * n
    a = load_checkpoint("whole", which="last").model.state_dict()
    b = load_checkpoint("split", which="last").model.state_dict()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6, rtol=0), key


@pytest.mark.parametrize("arch", ["lstm", "bilstm"])
def test_evaluation_sums_the_same_nats_without_the_full_logits(arch):
    from tangstudio.engine.training.evaluate import loss_sums

    torch.manual_seed(0)
    model = build_model(ModelConfig(arch=arch, vocab_size=30, embed=8, hidden=12, layers=1, dropout=0.3))
    seqs = [[5, 9, 10, 11, 3], [6, 12, 3], [5, *range(7, 29), 3], [6, 20, 21, 3]]
    nats, count = loss_sums(model, seqs, max_tokens=40)
    assert model.training  # the caller's mode restored
    model.eval()
    want, n = 0.0, 0
    for seq in seqs:  # one poem at a time, full logits
        if model.causal:
            batch = causal_batch([seq])
            inputs, targets = batch.inputs, batch.targets
        else:
            inputs = torch.tensor([seq])
            targets = inputs.clone()
            targets[:, 0] = PAD
        with torch.no_grad():
            logits = model(inputs, torch.tensor([inputs.shape[1]]))
        want += float(F.cross_entropy(logits[0], targets[0], ignore_index=PAD, reduction="sum"))
        n += int((targets != PAD).sum())
    assert count == n and abs(nats - want) < 1e-4 * want
