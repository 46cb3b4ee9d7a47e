"""The `lab` fixture of the fault-injection suite; the harness itself is in harness.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import Lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, tiny_corpus_file: Path) -> Lab:
    import torch

    torch.set_num_threads(1)
    # Import once here what every child would import again: the CLI, the trainer, and the modules
    # torch loads on the first optimizer (3 s), so a forked run costs a fraction of a second.
    import safetensors.torch  # noqa: F401

    import tangstudio.cli
    import tangstudio.engine.training.loop  # noqa: F401

    torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))])
    root = tmp_path_factory.mktemp("faults")
    logs = root / "logs"
    logs.mkdir()
    made = Lab(root / "home", logs)
    imported = made.cli("corpus", "import", str(tiny_corpus_file), "--name", "tiny")
    assert imported.code == 0, imported.output
    reference = made.train("ref")
    assert reference.code == 0, reference.output
    return made
