"""Picking the device: auto means cuda, then mps, then cpu; asking for one that is absent is an error."""

from __future__ import annotations

import torch

from tangstudio.engine.errors import TangError


def resolve_device(name: str = "auto", local_rank: int | None = None) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise TangError("--device cuda was asked for but no CUDA GPU is available to PyTorch")
        if local_rank is None:
            return torch.device("cuda", torch.cuda.current_device())
        # More ranks than GPUs (two ranks on one GPU, as benchmarks/gpu_check.sh runs) share them in turn.
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if name == "mps":
        if getattr(torch.backends, "mps", None) is None or not torch.backends.mps.is_available():
            raise TangError("--device mps was asked for but Apple's Metal backend is not available")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise TangError(f"unknown device {name!r}; choose auto, cpu, cuda or mps")


def set_threads(threads: int) -> None:
    """Intra-op CPU threads for this process (the CLI's --threads), so the CLI never imports torch."""
    torch.set_num_threads(threads)


def uses_bf16(device: torch.device) -> bool:
    """bf16 autocast on CUDA cards that support it; everything else trains in fp32."""
    return device.type == "cuda" and torch.cuda.is_bf16_supported()


def fast_bf16(device: torch.device) -> bool:
    """Whether bf16 matmuls run on native units here: a CUDA card with bf16, or a CPU with
    avx512_bf16 or AMX (oneDNN emulates bf16 elsewhere, which is slower than fp32)."""
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            flags = next((line for line in handle if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
