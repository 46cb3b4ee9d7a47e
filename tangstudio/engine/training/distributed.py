"""Running under torchrun: one process per device, DistributedDataParallel, rank 0 does the writing.

torchrun sets RANK / WORLD_SIZE / LOCAL_RANK; without them (WORLD_SIZE unset or 1) every helper
here is a no-op and training is a plain single process. gloo serves CPUs, nccl serves GPUs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_env() -> DistInfo:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    return DistInfo(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))


def shares_gpu() -> bool:
    """More ranks on this node than GPUs: NCCL refuses two ranks on one GPU ("Duplicate GPU
    detected"), so such ranks talk through gloo, which all-reduces CUDA tensors too. One GPU lent
    for a check (benchmarks/gpu_check.sh) still runs the DDP path this way; real jobs have one
    rank per GPU and use NCCL."""
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", "1")))
    return local_world > torch.cuda.device_count()


def init(info: DistInfo, device: torch.device) -> None:
    if not info.enabled or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" and not shares_gpu() else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    # A peer that dies makes the survivors' next collective fail (closed connection) rather than
    # hang; the timeout is the backstop for a peer that hangs without dying.
    timeout = timedelta(seconds=float(os.environ.get("TANGSTUDIO_DIST_TIMEOUT", "300")))
    dist.init_process_group(backend=backend, timeout=timeout)


def barrier(info: DistInfo) -> None:
    """Wait for every rank (after a run that ended well on all of them: they stop at one step).
    A rank that destroyed the process group while its peer's last collective was still in flight
    was seen to abort in gloo's teardown ("terminate called without an active exception", SIGABRT;
    once in a full test suite on 2 busy cores)."""
    if info.enabled and dist.is_initialized():
        dist.barrier()


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def sum_floats(info: DistInfo, values: list[float], device: torch.device) -> list[float]:
    """Sum a few numbers over all ranks (one collective; a host sync, so only at logging)."""
    if not info.enabled:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def any_rank(info: DistInfo, flags: list[bool], device: torch.device) -> list[bool]:
    """Element-wise OR of flags across ranks, so every rank stops at the same step."""
    if not info.enabled:
        return list(flags)
    tensor = torch.tensor([1.0 if f else 0.0 for f in flags], device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return [bool(v > 0) for v in tensor.tolist()]


def broadcast_object(info: DistInfo, obj: object) -> object:
    """Rank 0's value on every rank (in-memory only; nothing is read back from disk)."""
    if not info.enabled:
        return obj
    holder = [obj if info.is_main else None]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def gather_objects(info: DistInfo, obj: object) -> list[object]:
    if not info.enabled:
        return [obj]
    out: list[object] = [None] * info.world
    dist.all_gather_object(out, obj)
    return out


def wrap(model: torch.nn.Module, info: DistInfo, device: torch.device) -> torch.nn.Module:
    if not info.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
