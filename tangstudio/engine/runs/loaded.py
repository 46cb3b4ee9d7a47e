"""The LoadedModel protocol: what composing, scoring and the studio read of a loaded model.

A model reaches them loaded one of two ways — with torch (`runs.checkpoint.LoadedModel`) or
straight into numpy (`compose.fast_model.FastLoaded`, which loads the torch module only when asked)
— and both satisfy `Loaded`, so a function that takes either says so in its signature instead of
`Any`. Torch-free: only names, no imports of either class.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class Loaded(Protocol):
    """A model ready for inference, with what is needed to use it."""

    vocab: Any  # corpus.vocab.Vocab
    config: Any  # models.config.ModelConfig
    meta: dict[str, Any]
    path: Path

    @property
    def model(self) -> Any:
        """The torch module (FastLoaded loads it on first use)."""
        ...

    @property
    def causal(self) -> bool:
        """Next-character model (rnn, lstm, gru) or fill-in (bilstm): archs.is_causal of its arch."""
        ...

    @property
    def ppl_kind(self) -> str: ...
