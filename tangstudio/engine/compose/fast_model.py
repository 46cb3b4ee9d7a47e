"""A shipped or trained causal model read for numpy inference, without importing torch.

Importing torch costs more than everything `tangstudio score` does with a small recurrent net, so
a fused rnn/lstm/gru checkpoint is read here as it is for torch — meta.json validated, the
weights' shapes compared with the config before anything is read, the file checked against its
sha256, every value finite — but into numpy arrays for `fast_step.FastStep`. Anything without a
fast path (a bilstm, the teaching cells) gives None, and the caller loads it with torch.

`score_fast` fills the same PoemScore as `score.score_poem`, to float32 rounding (tested).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tangstudio.engine.compose.fast_step import FastStep, single_thread_blas
from tangstudio.engine.compose.score_result import CHUNK, PoemScore, chunk_scores, normalise, poem_score
from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import PplKind, ppl_kind_of


@dataclass
class FastLoaded:
    """What LoadedModel holds, with a FastStep in place of the nn.Module.

    `model` is the same checkpoint as a torch module, loaded on first use: what only torch does (the
    gates read through the cells, `inspect`) still works, and pays for torch only when asked."""

    fast: FastStep
    vocab: Any
    config: Any
    meta: dict[str, Any]
    path: Path
    causal: bool = True
    _model: Any = field(default=None, repr=False)

    @property
    def model(self) -> Any:
        if self._model is None:
            from tangstudio.engine.runs.checkpoint import load_checkpoint

            self._model = load_checkpoint(self.path, device="cpu").model
        return self._model

    @property
    def ppl_kind(self) -> PplKind:
        return ppl_kind_of(self.causal)


def load_fast(ref: str = "default") -> FastLoaded | None:
    """The model `ref` names, ready for numpy inference; None when it needs torch (bilstm, cells).

    Read like `load_checkpoint`: meta.json and the weights through one descriptor of the folder,
    retried if a trainer switched a new checkpoint in meanwhile (`checkpoint.read_stable`)."""
    from tangstudio.engine.compose.refs import resolve_model
    from tangstudio.engine.runs.checkpoint import read_stable

    return read_stable(resolve_model(ref), "best", _read_fast)


def _read_fast(folder: Any) -> FastLoaded | None:
    from tangstudio.engine.models.shapes import fused_causal_shapes
    from tangstudio.engine.runs import checkpoint as ckpt
    from tangstudio.engine.runs.layout import WEIGHTS

    directory = folder.path
    meta = ckpt.read_meta(folder)
    config, vocab = ckpt.read_config(directory, meta)
    expected = fused_causal_shapes(config)
    if expected is None:
        return None
    if config.vocab_size != len(vocab):
        raise TangError(
            f"checkpoint {directory}: vocabulary size {len(vocab)} does not match the model's {config.vocab_size}"
        )
    if folder.tensor_shapes(WEIGHTS) != expected:
        raise TangError(
            f"checkpoint {directory} does not fit its architecture (meta.json and the weights' shapes differ)"
        )
    weights = _read_checked(folder, WEIGHTS, meta.get("weights_sha256"))
    single_thread_blas()
    fast = FastStep.from_weights(config.arch, weights, config.layers, config.tied)
    return FastLoaded(fast, vocab, config, meta, directory)


def _read_checked(folder: Any, name: str, expected_sha: object) -> dict[str, np.ndarray]:
    """The weights as numpy arrays, refused unless the file matches its sha256 and every value is finite."""
    import hashlib

    from safetensors import SafetensorError
    from safetensors.numpy import load

    path = folder.path / name
    blob = folder.read(name)
    if not isinstance(expected_sha, str) or hashlib.sha256(blob).hexdigest() != expected_sha:
        raise TangError(
            f"checkpoint file {path} does not match its recorded sha256 (truncated or tampered with)"
        )
    try:
        weights = load(blob)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise TangError(f"checkpoint file {path} cannot be read ({exc})") from None
    if not all(np.isfinite(w).all() for w in weights.values() if w.dtype.kind == "f"):
        raise TangError(f"checkpoint file {path} holds weights that are not finite (NaN or inf)")
    return weights


def score_fast(loaded: FastLoaded, text: str, form: str | None = None) -> PoemScore:
    """`score.score_poem` for a causal model, one numpy step per character."""
    from tangstudio.engine.compose.score_result import scorable
    from tangstudio.engine.corpus.forms import classify

    text = normalise(text)
    if not text:
        raise TangError(
            "nothing to score: give a poem, e.g. 床前明月光，疑是地上霜。举头望明月，低头思故乡。"
        )
    vocab = loaded.vocab
    scorable(text, vocab)  # a typo is scored around and marked; a wrong script is refused
    form = form or classify(text)
    ids = vocab.encode_poem(text, form)
    targets = np.array(ids[1:])  # logits[t] predicts ids[t + 1]
    state = loaded.fast.init_state(1)
    picked: list[float] = []
    ranks: list[int] = []
    best: list[list[tuple[int, float]]] = []
    rows: list[np.ndarray] = []
    for t, token in enumerate(ids[:-1]):  # the state carries over; the log-probs go a chunk at a time
        logits, state = loaded.fast.step(np.array([token]), state)
        rows.append(logits[0])
        if len(rows) == CHUNK or t == len(ids) - 2:
            p, r, b = chunk_scores(np.stack(rows), targets[t + 1 - len(rows) : t + 1])
            picked.extend(p)
            ranks.extend(r)
            best.extend(b)
            rows = []
    nats = -float(np.mean(np.array(picked, dtype=np.float64)))
    return poem_score(text, form, vocab, ids[1:], picked, ranks, best, nats, "causal")
