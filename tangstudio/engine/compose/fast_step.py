"""One character step of a causal model in plain numpy (float32) — the composer's inference path.

Composing is nothing but single steps of a small recurrent net: per layer one product of a
1×(in+H) row with an (in+H)×(gates·H) matrix, then the output layer. PyTorch spends more on
dispatch and on oneDNN's weight re-layout around such a step than on the arithmetic; numpy over
weights transposed once, with the input and hidden weights stacked so each layer is one matmul
over [x, h], does the arithmetic alone:

    RNN   h' = tanh([x, h]·[W_ih, W_hh]ᵀ + b_ih + b_hh)
    LSTM  i, f, g, o = split([x, h]·[W_ih, W_hh]ᵀ + b)     (PyTorch's gate order)
          c' = σ(f)·c + σ(i)·tanh(g);   h' = σ(o)·tanh(c')
    GRU   r, z, n_x = split(x·W_ihᵀ + b_ih);  _, _, n_h = split(h·W_hhᵀ + b_hh)   (r, z from both)
          n = tanh(n_x + σ(r)·n_h);   h' = (1 − σ(z))·n + σ(z)·h   (PyTorch's z: the seed's 1 − z)
    head  tied: (h'·Pᵀ)·Eᵀ + b  (P = I when hidden = embed);   untied: h'·Vᵀ + b

The weights come from the model's own parameters (`from_model`), or straight from a checkpoint's
safetensors without torch (`from_weights`: the same names `state_dict` writes). Where the two
paths meet: `stepping.step` — every caller (Composer, beam search, the quality report) steps
through it, and it hands a fused causal model in eval mode on the CPU to this module, the rest to
`model.step`. They are kept equal by tests/test_fast_step.py: logits and state against the torch
step to 1e-5 for rnn, lstm and gru, one and two layers, tied and untied, and the same top-10 over
200 steps of a seeded poem of the shipped model. The BiLSTM filler stays on torch (it reads whole
sequences, where torch's kernels are already the fast path).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from tangstudio.engine.models.archs import pairs_state

ARCHS = ("rnn", "lstm", "gru")


def torch_forced() -> bool:
    """TANGSTUDIO_STEP=torch: every step on torch, for comparing the two paths (read in one place)."""
    import os

    return os.environ.get("TANGSTUDIO_STEP", "").lower() == "torch"


GATES = {"rnn": 1, "lstm": 4, "gru": 3}

State = np.ndarray | tuple[np.ndarray, np.ndarray]  # [layers, B, H] (h, or (h, c) for the LSTM)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # 0.5·(1 + tanh(x/2)) is σ(x) without exp overflow for very negative x, and one ufunc fewer.
    out = np.tanh(x * np.float32(0.5))
    out += np.float32(1.0)
    out *= np.float32(0.5)
    return out


@dataclass
class _Layer:
    w: np.ndarray  # (in + H, G·H): [W_ih, W_hh]ᵀ stacked, or only W_ihᵀ for the GRU
    b: np.ndarray  # (G·H,)
    w_hh: np.ndarray | None = None  # GRU: W_hhᵀ (H, 3H), kept apart for the reset gate
    b_hh: np.ndarray | None = None


class FastStep:
    """A causal model's single step over numpy float32 arrays; `step(tokens, state)` like the model's."""

    def __init__(
        self,
        arch: str,
        embedding: np.ndarray,
        layers: list[_Layer],
        head_w: np.ndarray,
        head_b: np.ndarray,
        proj: np.ndarray | None,
    ) -> None:
        if arch not in ARCHS:
            raise ValueError(f"no fast step for {arch!r}")
        self.arch = arch
        self.embedding = embedding  # (V, E)
        self.layers = layers
        self.hidden = layers[0].b.shape[0] // GATES[arch]
        self.head_w = head_w  # (E or H, V): Eᵀ when tied, Vᵀ otherwise
        self.head_b = head_b  # (V,)
        self.proj = proj  # (H, E): Pᵀ of a tied head when hidden ≠ embed, else None

    # ------------------------------------------------------------------ building

    @classmethod
    def from_weights(cls, arch: str, weights: Mapping[str, np.ndarray], layers: int, tied: bool) -> FastStep:
        """From a state_dict's arrays (names as CausalCharLM writes them), transposed once here."""

        def get(name: str) -> np.ndarray:
            return np.asarray(weights[name], dtype=np.float32)

        stack = []
        for k in range(layers):
            w_ih, w_hh = get(f"rnn.weight_ih_l{k}"), get(f"rnn.weight_hh_l{k}")
            b_ih, b_hh = get(f"rnn.bias_ih_l{k}"), get(f"rnn.bias_hh_l{k}")
            if arch == "gru":
                stack.append(
                    _Layer(np.ascontiguousarray(w_ih.T), b_ih, np.ascontiguousarray(w_hh.T), b_hh.copy())
                )
            else:
                w = np.ascontiguousarray(np.concatenate([w_ih, w_hh], axis=1).T)
                stack.append(_Layer(w, b_ih + b_hh))
        embedding = np.ascontiguousarray(get("embedding.weight"))
        if tied:
            proj = np.ascontiguousarray(get("head.proj.weight").T) if "head.proj.weight" in weights else None
            head_w = np.ascontiguousarray(embedding.T)
            head_b = get("head.bias")
        else:
            proj = None
            head_w = np.ascontiguousarray(get("head.V.weight").T)
            head_b = get("head.V.bias")
        return cls(arch, embedding, stack, head_w, head_b, proj)

    @classmethod
    def from_model(cls, model: Any) -> FastStep:
        """From a fused CausalCharLM's parameters (copied: the model may go on training)."""
        config = model.config
        weights = {k: v.detach().cpu().float().numpy() for k, v in model.state_dict().items()}
        return cls.from_weights(config.arch, weights, config.layers, config.tied)

    # ------------------------------------------------------------------ stepping

    def init_state(self, batch: int = 1) -> State:
        h = np.zeros((len(self.layers), batch, self.hidden), dtype=np.float32)
        return (h, np.zeros_like(h)) if pairs_state(self.arch) else h

    def step(self, tokens: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Logits [B, V] for the next character after `tokens` [B], and the new state."""
        x = self.embedding[np.asarray(tokens, dtype=np.int64)]
        H = self.hidden
        if pairs_state(self.arch):
            hs, cs = state
            new_h, new_c = np.empty_like(hs), np.empty_like(cs)
            for k, layer in enumerate(self.layers):
                gates = np.concatenate([x, hs[k]], axis=1) @ layer.w
                gates += layer.b
                i = _sigmoid(gates[:, :H])
                f = _sigmoid(gates[:, H : 2 * H])
                g = np.tanh(gates[:, 2 * H : 3 * H])
                o = _sigmoid(gates[:, 3 * H :])
                c = f * cs[k] + i * g
                new_c[k] = c
                x = new_h[k] = o * np.tanh(c)
            new_state: State = (new_h, new_c)
        elif self.arch == "gru":
            hs = state
            new_h = np.empty_like(hs)
            for k, layer in enumerate(self.layers):
                assert layer.w_hh is not None and layer.b_hh is not None
                gx = x @ layer.w
                gx += layer.b
                gh = hs[k] @ layer.w_hh
                gh += layer.b_hh
                r = _sigmoid(gx[:, :H] + gh[:, :H])
                z = _sigmoid(gx[:, H : 2 * H] + gh[:, H : 2 * H])
                n = np.tanh(gx[:, 2 * H :] + r * gh[:, 2 * H :])
                x = new_h[k] = n + z * (hs[k] - n)  # (1 − z)·n + z·h
            new_state = new_h
        else:
            hs = state
            new_h = np.empty_like(hs)
            for k, layer in enumerate(self.layers):
                pre = np.concatenate([x, hs[k]], axis=1) @ layer.w
                pre += layer.b
                x = new_h[k] = np.tanh(pre)
            new_state = new_h
        if self.proj is not None:
            x = x @ self.proj
        logits = x @ self.head_w
        logits += self.head_b
        return logits, new_state


# ---------------------------------------------------------------------- one BLAS thread


_blas_limited = False


def single_thread_blas() -> bool:
    """Ask numpy's OpenBLAS for one thread (True if it listened).

    A step's products are far too small to share out: measured here on a loaded 2-core machine,
    OpenBLAS's threads waiting for a core turned a 0.6 ms step into 20 ms. numpy offers no call
    for this, so the setter is looked up in the OpenBLAS library the process has loaded (what
    threadpoolctl does, without the dependency); OPENBLAS_NUM_THREADS=1 before start-up does the same.
    """
    global _blas_limited
    if _blas_limited:
        return True
    import ctypes

    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            libraries = {line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return False
    for path in sorted(libraries):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in (
            "scipy_openblas_set_num_threads64_",
            "openblas_set_num_threads64_",
            "openblas_set_num_threads",
        ):
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(1)
                _blas_limited = True
    return _blas_limited


# ---------------------------------------------------------------------- for a torch model
# `model` is a torch nn.Module, typed Any: this module is the composer's torch-free path
# (import-linter counts even a TYPE_CHECKING import of torch).


def supports(model: Any) -> bool:
    """A fused causal model (rnn, lstm, gru) in eval mode, float32 on the CPU, stepping as built.

    A model whose `step` was replaced on the instance (a wrapper that counts or traces steps) is
    stepped through that replacement: the numpy path would go around it.
    """
    if "step" in getattr(model, "__dict__", {}):
        return False
    config = getattr(model, "config", None)
    if config is None or not getattr(model, "causal", False) or getattr(config, "impl", "") != "fused":
        return False
    if config.arch not in ARCHS or model.training:
        return False
    weight = model.embedding.weight
    return weight.device.type == "cpu" and str(weight.dtype) == "torch.float32"


def weights_version(model: Any) -> tuple[tuple[int, int], ...]:
    """Changes whenever a parameter is replaced or modified in place (an optimizer step, a load)."""
    return tuple((p.data_ptr(), p._version) for p in model.parameters())


def for_model(model: Any) -> FastStep | None:
    """The model's FastStep, made on first use and remade when its weights change; None if unsupported."""
    if not supports(model):
        return None
    version = weights_version(model)
    cached = model.__dict__.get("_fast_step")
    if cached is not None and cached[0] == version:
        return cast(FastStep, cached[1])  # stored below, beside its version
    single_thread_blas()
    fast = FastStep.from_model(model)
    model.__dict__["_fast_step"] = (version, fast)
    return fast
