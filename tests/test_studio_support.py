"""Shared fixtures and helpers of the studio tests (no tests here).

Trained tiny models are made once per session in their own home and copied into each test's home,
so every studio test sees real checkpoints without paying for training.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pytest

TINY_ARCHS = ("gru", "bilstm")


@pytest.fixture(autouse=True)
def no_shipped_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see no shipped default model, so what they show does not change when one ships."""
    monkeypatch.setenv("TANGSTUDIO_MODELS", str(tmp_path / "no-shipped-models"))


@pytest.fixture(scope="session")
def trained_runs(tmp_path_factory: pytest.TempPathFactory, tiny_corpus_file: Path) -> Path:
    """Run folders of tiny gru and bilstm models trained for 2 steps on the tiny corpus."""
    root = tmp_path_factory.mktemp("studio-trained")
    previous = os.environ.get("TANGSTUDIO_HOME")
    os.environ["TANGSTUDIO_HOME"] = str(root)
    try:
        from tangstudio.engine.corpus.importer import import_corpus
        from tangstudio.engine.training import TrainConfig, train

        import_corpus(tiny_corpus_file, "tiny")
        for arch in TINY_ARCHS:
            train(
                TrainConfig(
                    arch=arch,
                    corpus="tiny",
                    embed=16,
                    hidden=32,
                    layers=1,
                    steps=2,
                    eval_every=2,
                    log_every=1,
                    samples=0,
                    warmup=1,
                    seed=0,
                    run=f"tiny-{arch}",
                )
            )
    finally:
        if previous is None:
            os.environ.pop("TANGSTUDIO_HOME", None)
        else:
            os.environ["TANGSTUDIO_HOME"] = previous
    return root / "runs"


def copy_run(trained_runs: Path, home: Path, name: str) -> Path:
    target = home / "runs" / name
    shutil.copytree(trained_runs / name, target)
    return target


def write_fake_run(
    home: Path,
    name: str,
    arch: str,
    steps: int,
    decay: float,
    budget_steps: int = 400,
    partial_tail: str = "",
) -> Path:
    """A run folder as the trainer writes it, with made-up but well-formed metrics (no timestamps shown)."""
    run = home / "runs" / name
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.toml").write_text(
        f'arch = "{arch}"\ncorpus = "tang"\nforms = "regulated"\nsteps = {budget_steps}\n', encoding="utf-8"
    )
    lines = []
    for step in range(10, steps + 1, 10):
        loss = 3.0 + 4.0 * math.exp(-step / decay)
        lines.append(
            {
                "event": "train",
                "step": step,
                "epoch": step / 200,
                "train_loss": loss,
                "lr": 2e-3,
                "chars_per_s": 9000 + step,
                "elapsed_s": step * 0.5,
                "time": "2026-01-01T00:00:00+00:00",
            }
        )
        if step % 50 == 0:
            lines.append(
                {
                    "event": "eval",
                    "step": step,
                    "val_loss": loss + 0.2,
                    "val_ppl": math.exp(loss + 0.2),
                    "elapsed_s": step * 0.5,
                    "ppl_kind": "pseudo" if arch == "bilstm" else "causal",
                }
            )
    text = "".join(json.dumps(line) + "\n" for line in lines) + partial_tail
    (run / "metrics.jsonl").write_text(text, encoding="utf-8")
    (run / "samples.jsonl").write_text(
        json.dumps(
            {"step": steps, "samples": ["床前明月光，疑是地上霜。举头望明月，低头思故乡。"]},
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    return run


async def settle(pilot, rounds: int = 2) -> None:
    """Let workers finish and the screen catch up."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def no_blink(app) -> None:
    from textual.widgets import Input

    for field in app.query(Input):
        field.cursor_blink = False


def errors(app) -> list[str]:
    return [message for severity, _title, message in app.notices if severity == "error"]


def sync(test):
    """Run an async Pilot test with asyncio (no async plugin needed); fixtures still arrive by name."""
    import asyncio
    import functools

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


@pytest.fixture(scope="session")
def seeded_model_run(tmp_path_factory: pytest.TempPathFactory, tiny_corpus_file: Path) -> Path:
    """A run folder holding an untrained gru built from a fixed seed (its output layer sharpened so the
    probabilities spread): what snapshots show does not move when the training code changes."""
    import torch

    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.models import ModelConfig, build_model
    from tangstudio.engine.runs.checkpoint import save_checkpoint

    root = tmp_path_factory.mktemp("studio-seeded")
    previous = os.environ.get("TANGSTUDIO_HOME")
    os.environ["TANGSTUDIO_HOME"] = str(root / "home")
    try:
        from tangstudio.engine.corpus import load_corpus
        from tangstudio.engine.corpus.importer import import_corpus

        import_corpus(tiny_corpus_file, "tiny")
        corpus = load_corpus("tiny", "simplified")
        vocab = Vocab.build((p.text for p in corpus.select("regulated", "train")), "simplified")
    finally:
        if previous is None:
            os.environ.pop("TANGSTUDIO_HOME", None)
        else:
            os.environ["TANGSTUDIO_HOME"] = previous
    config = ModelConfig(arch="gru", vocab_size=len(vocab), embed=16, hidden=32, layers=1, dropout=0.0)
    torch.manual_seed(0)
    model = build_model(config)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "head" in name:
                parameter.mul_(40.0)
    run = root / "seeded-gru"
    (run / "config.toml").parent.mkdir(parents=True, exist_ok=True)
    (run / "config.toml").write_text('arch = "gru"\ncorpus = "tiny"\n', encoding="utf-8")
    meta = {
        "run": "seeded-gru",
        "arch": "gru",
        "model": config.to_dict(),
        "vocab": vocab.to_dict(),
        "script": "simplified",
        "corpus": {"name": "tiny", "fingerprint": corpus.fingerprint},
        "forms": "regulated",
        "step": 0,
        "ppl_kind": "causal",
    }
    save_checkpoint(run / "checkpoints" / "best", model.state_dict(), meta)
    return run


def shown_text(static) -> str:
    """What a Static shows, as plain text (its Rich renderable printed wide)."""
    from rich.console import Console

    console = Console(width=200, record=True, file=open(os.devnull, "w"))
    console.print(static.content)
    return console.export_text()
