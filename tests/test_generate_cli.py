"""`tangstudio generate` and `tangstudio score` as a user runs them: real subprocesses, real checkpoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def tangstudio(*args: str, home: Path, models: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "COLUMNS": "120", "OMP_NUM_THREADS": "1"}
    if models is not None:
        env["TANGSTUDIO_MODELS"] = str(models)
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", *args], capture_output=True, text=True, env=env, timeout=180
    )


def _save(directory: Path, arch: str, corpus: str, script: str = "traditional") -> None:
    import torch

    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.models import ModelConfig, build_model
    from tangstudio.engine.runs.checkpoint import save_checkpoint

    texts = [p.text for p in load_corpus(corpus, script).poems]
    vocab = Vocab.build([*texts, "春夏秋冬床前明月光"], script)
    torch.manual_seed(0)
    config = ModelConfig(arch, len(vocab), embed=16, hidden=24, layers=1)
    model = build_model(config)
    meta = {
        "run": directory.name,
        "arch": arch,
        "model": config.to_dict(),
        "vocab": vocab.to_dict(),
        "script": script,
        "corpus": {"name": corpus, "fingerprint": "x"},
        "forms": "regulated",
        "step": 0,
        "ppl_kind": "causal" if config.causal else "pseudo",
    }
    save_checkpoint(directory, model.state_dict(), meta)


@pytest.fixture
def run(tiny_corpus, home) -> str:
    _save(home / "runs" / "tiny-lstm" / "checkpoints" / "best", "lstm", tiny_corpus)
    return "tiny-lstm"


def _one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_generate_json_has_the_form_rhyme_and_every_step(run, home):
    args = ("generate", "--model", run, "--form", "qijue", "-n", "3", "--seed", "0", "--json")
    result = tangstudio(*args, home=home)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["poems"]) == 3
    for poem in data["poems"]:
        assert poem["form"] == "qijue" and poem["check"]["form_ok"] and poem["check"]["rhyme_ok"]
        assert poem["check"]["tones_loose_ok"] and poem["rhyme_group"]
        assert poem["longest_shared_span"] is not None and poem["copied_lines"] == []
        steps = poem["steps"]
        assert "".join(s["chosen"] for s in steps) == poem["text"] and len(steps) == 32
        assert all(1 <= len(s["candidates"]) <= 10 and 0 < s["prob"] <= 1 for s in steps)
    again = json.loads(tangstudio(*args, home=home).stdout)
    assert [p["text"] for p in again["poems"]] == [p["text"] for p in data["poems"]]


def test_generate_acrostic_beam_and_show_probs(run, home):
    result = tangstudio(
        "generate",
        "--model",
        run,
        "--form",
        "qijue",
        "--acrostic",
        "春夏秋冬",
        "--beam",
        "3",
        "-n",
        "2",
        "--json",
        home=home,
    )
    assert result.returncode == 0, result.stderr
    poems = json.loads(result.stdout)["poems"]
    assert len(poems) == 2
    for poem in poems:
        assert [line[0] for line in poem["text"].replace("。", "，").split("，") if line] == list("春夏秋冬")
    shown = tangstudio(
        "generate",
        "--model",
        run,
        "--form",
        "wujue",
        "-n",
        "1",
        "--seed",
        "1",
        "--show-probs",
        "--prefix",
        "床前",
        home=home,
    )
    assert shown.returncode == 0, shown.stderr
    assert "床前" in shown.stdout and "alternatives" in shown.stdout


def test_bad_generate_options_are_one_line_errors(run, home):
    _one_line_error(
        tangstudio("generate", "--model", run, "--acrostic", "春夏秋冬春", home=home),
        "forms that fit: wulv, qilv, free",
    )
    _one_line_error(tangstudio("generate", "--model", run, "--form", "sonnet", home=home), "unknown form")
    _one_line_error(
        tangstudio("generate", "--model", run, "--prefix", "龘𪚥", home=home),
        "not in the model's vocabulary",
        "龘",
    )
    _one_line_error(tangstudio("generate", "--model", run, "--temperature", "-1", home=home), "temperature")
    _one_line_error(tangstudio("generate", "--model", "no-such-run", home=home), "unknown run")


def test_default_model_missing_says_how_to_train_one(home, tmp_path):
    result = tangstudio("generate", home=home, models=tmp_path / "models")
    _one_line_error(result, "tangstudio train --headless", "--model")
    _one_line_error(
        tangstudio("score", "床前明月光，疑是地上霜。", home=home, models=tmp_path / "models"), "train"
    )


def test_default_model_is_used_when_it_ships(tiny_corpus, home, tmp_path):
    _save(tmp_path / "models" / "default", "lstm", tiny_corpus)
    result = tangstudio(
        "generate", "-n", "1", "--form", "wujue", "--json", home=home, models=tmp_path / "models"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["poems"][0]["check"]["form_ok"]


def test_score_json_and_table(run, home):
    poem = "白日依山盡，黃河入海流。欲窮千里目，更上一層樓。"
    data = json.loads(tangstudio("score", poem, "--model", run, "--json", home=home).stdout)
    assert data["form"] == "wujue" and data["ppl_kind"] == "causal"
    assert [c["char"] for c in data["chars"]] == [*poem, "<eos>"]
    assert data["perplexity"] > 1 and all(0 < c["prob"] <= 1 and c["rank"] >= 1 for c in data["chars"])
    assert data["ppl"] == data["perplexity"]  # as eval --json names it (an engineer's review)
    table = tangstudio("score", poem, "--model", run, home=home)
    assert table.returncode == 0 and "perplexity" in table.stdout
    _one_line_error(tangstudio("score", "龘龘龘", "--model", run, home=home), "nothing to score")


def test_a_poem_typed_one_line_per_row_scores_and_checks_like_the_punctuated_one(run, home):
    punctuated = "白日依山盡，黃河入海流。欲窮千里目，更上一層樓。"
    rows = "白日依山盡\n黃河入海流\n欲窮千里目\n更上一層樓\n"
    scored = [
        json.loads(tangstudio("score", text, "--model", run, "--json", home=home).stdout)
        for text in (punctuated, rows, "白日依山盡 黃河入海流 欲窮千里目 更上一層樓")
    ]
    assert all(s["text"] == punctuated and s["form"] == "wujue" for s in scored)
    assert scored[1]["perplexity"] == scored[0]["perplexity"] == scored[2]["perplexity"]
    env = {**os.environ, "TANGSTUDIO_HOME": str(home)}
    piped = subprocess.run(
        [sys.executable, "-m", "tangstudio", "check", "-", "--json"],
        input=rows,
        text=True,
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert piped.returncode == 0 and json.loads(piped.stdout)["form"] == "wujue", piped.stderr
    for spelling in ("free", "other", "古体"):  # one name in the output, older and Chinese names read
        other = json.loads(tangstudio("check", "--form", spelling, "--json", punctuated, home=home).stdout)
        assert other["form"] == "free"


def test_bilstm_generates_by_filling(tiny_corpus, home):
    _save(home / "runs" / "tiny-bi" / "checkpoints" / "best", "bilstm", tiny_corpus)
    result = tangstudio(
        "generate", "--model", "tiny-bi", "--form", "wulv", "-n", "2", "--seed", "3", "--json", home=home
    )
    assert result.returncode == 0, result.stderr
    for poem in json.loads(result.stdout)["poems"]:
        assert poem["check"]["form_ok"] and poem["check"]["rhyme_ok"]
    _one_line_error(tangstudio("generate", "--model", "tiny-bi", "--beam", "2", home=home), "beam")
    data = json.loads(
        tangstudio("score", "白日依山盡，黃河入海流。", "--model", "tiny-bi", "--json", home=home).stdout
    )
    assert data["ppl_kind"] == "pseudo"
