"""Length-bucket batching: poems of similar length share a batch, so almost no slot is padding.

Each epoch the poems are shuffled, cut into pools of `pool_batches` global batches, and sorted by
length inside each pool; consecutive poems of a pool form a batch, and the batch order is
shuffled. Everything is drawn from a generator seeded by (seed, epoch), so a resumed run can
rebuild the epoch's plan and skip to where it stopped. Under DDP every rank builds the same global
plan and takes its own stride of each batch (its shard of the bucket), so the global batch — and
so the gradient — is the same whatever the number of processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import torch

from tangstudio.engine.corpus.vocab import MASK, PAD
from tangstudio.engine.errors import TangError


def plan_epoch(
    lengths: list[int], batch_size: int, seed: int, epoch: int, world: int = 1, pool_batches: int = 50
) -> list[list[int]]:
    """Global batches (lists of sequence indices) for one epoch, each of exactly `batch_size`."""
    gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(len(lengths), generator=gen).tolist()
    pool = batch_size * pool_batches
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    if batch_size < world:
        raise ValueError(f"a global batch of {batch_size} cannot be shared by {world} processes")
    shuffled = torch.randperm(len(batches), generator=gen).tolist()
    # The epoch's one partial batch is left out (a different one each epoch), so every global
    # batch — and the plan — is the same whatever the number of processes.
    return [batches[i] for i in shuffled if len(batches[i]) == batch_size]


def min_poems(batch_size: int) -> int:
    """The fewest poems a token budget leaves in a batch: an eighth of batch_size, so a run of up to
    that many processes can share every batch. It depends on batch_size alone, so the plan is the
    same for any number of processes."""
    return max(1, batch_size // 8)


def plan_epoch_tokens(
    lengths: list[int],
    batch_size: int,
    tokens: int,
    seed: int,
    epoch: int,
    world: int = 1,
    pool_batches: int = 50,
) -> list[list[int]]:
    """Global batches for one epoch, each of at most `batch_size` poems and at most `tokens` slots
    (poems × the longest poem's length), but never fewer than `min_poems(batch_size)` poems, so a
    batch of long poems costs about what a batch of short ones does, in time and in memory
    (issue 24: 128 poems of 255 tokens held 5.4 GB).

    The same shuffle and length-sorted pools as `plan_epoch`, from the same (seed, epoch) generator,
    so a resumed run rebuilds it exactly; unlike it, every poem is in exactly one batch (batches
    differ in size anyway): a pool's last batch, if under the floor, is redrawn with the one before
    it into two batches that both keep the floor and the budget.
    """
    floor = min_poems(batch_size)
    if floor < world:
        raise TangError(
            f"a token budget keeps at least {floor} poems (an eighth of --batch-size {batch_size}) in a "
            f"batch, too few for {world} processes; raise --batch-size or set --budget-len 0"
        )
    gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(len(lengths), generator=gen).tolist()
    pool = batch_size * pool_batches
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        first = len(batches)
        batch: list[int] = []
        for i in sorted(order[start : start + pool], key=lambda i: lengths[i]):
            # ascending, so poem i is the longest of its batch so far
            if len(batch) == batch_size or (len(batch) >= floor and (len(batch) + 1) * lengths[i] > tokens):
                batches.append(batch)
                batch = []
            batch.append(i)
        if len(batch) < floor and len(batches) > first:  # too short: redraw the last two batches
            both = batches.pop() + batch
            fits = min(batch_size, max(floor, tokens // lengths[both[-1]]), len(both) - floor)
            batches.extend([both] if fits < floor else [both[:-fits], both[-fits:]])
        else:
            batches.append(batch)
    if any(len(b) < world for b in batches):
        raise TangError(f"too few train poems to share every batch among {world} processes")
    shuffled = torch.randperm(len(batches), generator=gen).tolist()
    return [batches[i] for i in shuffled]


def epoch_plan(
    lengths: list[int], batch_size: int, tokens: int, seed: int, epoch: int, world: int = 1
) -> list[list[int]]:
    """The trainer's plan: under a token budget (`tokens` > 0, --budget-len) batch sizes vary and
    the count may differ by a few from epoch to epoch; with none, `batch_size` poems each."""
    if tokens:
        return plan_epoch_tokens(lengths, batch_size, tokens, seed, epoch, world)
    return plan_epoch(lengths, batch_size, seed, epoch, world)


T = TypeVar("T")


def shard(batch: list[T], rank: int, world: int) -> list[T]:
    """This rank's share of a global batch (poem indices, or planned items)."""
    return batch[rank::world]


@dataclass
class Batch:
    inputs: torch.Tensor  # [B, T] right-padded with PAD
    targets: torch.Tensor  # [B, T], PAD where the loss ignores the slot
    lengths: torch.Tensor  # [B]
    chars: int  # real predicted tokens (characters + <eos>) in this shard
    slots: int  # input slots processed, padding included
    real_slots: int  # input slots holding a real token
    # Flat indices of the scored target slots (targets != PAD), found here on the CPU: found on a
    # GPU (a nonzero) they would make the host wait for the device once a step.
    scored: torch.Tensor | None = None

    def scored_slots(self) -> torch.Tensor:
        if self.scored is not None:
            return self.scored
        return (self.targets.reshape(-1) != PAD).nonzero().squeeze(1)

    def to(self, device: torch.device, non_blocking: bool = False) -> Batch:
        return Batch(
            self.inputs.to(device, non_blocking=non_blocking),
            self.targets.to(device, non_blocking=non_blocking),
            self.lengths.to(device, non_blocking=non_blocking),
            self.chars,
            self.slots,
            self.real_slots,
            self.scored_slots().to(device, non_blocking=non_blocking),
        )

    def pin_memory(self) -> Batch:
        return Batch(
            self.inputs.pin_memory(),
            self.targets.pin_memory(),
            self.lengths,
            self.chars,
            self.slots,
            self.real_slots,
            self.scored_slots().pin_memory(),
        )


def pad(seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    out = torch.full((len(seqs), int(lengths.max())), PAD, dtype=torch.long)
    for row, seq in enumerate(seqs):
        out[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
    return out, lengths


def causal_batch(seqs: list[list[int]]) -> Batch:
    """Many-to-many, shifted by one: input x_0..x_{n-1}, target x_1..x_n (start never a target)."""
    full, lengths = pad(seqs)
    inputs, targets = full[:, :-1], full[:, 1:].clone()
    lengths = lengths - 1
    chars = int(lengths.sum())
    return Batch(inputs.contiguous(), targets.contiguous(), lengths, chars, inputs.numel(), chars)


def planned_batch(items: list[tuple[list[int], list[bool]]]) -> Batch:
    """Like `causal_batch`, for poems with a title and plan (training/plan_data.py): the given
    tokens (title, keywords) are read but never targets, so `chars` counts the poem alone."""
    from tangstudio.engine.training.plan_data import targets_of

    inputs, lengths = pad([ids[:-1] for ids, _ in items])
    targets, _ = pad([targets_of(ids, scored) for ids, scored in items])
    chars = sum(sum(scored[1:]) for _, scored in items)
    return Batch(inputs, targets, lengths, chars, inputs.numel(), int(lengths.sum()))


def masked_batch(seqs: list[list[int]], gen: torch.Generator, mask_min: float, mask_max: float) -> Batch:
    """BiLSTM: predict every token at its own position; a random 15–30 % of inputs become <mask>.

    The model never sees x_t when predicting it, so the loss runs over all positions; the masks
    teach it to predict with holes in its context (composing fills masked slots).
    """
    full, lengths = pad(seqs)
    targets = full.clone()
    targets[:, 0] = PAD  # the start token is given, never predicted
    positions = torch.arange(full.shape[1]).unsqueeze(0)
    real = (positions >= 1) & (positions < lengths.unsqueeze(1))
    rate = mask_min + (mask_max - mask_min) * torch.rand(len(seqs), 1, generator=gen)
    masked = real & (torch.rand(full.shape, generator=gen) < rate)
    inputs = full.masked_fill(masked, MASK)
    chars = int((lengths - 1).sum())
    return Batch(inputs, targets, lengths, chars, full.numel(), int(lengths.sum()))
