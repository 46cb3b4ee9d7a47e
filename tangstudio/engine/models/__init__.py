"""The four architectures — rnn, lstm, gru (causal) and bilstm (fill-in) — behind one registry.

Importing this package does not import torch (the studio and `--help` read `ARCHS` cheaply);
`build_model` does. Files: archs.py (names, equations, when to pick), config.py (ModelConfig),
cells.py (the readable cells), layers.py (shared ends), causal.py, bilstm.py, registry.py.
"""

from tangstudio.engine.models.archs import ARCHS, ArchInfo
from tangstudio.engine.models.config import ModelConfig
from tangstudio.engine.models.registry import build_model, convert_impl, count_parameters

__all__ = ["ARCHS", "ArchInfo", "ModelConfig", "build_model", "convert_impl", "count_parameters"]
