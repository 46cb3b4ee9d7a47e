"""`tangstudio compare`: a tiny study trains every architecture on the same batches, prints a table
with the BiLSTM's pseudo-perplexity apart, saves runs, a study file and a PNG; bad input is refused
before anything is trained."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import interrupt_once_logged

pytestmark = pytest.mark.slow
SMALL = [
    "--corpus",
    "tiny",
    "--embed",
    "12",
    "--hidden",
    "16",
    "--layers",
    "1",
    "--batch-size",
    "16",
    "--threads",
    "1",
]


def cli(*args: str, home: Path, timeout: int = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "COLUMNS": "200", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}


def test_tiny_study_makes_runs_table_json_and_png(tiny_corpus, home, tmp_path):
    png = tmp_path / "curves.png"
    result = cli(
        "compare", *SMALL, "--steps", "8", "--eval-every", "4", "--prefix", "s", "--plot", str(png), home=home
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "architecture study s" in out and "pseudo-loss (pseudo-ppl)" in out and "n/a (pseudo)" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    for arch in ("rnn", "lstm", "gru", "bilstm"):
        metrics = home / "runs" / f"s-{arch}" / "metrics.jsonl"
        events = [json.loads(line) for line in metrics.read_text(encoding="utf-8").splitlines()]
        assert (
            events[-1]["event"] == "done" and events[-1]["status"] == "finished" and events[-1]["step"] == 8
        )

    study = json.loads((home / "studies" / "s.json").read_text(encoding="utf-8"))
    archs = {a["arch"]: a for a in study["archs"]}
    assert list(archs) == ["rnn", "lstm", "gru", "bilstm"]
    # Each curve is drawn against the characters its own run trained on, as the trainer counted
    # them (they were rebuilt from another batch plan: an RNN student's review); same seed and
    # lengths, the causal cells read the same.
    for arch, a in archs.items():
        metrics = home / "runs" / f"s-{arch}" / "metrics.jsonl"
        told = [(e["step"], e["train_chars"]) for e in map(json.loads, metrics.read_text().splitlines())
                if e["event"] == "eval"]  # fmt: skip
        assert [(p["step"], p["chars"]) for p in a["curve"]] == told, arch
        assert a["chars_seen"] == told[-1][1]
    curves = [[(p["step"], p["chars"]) for p in archs[arch]["curve"]] for arch in ("rnn", "lstm", "gru")]
    assert all(c == curves[0] for c in curves) and [s for s, _ in curves[0]] == [4, 8]
    assert curves[0][0][1] > 0 and curves[0][1][1] > curves[0][0][1]
    causal = [a for a in archs.values() if a["ppl_kind"] == "causal"]
    assert archs["bilstm"]["ppl_kind"] == "pseudo" and archs["bilstm"]["target_step"] is None
    # The default target is the worst causal best: every causal arch reaches it, one of them only at its best.
    assert study["target_loss"] == pytest.approx(max(a["best_val_loss"] for a in causal))
    assert all(a["target_step"] is not None for a in causal)
    for a in archs.values():
        assert a["params"] > 0 and a["chars_per_s"] > 0 and 0 < a["train_s"] <= a["elapsed_s"]
        assert a["best_val_loss"] == pytest.approx(min(p["val_loss"] for p in a["curve"]))

    from tangstudio.engine.study.positions import loss_by_position

    for arch in ("lstm", "bilstm"):  # the position buckets add up to the val loss the engine counted
        split = loss_by_position(f"s-{arch}")
        mean = sum(loss * c for loss, c in zip(split["loss"], split["count"]) if c) / sum(split["count"])
        assert mean == pytest.approx(archs[arch]["best_val_loss"], abs=1e-6)
        assert split["ppl_kind"] == archs[arch]["ppl_kind"] and split["count"][0] > 0

    from tangstudio.engine.errors import TangError
    from tangstudio.engine.study.left_to_right import left_to_right_loss

    l2r = left_to_right_loss("s-bilstm", "s-lstm", poems=1000)  # the whole tiny val split
    assert l2r["tokens"] == sum(split["count"]) and l2r["causal_arch"] == "lstm"
    assert l2r["bilstm_pseudo"] == pytest.approx(archs["bilstm"]["best_val_loss"], abs=1e-6)
    assert l2r["causal"] == pytest.approx(archs["lstm"]["best_val_loss"], abs=1e-6)
    assert math.isfinite(l2r["bilstm_left_to_right"]) and l2r["bilstm_left_to_right"] > 0
    with pytest.raises(TangError, match="causal model"):
        left_to_right_loss("s-gru")

    shown = cli("compare", "--show", "s", "--json", home=home)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["archs"] == study["archs"]
    md = cli("compare", "--show", "s", "--markdown", "--positions", home=home)
    assert md.returncode == 0, md.stderr
    table_lines = [line for line in md.stdout.splitlines() if line.startswith("| ")]
    assert [line.split(" | ")[0] for line in table_lines[1:5]] == ["| rnn", "| lstm", "| gru", "| bilstm"]
    assert "target val loss" in md.stdout and table_lines[-1].startswith("| tokens")
    # A bucket no poem reaches is None (JSON has no NaN: `--positions --json` printed a bare NaN).
    beyond = loss_by_position("s-lstm", edges=(12, 1000))
    assert beyond["count"][-1] == 0 and beyond["loss"][-1] is None and beyond["loss"][0] > 0
    from tangstudio.cli.compare_cmd import _position_rows

    assert _position_rows([beyond])[1][-1] == "–"


def test_given_target_and_the_characters_count(tiny_corpus, home):
    import torch

    from tangstudio.engine.errors import TangError
    from tangstudio.engine.study import run_study
    from tangstudio.engine.study.compare import cumulative_chars, load_studies, study_path
    from tangstudio.engine.training import TrainConfig
    from tangstudio.engine.training.batching import plan_epoch
    from tangstudio.engine.training.data import load_training_data

    torch.set_num_threads(1)
    base = TrainConfig(
        corpus=tiny_corpus, embed=8, hidden=8, layers=1, batch_size=16, steps=6, eval_every=3, samples=0
    )
    easy = run_study(base, ["gru"], "easy", target_loss=50.0)
    assert easy.target_rule.startswith("given") and easy.archs[0].target_step == 3
    hard = run_study(base, "rnn", "hard", target_loss=0.01)
    assert hard.archs[0].target_step is None and hard.target_loss == 0.01

    both = load_studies("hard,easy")  # two saved studies as one table, the target worked out again
    assert [a.arch for a in both.archs] == ["rnn", "gru"] and both.target_loss == 0.01
    assert all(a.target_step is None for a in both.archs)
    odd = json.loads(study_path("easy").read_text(encoding="utf-8"))
    odd["config"]["hidden"], odd["archs"][0]["arch"] = 99, "lstm"
    study_path("odd").write_text(json.dumps(odd), encoding="utf-8")
    with pytest.raises(TangError, match="differ in hidden"):
        load_studies("easy,odd")
    with pytest.raises(TangError, match="more than one"):
        load_studies("easy,easy")

    data = load_training_data(tiny_corpus, "simplified", "regulated", 256)
    lengths = [len(s) for s in data.train]
    plan = plan_epoch(lengths, 16, 0, 0)
    per_epoch, used = len(plan), [i for batch in plan for i in batch]
    assert (
        len(set(used)) == len(used) > len(lengths) - 16
    )  # an epoch reads each poem once (bar a partial batch)
    cum = cumulative_chars(lengths, 16, 0, per_epoch + 2)
    assert cum[per_epoch] == sum(lengths[i] - 1 for i in used)
    assert len(cum) == per_epoch + 3 and cum[per_epoch + 2] > cum[per_epoch]


def test_bad_input_is_one_line_exit_2_and_trains_nothing(tiny_corpus, home, tmp_path):
    from typer.testing import CliRunner

    from tangstudio.cli import app
    from tangstudio.engine.errors import TangError

    assert (
        cli(
            "compare",
            *SMALL,
            "--archs",
            "gru",
            "--steps",
            "2",
            "--eval-every",
            "2",
            "--prefix",
            "taken",
            home=home,
        ).returncode
        == 0
    )
    before = snapshot(home)
    for args, message in [
        (["--archs", "rnn,transformer"], "unknown architecture 'transformer'"),
        (["--prefix", "taken", "--archs", "gru"], "already exists"),
    ]:
        result = cli("compare", *SMALL, *args, home=home)  # as a user sees it: one line, exit 2
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, (
            args,
            result.stderr,
        )
        assert "Traceback" not in result.stderr
    cases = [
        (["--archs", "gru,gru"], "twice"),
        (["--archs", ","], "--archs is empty"),
        (["--prefix", "taken", "--archs", "lstm"], "already exists"),
        (["--prefix", "bad/name"], "invalid run name"),
        (["--minutes", "1", "--steps", "3"], "only one of --minutes and --steps"),
        (["--minutes", "-1"], "--minutes must be positive"),
        (["--corpus", "nope", "--steps", "2"], "unknown corpus"),
        (["--steps", "2", "--plot", str(tmp_path / "missing" / "c.png")], "does not exist"),
        (["--steps", "2", "--plot", str(tmp_path / "c.svg")], "ending in .png"),
        (["--steps", "2", "--target-loss", "-1"], "--target-loss must be a positive"),
        (["--steps", "2", "--threads", "0"], "--threads must be between 1 and 256"),
        (["--steps", "2", "--threads", "100000"], "--threads must be between 1 and 256"),  # it segfaulted
        (["--show", "ghost"], "no study named 'ghost'"),
        (["--steps", "2", "--positions"], "--positions reads a saved study"),
        (["--steps", "2", "--markdown"], "--markdown reads a saved study"),
    ]
    for (
        args,
        message,
    ) in cases:  # in this process (fast): the engine's TangError, which main() prints as one line
        result = CliRunner().invoke(app, ["compare", *SMALL, *args])  # a repeated option: the last one wins
        assert isinstance(result.exception, TangError), (args, result.output, result.exception)
        assert message in str(result.exception), (args, str(result.exception))
    assert snapshot(home) == before


def test_a_comparisons_forget_bias_goes_to_the_cells_that_have_a_forget_gate(home):
    """A review of this stop's diff: once --forget-bias was refused for an RNN or GRU, `compare
    --forget-bias 1` over the four architectures was refused whole."""
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.study.compare import plan_study
    from tangstudio.engine.training.config import TrainConfig

    configs = plan_study(TrainConfig(forget_bias=1.0, minutes=1), ["rnn", "lstm", "gru", "bilstm"], "fb")
    assert [(c.arch, c.forget_bias) for c in configs] == [
        ("rnn", 0.0),
        ("lstm", 1.0),
        ("gru", 0.0),
        ("bilstm", 1.0),
    ]
    with pytest.raises(TangError, match="none of these architectures has one"):
        plan_study(TrainConfig(forget_bias=1.0, minutes=1), ["rnn", "gru"], "fb2")


def test_a_stopped_comparison_says_what_it_kept_and_how_to_go_on(tiny_corpus, home):
    """Ctrl+C in a comparison exited 130 with nothing on stderr, and the same command again was
    refused ("already exists") with no word of what to do (an engineer's review)."""

    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "COLUMNS": "200", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tangstudio", "compare", "--archs", "rnn,gru,lstm", *SMALL, "--steps", "100000",
         "--eval-every", "5", "--prefix", "cut"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    metrics = home / "runs" / "cut-rnn" / "metrics.jsonl"
    err = interrupt_once_logged(proc, metrics, "eval")
    said = err.strip().splitlines()[-1]
    assert "the study 'cut' keeps what ran (nothing finished)" in said
    assert "cut-rnn stopped with a checkpoint" in said and "not trained: gru, lstm" in said
    assert "another --prefix" in said and "compare --show cut" in said
    assert cli("compare", "--show", "cut", home=home).returncode == 0


def test_the_target_rule_names_an_architecture_stopped_before_its_first_evaluation() -> None:
    """An engineer's review: an interrupted compare showed gru "not reached" above "the worst causal
    architecture's best val loss, so every causal architecture reaches it"."""
    from tangstudio.engine.study.compare import ArchResult, EvalPoint, apply_target

    def arch(name: str, best: float | None) -> ArchResult:
        curve = (
            [EvalPoint(step=10, elapsed_s=1.0, train_s=1.0, chars=100, val_loss=best, val_ppl=1.0)]
            if best is not None
            else []
        )
        return ArchResult(
            name, name, "", 1, "finished", 10, 1.0, 1.0, 1.0, 100, 1.0, best, None, "causal", curve
        )

    target, rule = apply_target([arch("rnn", 5.0), arch("lstm", 4.0)], None)
    assert target == 5.0 and rule.endswith("so every causal architecture reaches it")
    target, rule = apply_target([arch("rnn", 5.0), arch("gru", None)], None)
    assert target == 5.0 and rule.endswith(
        "every causal architecture evaluated reaches it (gru: no evaluation)"
    )
