"""Shared fixtures: every test gets its own tangstudio home, a tiny corpus when it asks, and (for
the studio tests) tiny trained runs made once per session and copied into each test's home."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

TINY_POEMS = 240
TINY_ARCHS = ("gru", "bilstm")


@pytest.fixture(scope="session")
def tang_cache_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus's cache (simplified script), built once per test process.

    A fresh home builds it again on its first poem (about 4 s, more traced by coverage), and
    some thirty tests compose with the shipped model in a fresh home.
    """
    from tangstudio.engine.corpus.cache import cache_path, load_arrays

    root = tmp_path_factory.mktemp("tang-cache")
    with _home_at(root):
        load_arrays("tang", "simplified")  # not corpus_arrays: its in-process memo would write nothing
        return cache_path("tang", "simplified")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """A fresh TANGSTUDIO_HOME per test, so no test reads or writes the user's real one.

    Its cache folder holds the bundled corpus's cache already (a hard link to one built once),
    unless the test is marked `own_corpus_cache` because it watches that folder. The cache is
    replaced by renames, never written in place, so a test's rebuild never reaches the shared file.
    """
    path = tmp_path / "home"
    monkeypatch.setenv("TANGSTUDIO_HOME", str(path))
    if request.node.get_closest_marker("own_corpus_cache") is None:
        shared: Path = request.getfixturevalue("tang_cache_file")
        folder = path / "cache" / "corpus"
        folder.mkdir(parents=True)
        with suppress(OSError):  # a file system without hard links: the test builds its own
            os.link(shared, folder / shared.name)
    return path


@contextmanager
def _home_at(root: Path) -> Iterator[None]:
    """TANGSTUDIO_HOME set to `root` for a session fixture's set-up (monkeypatch is per test)."""
    previous = os.environ.get("TANGSTUDIO_HOME")
    os.environ["TANGSTUDIO_HOME"] = str(root)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TANGSTUDIO_HOME", None)
        else:
            os.environ["TANGSTUDIO_HOME"] = previous


class Tracing:
    """Stops coverage's tracer for the bulk of a long pure-Python check, when the run measures it.

    The sweeps draw hundreds of poems through the lines their first draws already cover, and traced
    they cost 1.7 to 2 times as much; every draw is still checked. Without coverage it does nothing.
    """

    def __init__(self, cov: Any) -> None:
        self.cov = cov
        self.stopped = False

    def stop(self) -> None:
        if self.cov is not None and not self.stopped:
            self.cov.stop()
            self.stopped = True

    def start(self) -> None:
        if self.stopped:
            self.cov.start()
            self.stopped = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        self.stop()
        try:
            yield
        finally:
            self.start()

    def sweep(self, count: int, traced: int = 24) -> Iterator[int]:
        """`range(count)`, traced for its first `traced` steps only."""
        for k in range(count):
            if k == traced:
                self.stop()
            yield k
        self.start()


@pytest.fixture
def tracing(request: pytest.FixtureRequest) -> Iterator[Tracing]:
    cov = request.getfixturevalue("cov") if request.config.pluginmanager.hasplugin("_cov") else None
    tracing = Tracing(cov)
    yield tracing
    tracing.start()  # a sweep that failed part-way: the tests after it are traced again


@pytest.fixture(scope="session")
def tiny_corpus_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain-text corpus of real regulated Tang poems (traditional script), one per line."""
    from tangstudio.engine.corpus import load_corpus

    corpus = load_corpus("tang", "traditional")
    poems = [p for p in corpus.poems if p.form in ("wujue", "qijue", "wulv", "qilv") and not p.lost][
        :TINY_POEMS
    ]
    path = tmp_path_factory.mktemp("tiny") / "tiny.txt"
    path.write_text("\n".join(f"{p.title}:{p.text}" for p in poems) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def tiny_corpus(tiny_corpus_file: Path, home: Path) -> str:
    """Import the tiny corpus into this test's home and return its name (`tiny`)."""
    from tangstudio.engine.corpus.importer import import_corpus

    import_corpus(tiny_corpus_file, "tiny")
    return "tiny"


@pytest.fixture
def no_shipped_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No shipped default model, so what a studio test shows does not change when one ships.

    Not autouse: the studio test modules ask for it with `pytestmark`; others test the shipped model.
    """
    monkeypatch.setenv("TANGSTUDIO_MODELS", str(tmp_path / "no-shipped-models"))


@pytest.fixture(scope="session")
def trained_runs(tmp_path_factory: pytest.TempPathFactory, tiny_corpus_file: Path) -> Path:
    """Run folders of tiny gru and bilstm models trained for 2 steps on the tiny corpus."""
    root = tmp_path_factory.mktemp("studio-trained")
    with _home_at(root):
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
    return root / "runs"


@pytest.fixture(scope="session")
def seeded_model_run(tmp_path_factory: pytest.TempPathFactory, tiny_corpus_file: Path) -> Path:
    """A run folder holding an untrained gru built from a fixed seed (its output layer sharpened so the
    probabilities spread): what snapshots show does not move when the training code changes."""
    import torch

    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.models import ModelConfig, build_model
    from tangstudio.engine.runs.checkpoint import save_checkpoint

    root = tmp_path_factory.mktemp("studio-seeded")
    with _home_at(root / "home"):
        from tangstudio.engine.corpus import load_corpus
        from tangstudio.engine.corpus.importer import import_corpus

        import_corpus(tiny_corpus_file, "tiny")
        corpus = load_corpus("tiny", "simplified")
        vocab = Vocab.build((p.text for p in corpus.select("regulated", "train")), "simplified")
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
