"""`train --init-from` and `--author` (issue 21 §4): the source's vocabulary and weights carried
over by token, the markers added, unknown characters counted, and bad input refused in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tangstudio.engine.errors import TangError
from tangstudio.engine.runs.checkpoint import load_checkpoint
from tangstudio.engine.training import TrainConfig, train

pytestmark = pytest.mark.slow
TINY = {"corpus": "poets", "embed": 12, "hidden": 16, "layers": 1, "batch_size": 8, "samples": 0, "warmup": 1}
POET = "太宗皇帝"  # 56 train, 2 val and 6 test poems in this corpus


@pytest.fixture
def tiny_corpus(home: Path, tmp_path: Path) -> str:
    """The tiny corpus's 240 poems with their poets (the plain-text tiny corpus has no authors)."""
    import json

    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.importer import import_corpus

    poems = [p for p in load_corpus("tang", "traditional").poems if p.form != "other" and not p.lost][:240]
    rows = [{"id": p.id, "title": p.title, "author": p.author, "paragraphs": [p.text]} for p in poems]
    path = tmp_path / "poets.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    import_corpus(path, "poets")
    return "poets"


def source_run(name: str = "src") -> Path:
    """A tiny LSTM trained without plans: its vocabulary has no markers, like the old shipped model."""
    result = train(TrainConfig(arch="lstm", steps=2, eval_every=2, plan=False, run=name, **TINY))  # type: ignore[arg-type]
    return result.path


def test_init_from_carries_weights_by_token_and_adds_the_markers(tiny_corpus, home) -> None:
    source = load_checkpoint(source_run())
    assert not source.vocab.has_plan
    events: list[dict] = []
    result = train(
        TrainConfig(
            init_from="src",
            author=POET,
            steps=1,
            eval_every=1,
            lr=1e-12,  # one step that moves nothing: what is loaded is what was carried over
            run="ft",
            corpus="poets",
            batch_size=8,
            samples=0,
            warmup=0,
        ),
        callbacks=events.append,
    )
    tuned = load_checkpoint(result.path, which="last")
    assert tuned.vocab.has_plan
    assert tuned.config.hidden == 16 and tuned.config.embed == 12, "the source's shape is taken over"
    old, new = source.model.embedding.weight, tuned.model.embedding.weight
    first = source.vocab.first_char_id
    for char in [*source.vocab.itos[first : first + 3], *source.vocab.itos[-3:]]:
        assert torch.allclose(new[tuned.vocab.stoi[char]], old[source.vocab.stoi[char]], atol=1e-6)
    assert tuned.vocab.stoi["<kw>"] == source.vocab.first_char_id + 1
    start = next(e for e in events if e["event"] == "start")
    assert start["unknown_chars"] == 0, "the tiny corpus's own vocabulary covers its poet"
    assert start["train_poems"] == 56


def test_init_from_counts_characters_outside_the_vocabulary(tiny_corpus, home) -> None:
    source_run()
    # The same corpus in the other script: most traditional forms are outside a simplified vocabulary.
    events: list[dict] = []
    with pytest.raises(TangError, match="another script"):
        train(TrainConfig(init_from="src", script="traditional", steps=1, run="x", **TINY))  # type: ignore[arg-type]
    train(
        TrainConfig(
            init_from="src", steps=1, eval_every=1, run="ok", corpus="poets", batch_size=8, samples=0
        ),
        callbacks=events.append,
    )
    start = next(e for e in events if e["event"] == "start")
    assert start["unknown_chars"] is not None


