"""Training state for an exact resume: optimizer moments, RNG states and counters.

Tensors (Adam moments, step counts, the torch RNG ByteTensors) go to safetensors; the rest —
param groups, counters — to JSON. Each rank's RNG is kept, so dropout continues exactly under DDP.
"""

from __future__ import annotations

from typing import Any

import torch


def rng_snapshot(mask_gen: torch.Generator, device: torch.device) -> dict[str, torch.Tensor]:
    states = {"torch": torch.get_rng_state(), "mask": mask_gen.get_state()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device).cpu()
    return states


def rng_restore(states: dict[str, torch.Tensor], mask_gen: torch.Generator, device: torch.device) -> None:
    torch.set_rng_state(states["torch"].to(torch.uint8))
    mask_gen.set_state(states["mask"].to(torch.uint8))
    if device.type == "cuda" and "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"].to(torch.uint8), device)


def pack(
    optimizer: torch.optim.Optimizer, rng_per_rank: list[dict[str, torch.Tensor]], counters: dict[str, Any]
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, object] = {}
    for index, entry in sd["state"].items():
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"optim.{index}.{key}"] = value
            else:
                scalars[f"{index}.{key}"] = value
    for rank, states in enumerate(rng_per_rank):
        for name, value in states.items():
            tensors[f"rng.{rank}.{name}"] = value
    info = {
        "param_groups": sd["param_groups"],
        "optim_scalars": scalars,
        "world": len(rng_per_rank),
        **counters,
    }
    return tensors, info


def unpack(
    tensors: dict[str, torch.Tensor], info: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, torch.Tensor]]]:
    """(optimizer state_dict, RNG states per rank) from what `pack` wrote.

    `info` is checked first (`schema.check_train_state`): a hand-edited train_state.json is one
    line naming the file, not an error deep inside the optimizer.
    """
    from tangstudio.engine.runs.schema import check_train_state

    check_train_state(info, "checkpoints/last/train_state.json")
    state: dict[int, dict[str, Any]] = {}
    rng: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        kind, index, key = name.split(".", 2)
        if kind == "optim":
            state.setdefault(int(index), {})[key] = value
        elif kind == "rng":
            rng.setdefault(int(index), {})[key] = value
    for name, value in info.get("optim_scalars", {}).items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": info["param_groups"]}, [rng[r] for r in sorted(rng)]
