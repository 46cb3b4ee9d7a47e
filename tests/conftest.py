"""Shared fixtures: every test gets its own tangstudio home, and a tiny corpus when it asks."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_POEMS = 240


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh TANGSTUDIO_HOME per test, so no test reads or writes the user's real one."""
    path = tmp_path / "home"
    monkeypatch.setenv("TANGSTUDIO_HOME", str(path))
    return path


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