def test_bad_author_and_init_from_are_one_line_exit_2(tiny_corpus, home) -> None:
    source_run()
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "OMP_NUM_THREADS": "1"}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "tangstudio", *args], capture_output=True, text=True, env=env, timeout=120
        )

    unknown = cli(
        "train", "--headless", "--corpus", "poets", "--author", "太宗", "--steps", "1", "--run", "a1"
    )
    assert unknown.returncode == 2 and "closest: 太宗皇帝" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
    shape = cli(
        "train", "--headless", "--corpus", "poets", "--init-from", "src", "--hidden", "64", "--run", "a2"
    )
    assert shape.returncode == 2 and "--hidden" in shape.stderr and "Traceback" not in shape.stderr
    missing = cli("train", "--headless", "--corpus", "poets", "--init-from", "nope", "--run", "a3")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert not (home / "runs" / "a1").exists() and not (home / "runs" / "a2").exists()


def test_a_lab_model_with_an_author_is_refused_in_one_line(tiny_corpus, home) -> None:
    """`--author` reads the source's script before torch loads; a classifier has none to read."""
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "OMP_NUM_THREADS": "1"}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "tangstudio", *args], capture_output=True, text=True, env=env, timeout=120
        )

    trained = cli(
        "lab", "digits", "train", "--run", "d1", "--steps", "1", "--hidden", "4", "--eval-every", "1"
    )
    assert trained.returncode == 0, trained.stderr
    refused = cli("train", "--headless", "--init-from", "d1", "--author", "李白", "--run", "p1")
    assert refused.returncode == 2 and "not a poem model" in refused.stderr, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and not (home / "runs" / "p1").exists()


def test_by_author_keeps_one_poet_and_names_the_closest() -> None:
    from tangstudio.engine.corpus.authors import by_author
    from tangstudio.engine.corpus.poem import Poem

    poems = [
        Poem("1", "t", "白居易", "春风。", "other", "train"),
        Poem("2", "t", "李白", "秋月。", "other", "train"),
        Poem("3", "t", "白居易", "夏雨。", "other", "test"),
    ]
    train_only = [p for p in poems if p.split == "train"]
    assert [p.id for p in by_author(train_only, "白居易", poems)] == ["1"]
    assert by_author(poems, None) == poems
    with pytest.raises(TangError, match="closest: 白居易"):
        by_author(poems, "白居")
    with pytest.raises(TangError, match="no poems in this selection") as refused:
        by_author([p for p in poems if p.author == "李白"], "白居易", poems)
    # `train` has no --split: the hint says which command has one (an evaluator's review)
    assert "widen --forms (`eval` can also read another --split" in str(refused.value)


def test_eval_scores_an_init_from_run_on_other_forms(tiny_corpus, home) -> None:
    """Leg 3's case: a run that started from a regulated-verse model and trained on every form reads
    the source's vocabulary, so `eval` must not refuse it for differing from its own train split,
    and `--forms` scores it on the regulated poems the composer writes."""
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.training.evaluate import evaluate_checkpoint

    train(TrainConfig(arch="lstm", steps=2, eval_every=2, forms="regulated", run="reg", **TINY))  # type: ignore[arg-type]
    wide = {**TINY, "forms": "all", "steps": 1, "eval_every": 1}
    train(
        TrainConfig(
            init_from="reg",
            run="wide",
            **{k: v for k, v in wide.items() if k not in ("embed", "hidden", "layers")},
        )
    )  # type: ignore[arg-type]

    own = evaluate_checkpoint("wide", split="val")
    assert own["forms"] == own["trained_forms"] == "all"
    assert own["unknown_chars"] > 0, "free verse holds characters the regulated vocabulary lacks"
    regulated = evaluate_checkpoint("wide", split="val", forms="regulated")
    assert (regulated["forms"], regulated["trained_forms"]) == ("regulated", "all")
    expected = load_corpus("poets", "simplified").select("regulated", "val")
    assert regulated["poems"] == len(expected) < own["poems"]

    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "OMP_NUM_THREADS": "1"}
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "tangstudio", "eval", "wide", *a],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    shown = run("--forms", "regulated")
    assert shown.returncode == 0 and "trained on" in shown.stdout and "all" in shown.stdout
    bad = run("--forms", "sonnet")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "sonnet" in bad.stderr
