"""The critic's BiLSTM read into numpy: each character scored from both sides, no torch.

The fill-in BiLSTM (models/bilstm.py) predicts x_t from →h_{t−1} (everything left of t) and
←h_{t+1} (everything right of t) and never sees x_t, so one forward pass over a whole poem with
no <mask> gives P(x_t | the rest of the poem) at every t at once: the poem's pseudo-likelihood,
which a left-to-right model cannot give. A sampled poem is written left to right; a line that
fits what came before but not what follows is what the right side catches.

    i, f, g, o = split(x·W_ihᵀ + h·W_hhᵀ + b)    c' = σ(f)·c + σ(i)·tanh(g);  h' = σ(o)·tanh(c')
    logits_t = tanh([→h_{t−1}, ←h_{t+1}]·Wᵀ + b_c) · (P·Eᵀ) + b       (edges at the two ends)

The shipped critic (models/critic/) is small (one layer each way) so that K sequences of one form
step together as a batch in a few milliseconds. Equal to the torch model to float32 rounding
(tests/test_craft_critic.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tangstudio.engine.compose.fast_step import _sigmoid


@dataclass
class _Stack:
    layers: list[tuple[np.ndarray, np.ndarray]]  # per layer: [W_ih, W_hh]ᵀ (in + H, 4H), b (4H,)

    def run(self, x: np.ndarray) -> np.ndarray:
        """Outputs of the top layer for x (B, T, in), left to right."""
        B, T, _ = x.shape
        for w, b in self.layers:
            H = b.shape[0] // 4
            h = np.zeros((B, H), np.float32)
            c = np.zeros((B, H), np.float32)
            out = np.empty((B, T, H), np.float32)
            xw = x @ w[: x.shape[2]] + b  # the input half of every step at once
            wh = w[x.shape[2] :]
            for t in range(T):
                z = xw[:, t] + h @ wh
                i, f, g, o = np.split(z, 4, axis=1)
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                h = _sigmoid(o) * np.tanh(c)
                out[:, t] = h
            x = out
        return x


class BidiScorer:
    """log P(x_t | rest) of every position of equal-length sequences, from a bilstm state_dict."""

    def __init__(self, weights: dict[str, np.ndarray], layers: int) -> None:
        def get(name: str) -> np.ndarray:
            return np.asarray(weights[name], dtype=np.float32)

        def stack(prefix: str) -> _Stack:
            found = []
            for k in range(layers):
                w = np.concatenate([get(f"{prefix}.weight_ih_l{k}"), get(f"{prefix}.weight_hh_l{k}")], axis=1)
                found.append(
                    (np.ascontiguousarray(w.T), get(f"{prefix}.bias_ih_l{k}") + get(f"{prefix}.bias_hh_l{k}"))
                )
            return _Stack(found)

        self.embedding = get("embedding.weight")
        self.forward = stack("forward_lstm")
        self.backward = stack("backward_lstm")
        self.left_edge = get("left_edge")
        self.right_edge = get("right_edge")
        self.combine_w = np.ascontiguousarray(get("combine.weight").T)
        self.combine_b = get("combine.bias")
        if "head.V.weight" in weights:  # untied: its own output matrix
            self.proj = None
            self.head_w = np.ascontiguousarray(get("head.V.weight").T)
            self.head_b = get("head.V.bias")
        else:  # tied to the embedding, through a projection when hidden ≠ embed
            proj = weights.get("head.proj.weight")
            self.proj = None if proj is None else np.ascontiguousarray(get("head.proj.weight").T)
            self.head_w = np.ascontiguousarray(self.embedding.T)
            self.head_b = get("head.bias")

    def log_probs(self, ids: np.ndarray) -> np.ndarray:
        """ids (B, T) of equal-length sequences -> log P(ids[b, t] | the rest), float32 (B, T)."""
        ids = np.atleast_2d(np.asarray(ids, dtype=np.int64))
        B = ids.shape[0]
        x = self.embedding[ids]
        fwd = self.forward.run(x)
        bwd = self.backward.run(x[:, ::-1])[:, ::-1]
        H = fwd.shape[2]
        left = np.concatenate([np.broadcast_to(self.left_edge, (B, 1, H)), fwd[:, :-1]], axis=1)
        right = np.concatenate([bwd[:, 1:], np.broadcast_to(self.right_edge, (B, 1, H))], axis=1)
        h = np.tanh(np.concatenate([left, right], axis=2) @ self.combine_w + self.combine_b)
        if self.proj is not None:
            h = h @ self.proj
        logits = h @ self.head_w + self.head_b
        logits -= logits.max(axis=2, keepdims=True)
        logz = np.log(np.exp(logits).sum(axis=2))
        picked = np.take_along_axis(logits, ids[..., None], axis=2)[..., 0]
        log_probs: np.ndarray = picked - logz
        return log_probs


@dataclass
class Bidi:
    """The shipped critic model: its scorer, its vocabulary and where it came from."""

    scorer: BidiScorer
    vocab: Any  # the critic's own Vocab (corpus.vocab.Vocab)
    meta: dict[str, Any]
    path: Path


def load_bidi(directory: Path) -> Bidi:
    """A bilstm checkpoint folder (model.safetensors + meta.json) read without torch, sha256 checked."""
    from tangstudio.engine.runs import checkpoint as ckpt
    from tangstudio.engine.runs.layout import WEIGHTS

    meta = ckpt.read_meta(directory)
    config, vocab = ckpt.read_config(directory, meta)
    weights = _read_weights(directory / WEIGHTS, meta.get("weights_sha256"))
    return Bidi(BidiScorer(weights, config.layers), vocab, meta, directory)


def _read_weights(path: Path, expected_sha: object) -> dict[str, np.ndarray]:
    """The arrays of a safetensors file, refused unless it matches its sha256 and is all finite."""
    import hashlib

    from safetensors.numpy import load

    from tangstudio.engine.errors import TangError

    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise TangError(f"cannot read the critic's weights {path} ({exc.strerror})") from None
    if not isinstance(expected_sha, str) or hashlib.sha256(blob).hexdigest() != expected_sha:
        raise TangError(f"the critic's weights {path} do not match their recorded sha256")
    try:
        weights = load(blob)
    except Exception as exc:  # safetensors raises its own error types for a damaged header
        raise TangError(f"the critic's weights {path} cannot be read ({exc})") from None
    if not all(np.isfinite(w).all() for w in weights.values() if w.dtype.kind == "f"):
        raise TangError(f"the critic's weights {path} hold values that are not finite")
    return weights
