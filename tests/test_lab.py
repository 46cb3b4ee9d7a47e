"""The lab: many-to-one models, the memory task, gradient norms and the digits CLI end to end."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from tangstudio.engine.errors import TangError
from tangstudio.engine.lab.gradients import cell_grad_norms, hidden_grad_norms
from tangstudio.engine.lab.inspect import half_block_lines, knows_at
from tangstudio.engine.lab.models import ClassifierConfig, build_classifier, recurrent_parameters, to_cells
from tangstudio.engine.lab.tasks import DISTRACTORS, QUERY, SYMBOLS, MemoryTask, memory_sequences

ARCHS = ("rnn", "lstm", "gru", "bilstm")


@pytest.mark.parametrize("arch", ARCHS)
def test_many_to_one_shapes_and_cells_agree(arch):
    torch.manual_seed(0)
    model = build_classifier(ClassifierConfig(arch, 28, 10, hidden=12))
    x = torch.randn(5, 28, 28)
    logits = model(x)
    assert logits.shape == (5, 10)
    assert torch.allclose(to_cells(model)(x), logits, atol=1e-5)
    by_row = model.prefix_logits(x)
    assert by_row.shape == (5, 28, 10)
    assert torch.allclose(by_row[:, -1], logits, atol=1e-5)  # after the last row: the model's answer


def test_one_directional_models_read_only_the_past():
    torch.manual_seed(0)
    model = build_classifier(ClassifierConfig("lstm", 28, 10, hidden=12))
    x = torch.randn(2, 28, 28)
    changed = x.clone()
    changed[:, 20:] += 1.0
    assert torch.allclose(model.prefix_logits(x)[:, :20], model.prefix_logits(changed)[:, :20])


def test_bilstm_reads_both_directions():
    torch.manual_seed(0)
    model = build_classifier(ClassifierConfig("bilstm", 28, 10, hidden=12))
    assert recurrent_parameters(model) == 2 * recurrent_parameters(
        build_classifier(ClassifierConfig("lstm", 28, 10, hidden=12))
    )
    x = torch.randn(2, 28, 28)
    h = 12
    # Each half is one direction's final state: forward after row 28, backward after row 1.
    forward, _ = model.rnn(x)
    back, _ = model.rnn_back(x.flip(1))
    assert torch.allclose(model.features(x), torch.cat([forward[:, -1], back[:, -1]], -1))
    # So the last row moves the forward half at once and the first row the backward half at once:
    # each end of the image is read last (freshest) by one of the directions.
    for row, half in ((27, slice(0, h)), (0, slice(h, 2 * h))):
        changed = x.clone()
        changed[:, row] += 1.0
        assert (model.features(changed) - model.features(x))[:, half].abs().max() > 1e-2
    assert model(x).shape == (2, 10)


def test_memory_sequences_put_the_target_exactly_T_steps_before_the_query():
    rng = np.random.default_rng(3)
    for T in (1, 2, 10, 57):
        tokens, targets = memory_sequences(200, T, rng)
        assert tokens.shape == (200, T + 1)
        assert (tokens[:, 0] == targets).all() and (targets < SYMBOLS).all()
        assert (tokens[:, T] == QUERY).all()
        assert ((tokens[:, 1:T] >= SYMBOLS) & (tokens[:, 1:T] < SYMBOLS + DISTRACTORS)).all()
        query_at = np.argmax(tokens == QUERY, axis=1)
        assert (query_at - 0 == T).all()  # cause at 0, effect at T: the distance is exact
    assert set(targets.tolist()) == set(range(SYMBOLS))  # every symbol occurs
    with pytest.raises(TangError):
        memory_sequences(1, 0, rng)


def test_memory_batches_depend_on_seed_and_step_only():
    task = MemoryTask(10)
    a, b = task.train_batch(5, 8, 1), task.train_batch(5, 8, 1)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(task.train_batch(6, 8, 1).y, a.y) or not np.array_equal(
        task.train_batch(6, 8, 1).x, a.x
    )
    assert a.x.shape == (8, 11, task.input_size)
    assert (a.x[np.arange(8), 0].argmax(-1) == a.y).all()


@pytest.mark.parametrize("a", [0.5, 0.9, 1.1])
def test_gradient_norms_of_a_linear_rnn_are_powers_of_a(a):
    """h_t = a·h_{t−1} + x_t, L = Σ h_T: ∂L/∂h_t = a^(T−t)·1, so the norm is a^(T−t)·√H."""
    H, T = 4, 12
    xs = torch.randn(3, T, H)
    norms = hidden_grad_norms(lambda x, h: a * h + x, torch.zeros(3, H), xs, lambda h: h.sum())
    assert len(norms) == T
    for t, norm in enumerate(norms):
        assert math.isclose(norm, a ** (T - 1 - t) * math.sqrt(H), rel_tol=1e-5)
        assert math.isclose(norm / norms[-1], a ** (T - 1 - t), rel_tol=1e-5)


def test_gradient_norms_through_the_cells_match_autograd_on_the_fused_model():
    torch.manual_seed(1)
    model = build_classifier(ClassifierConfig("rnn", 5, 3, hidden=6))
    x, y = torch.randn(4, 7, 5), torch.tensor([0, 1, 2, 0])
    norms = cell_grad_norms(model, x, y)["h"]
    assert len(norms) == 7
    # The last state's gradient is the head's: dL/dh_T = Vᵀ(softmax − onehot), row by row.
    with torch.no_grad():
        out, _ = model.rnn(x)
        p = torch.softmax(model.head(out[:, -1]), -1) - torch.nn.functional.one_hot(y, 3)
        expected = (p @ model.head.weight).norm(dim=-1).mean()
    assert math.isclose(norms[-1], float(expected), rel_tol=1e-5)
    with pytest.raises(TangError):
        cell_grad_norms(build_classifier(ClassifierConfig("bilstm", 5, 3, hidden=6)), x, y)


def test_the_lstm_cell_path_gradient_is_the_total_derivative_at_each_step():
    """‖∂L_T/∂C_t‖ checked against autograd asked another way: a zero nudge δ added to C_t in a
    plain unroll, ∂L/∂δ = ∂L/∂C_t through every later step (the cell path and the h path)."""
    torch.manual_seed(2)
    model = build_classifier(ClassifierConfig("lstm", 5, 3, hidden=6, forget_bias=2.0))
    x, y = torch.randn(4, 9, 5), torch.tensor([0, 1, 2, 0])
    norms = cell_grad_norms(model, x, y)
    assert set(norms) == {"h", "C"} and len(norms["C"]) == 9
    cells = to_cells(model)
    cell = cells.rnn.cells[0]
    for t in (0, 4, 8):
        delta = torch.zeros(4, 6, requires_grad=True)
        h, C = torch.zeros(4, 6), torch.zeros(4, 6)
        for step in range(9):
            h_prev, C_prev = h, C
            h, C = cell(x[:, step], (h_prev, C_prev))
            if step == t:
                hx = torch.cat([h_prev, x[:, step]], dim=-1)
                C = C + delta  # h_t is read from the nudged C_t, as the cell reads it
                h = torch.sigmoid(cell.W_o(hx)) * torch.tanh(C)
        loss = torch.nn.functional.cross_entropy(cells.head(h), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, delta)
        assert math.isclose(norms["C"][t], float(grad.norm(dim=-1).mean()), rel_tol=1e-4)
    assert "C" not in cell_grad_norms(build_classifier(ClassifierConfig("gru", 5, 3, hidden=6)), x, y)


def test_half_blocks_and_when_it_knows():
    image = np.zeros((4, 3), dtype=np.uint8)
    image[0, 0] = image[1, 1] = image[0, 2] = image[1, 2] = image[3, 0] = 255
    assert half_block_lines(image) == ["▀▄█", "▄  "]
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    assert knows_at(probs) == 2
    assert knows_at(np.array([[0.1, 0.9], [0.2, 0.8]])) == 1


def cli(*args: str, home: Path, columns: int = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "COLUMNS": str(columns), "OMP_NUM_THREADS": "1"}
    env.pop("FORCE_COLOR", None)  # stdout is a pipe here: what a pipe gets is what is tested
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "low, high, expected",
    [
        (-0.6, 0.0, [0, -1]),  # one decade: still a scale (plotext's own ticks read -0.00)
        (-3.2, 0.0, [0, -1, -2, -3, -4]),
        (-23.0, 0.2, [1, -4, -9, -14, -19, -24]),  # every value inside the ticks' span
        (-44.9, 0.0, [0, -9, -18, -27, -36, -45]),
    ],
)
def test_gradient_chart_ticks_are_powers_of_ten_spanning_the_values(low, high, expected):
    from tangstudio.engine.lab.charts import decade_label, decade_ticks

    ticks = decade_ticks(low, high)
    assert ticks == expected
    assert ticks[0] >= high and ticks[-1] <= low and len(ticks) <= 6
    assert [decade_label(k) for k in (1, 0, -5)] == ["10", "1", "1e-5"]


def test_digits_train_eval_show_and_resume_through_the_cli(home):
    out = cli(
        "lab",
        "digits",
        "train",
        "--run",
        "d1",
        "--arch",
        "gru",
        "--hidden",
        "16",
        "--steps",
        "30",
        "--eval-every",
        "15",
        home=home,
    )
    assert out.returncode == 0, out.stderr
    assert "best val accuracy" in out.stdout
    result = json.loads(cli("lab", "digits", "eval", "d1", "--json", home=home).stdout)
    assert result["count"] == 1000 and result["split"] == "test"
    assert sum(map(sum, result["confusion"])) == 1000
    assert math.isclose(result["accuracy"], sum(result["confusion"][i][i] for i in range(10)) / 1000)
    assert len(result["misclassified"]) == 1000 - sum(result["confusion"][i][i] for i in range(10))
    # when the cell commits (docs/study.md's "settles at row" table), over the digits read right
    settled = result["settles_at"]
    right = sum(result["confusion"][i][i] for i in range(10))
    assert 1 <= settled["q1"] <= settled["median"] <= settled["q3"] <= 28 and 0 < settled["digits"] <= right
    text = cli("lab", "digits", "eval", "d1", home=home).stdout
    assert "confusion matrix" in text and "accuracy" in text
    assert f"settles at row {settled['median']:g} (median; quartiles" in text
    assert "see them with: tangstudio lab digits show d1 --wrong" in text
    on_val = cli("lab", "digits", "eval", "d1", "--split", "val", home=home).stdout  # the hint named test's
    assert "see them with: tangstudio lab digits show d1 --split val --wrong" in on_val
    shown = cli("lab", "digits", "show", "d1", "--index", "3", home=home)
    assert shown.returncode == 0, shown.stderr
    assert any(ch in shown.stdout for ch in "▀▄█") and "P(class) after each row" in shown.stdout
    assert "note: a BiLSTM" not in shown.stdout  # the caveat is the BiLSTM's alone (below)
    reading = json.loads(cli("lab", "digits", "show", "d1", "--index", "3", "--json", home=home).stdout)
    assert len(reading["probs_by_row"]) == 28
    assert all(math.isclose(sum(p), 1.0, rel_tol=1e-4) for p in reading["probs_by_row"])
    listed = cli("runs", "list", home=home).stdout
    assert "d1" in listed and "digits" in listed
    shown_run = cli("runs", "show", "d1", home=home).stdout  # a classifier: accuracy, not perplexity
    assert "best val accuracy" in shown_run and "val accuracy" in shown_run and "bits/char" not in shown_run
    resumed = cli("lab", "digits", "train", "--run", "d1", "--resume", "--steps", "45", home=home)
    assert resumed.returncode == 0, resumed.stderr
    events = [json.loads(x) for x in (home / "runs" / "d1" / "metrics.jsonl").read_text().splitlines()]
    assert max(e["step"] for e in events) == 45
    assert [e["status"] for e in events if e["event"] == "done"] == ["finished"]  # the first done was trimmed
    # each cell at the rate the study picked for it (a student's review: every cell ran at 2e-3)
    assert tomllib.loads((home / "runs" / "d1" / "config.toml").read_text())["lr"] == 1e-2
    rnn = cli(
        "lab", "digits", "train", "--run", "r1", "--arch", "rnn", "--hidden", "8", "--steps", "1", home=home
    )
    assert rnn.returncode == 0, rnn.stderr
    assert tomllib.loads((home / "runs" / "r1" / "config.toml").read_text())["lr"] == 3e-3


def test_cli_errors_are_one_line_exit_2(home):
    for args in (
        ["lab", "digits", "train", "--run", "x", "--arch", "transformer", "--steps", "1"],
        ["lab", "digits", "train", "--run", "x"],
        ["lab", "digits", "eval", "nope"],
        ["lab", "memory", "show", "nothing"],
        ["lab", "memory", "run", "--archs", "lstm-fbx"],
        # Numbers that tracebacked (StatisticsError, numpy's negative seed, torch's 0 threads):
        ["lab", "speed", "--steps", "0"],
        ["lab", "speed", "--steps", "-2"],
        ["lab", "memory", "run", "--batch-size", "-1"],
        ["lab", "memory", "run", "--threads", "0"],
        ["lab", "digits", "train", "--run", "x", "--steps", "1", "--seed", "-1"],
    ):
        out = cli(*args, home=home)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stderr.startswith("error:") and len(out.stderr.strip().splitlines()) == 1, out.stderr


@pytest.mark.slow
def test_memory_run_and_show(home, tmp_path):
    png = tmp_path / "m.png"
    out = cli(
        "lab",
        "memory",
        "run",
        "--archs",
        "rnn,lstm-fb2",
        "--distances",
        "3,5",
        "--seeds",
        "2",
        "--steps",
        "5",
        "--png",
        str(png),
        home=home,
    )
    assert out.returncode == 0, out.stderr
    assert png.stat().st_size > 1000
    summary = json.loads(cli("lab", "memory", "show", "--json", home=home).stdout)
    assert {(r["arch"], r["distance"]) for r in summary["summary"]} == {
        ("rnn", 3),
        ("rnn", 5),
        ("lstm-fb2", 3),
        ("lstm-fb2", 5),
    }
    assert all(r["seeds"] == 2 for r in summary["summary"])
    # No --grad-distance and no 100 among the distances: the longest, T = 5 (T + 1 steps).
    assert summary["settings"]["grad_distance"] == 5 and len(summary["gradients"]["rnn"]["init"]) == 6


def fake_study(distances, archs, accuracy, seeds=(0, 1)):
    """A memory study as `lab memory run` saves it, without training: what the readers are given."""
    settings = {
        "archs": list(archs),
        "distances": list(distances),
        "seeds": list(seeds),
        "steps": 5,
        "hidden": 4,
        "lr": {a: 0.003 for a in archs},
        "batch_size": 2,
        "grad_distance": distances[0],
    }
    runs = [
        {"arch": a, "distance": T, "seed": s, "accuracy": accuracy + s / 10, "cpu_s": 1.0}
        for T in distances
        for a in archs
        for s in seeds
    ]
    norms = [0.25, 0.5, 1.0]
    return {
        "kind": "lab-memory",
        "settings": settings,
        "runs": runs,
        "gradients": {a: {"init": norms, "trained": norms} for a in archs},
    }


def test_memory_studies_at_different_distances_merge_into_one():
    from tangstudio.engine.lab.memory import merge_results, summary

    study = fake_study

    merged = merge_results([study([10, 50], ["rnn", "lstm"], 0.5), study([200], ["lstm", "rnn"], 0.1)])
    assert merged["settings"]["distances"] == [10, 50, 200]
    rows = {(r["arch"], r["distance"]): r for r in summary(merged)}
    assert len(rows) == 6 and rows[("rnn", 200)]["seeds"] == 2
    assert math.isclose(rows[("lstm", 200)]["mean"], 0.15) and math.isclose(
        rows[("lstm", 10)]["sd"], 0.0707106781, rel_tol=1e-6
    )
    assert set(merged["gradients_by_distance"]) == {"10", "200"}
    other = study([100], ["rnn", "lstm"], 0.5)
    other["settings"]["steps"] = 6
    other["settings"]["lr"]["rnn"] = 0.01
    with pytest.raises(TangError) as refused:  # naming what differs (a student's review)
        merge_results([study([10], ["rnn", "lstm"], 0.5), other])
    assert str(refused.value).endswith(
        f"agree: steps {study([10], ['rnn'], 0.5)['settings']['steps']} and 6; rnn's lr 0.003 and 0.01"
    )


def test_a_bad_memory_grid_is_refused_before_the_first_cell_trains(home):
    """A bad T or batch size surfaced (or tracebacked) only after the cells before it had trained."""
    from tangstudio.engine.lab.memory import run_memory_study

    trained = []
    for kwargs in ({"distances": (3, 0)}, {"batch_size": 0}, {"hidden": 0}, {"seeds": (0, -1)}):
        grid = {"distances": (3,), "seeds": (0,), "steps": 2, "hidden": 4, "grad_distance": 3, **kwargs}
        with pytest.raises(TangError):
            run_memory_study(("rnn",), **grid, on_result=trained.append)
    assert trained == []


def test_the_same_network_on_the_cells_says_why_it_counts_fewer_parameters(home):
    """82,186 parameters fused and 81,674 on the cells, for one LSTM, with nothing saying why: the
    start line names the biases, and `runs list` marks the run on the cells."""
    fused = cli(
        "lab", "digits", "train", "--run", "df", "--arch", "lstm", "--hidden", "8", "--steps", "1", home=home
    )
    cells = cli(
        "lab", "digits", "train", "--run", "dc", "--arch", "lstm", "--hidden", "8", "--steps", "1",
        "--impl", "cells", home=home,
    )  # fmt: skip
    assert fused.returncode == 0 and cells.returncode == 0, fused.stderr + cells.stderr
    f = int(
        re.search(r"df: lstm on digits, ([\d,]+) parameters \(fused: b_ih and b_hh", fused.stdout)[1].replace(
            ",", ""
        )
    )
    c = int(
        re.search(r"dc: lstm on digits, ([\d,]+) parameters \(cells: one bias", cells.stdout)[1].replace(
            ",", ""
        )
    )
    assert f - c == 4 * 8  # one bias vector of 8 for each of the four gates
    rows = {
        line.split()[0]: line for line in cli("runs", "list", home=home).stdout.splitlines() if line.strip()
    }
    assert "lstm cells" in rows["dc"] and "cells" not in rows["df"], rows


def test_a_memory_study_keeps_the_cell_path_of_its_lstms_only(home):
    from tangstudio.engine.lab.memory import run_memory_study

    study = run_memory_study(
        ("rnn", "lstm-fb2"), distances=(3,), seeds=(0,), steps=2, hidden=4, grad_distance=3
    )
    grads = study["gradients"]
    assert set(grads["rnn"]) == {"init", "trained"}
    assert set(grads["lstm-fb2"]) == {"init", "trained", "init_C", "trained_C"}
    steps = len(grads["lstm-fb2"]["init"])  # one norm a step read, the query's included
    assert steps > 3 and all(len(v) == steps and min(v) > 0 for v in grads["lstm-fb2"].values())


def test_the_memory_study_runs_the_lstm_with_its_forget_gate_open_by_default():
    """With rnn,lstm,gru a student saw the plain LSTM (f ≈ ½) forget fastest and nothing said why."""
    import inspect

    from tangstudio.cli.lab_cmd import memory_run
    from tangstudio.engine.lab.memory import DEFAULT_ARCHS, lstm_note

    assert "lstm-fb2" in DEFAULT_ARCHS and "lstm" in DEFAULT_ARCHS
    assert inspect.signature(memory_run).parameters["archs"].default.default == ",".join(DEFAULT_ARCHS)
    assert lstm_note(fake_study([3], DEFAULT_ARCHS, 0.5)) is None
    note = lstm_note(fake_study([3], ["rnn", "lstm", "gru"], 0.5))
    assert note and "forget bias 0" in note and "lstm-fb2" in note


def test_memory_show_in_a_pipe_reads_as_plain_text(home):
    """No ANSI escapes in a pipe, the rates as one number, "1 seed" with no "± 0.0%", the heading
    whole at 80 columns, and the note on why the plain LSTM forgets."""
    from tangstudio.engine.lab.memory import save_results

    save_results(fake_study([3, 5], ["rnn", "lstm"], 0.5, seeds=(0,)), "m1")
    out = cli("lab", "memory", "show", "m1", home=home, columns=80)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "\x1b[" not in text
    assert "lr 0.003" in text and "{" not in text
    assert "1 seeds" not in text and "±" not in text
    assert "50.0%" in text
    heading = next(line for line in text.splitlines() if line.startswith("recall accuracy after T"))
    assert "1 seed" in heading and "chance 12.5%" in heading  # one line, not wrapped
    assert all(len(line.rstrip()) <= 80 for line in text.splitlines()[:6])
    assert "lstm-fb2" in text and "forget bias 0" in text
    save_results(fake_study([3], ["rnn", "lstm", "lstm-fb2"], 0.5), "m2")
    both = cli("lab", "memory", "show", "m2", home=home, columns=80).stdout
    assert "note:" not in both and "55.0% ± 7.1%" in both  # two seeds: a spread was measured


def test_the_lr_example_in_memory_run_help_fits_the_default_cells(home):
    """The help showed three rates, (1e-3,3e-3,3e-3), for the four default cells: copied, it was refused."""
    import inspect

    from tangstudio.cli.lab_cmd import memory_run
    from tangstudio.engine.lab.memory import DEFAULT_ARCHS

    help_text = inspect.signature(memory_run).parameters["lr"].default.help
    example = re.search(r"\((?:e\.g\. )?([0-9e.,-]+)", help_text)
    assert example, help_text
    rates = example.group(1)
    assert len(rates.split(",")) == len(DEFAULT_ARCHS), help_text
    out = cli("lab", "memory", "run", "--lr", rates, "--grad-distance", "7", home=home)
    assert out.returncode == 2 and "--grad-distance" in out.stderr, out.stderr  # past the --lr check


def test_memory_show_with_no_name_shows_the_newest_study_as_the_pane_does(home):
    """After `lab memory run --name m1`, `lab memory show` read memory.json while the Lab pane showed m1."""
    from tangstudio.engine.lab.memory import save_results

    out = cli("lab", "memory", "show", home=home)
    assert out.returncode == 2 and "tangstudio lab memory run" in out.stderr, out.stderr
    old = save_results(fake_study([3], ["rnn", "gru"], 0.2), "memory")
    os.utime(old, (1_000_000_000, 1_000_000_000))  # written long ago: m1 is the newest
    save_results(fake_study([3, 5], ["rnn", "lstm"], 0.5, seeds=(0,)), "m1")
    out = cli("lab", "memory", "show", home=home, columns=80)
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert first.startswith("study m1 ") and "newest" in first  # which study, in one line
    assert "T=5" in out.stdout
    shown = json.loads(cli("lab", "memory", "show", "--json", home=home).stdout)  # the line went to stderr
    assert shown["settings"]["distances"] == [3, 5]
    named = json.loads(cli("lab", "memory", "show", "memory", "--json", home=home).stdout)
    assert named["settings"]["archs"] == ["rnn", "gru"]  # a name still picks that study


def test_saved_studies_pass_over_a_file_removed_while_listed(home, monkeypatch):
    """A study deleted between the listing and the stat raised FileNotFoundError in the Lab pane."""
    from tangstudio.engine.lab import memory

    kept = memory.save_results(fake_study([3], ["rnn"], 0.5), "kept")
    os.utime(kept, (1_000_000_000, 1_000_000_000))
    gone = memory.save_results(fake_study([3], ["gru"], 0.5), "gone")
    real_glob = Path.glob

    def glob_then_remove(self, pattern):
        yield from real_glob(self, pattern)
        gone.unlink(missing_ok=True)  # removed by another process just after the folder was listed

    monkeypatch.setattr(Path, "glob", glob_then_remove)
    assert memory.saved_studies() == [kept]
    found = memory.latest_results()
    assert found is not None and found[0] == kept


def _digits_rows(hidden, accuracies):
    return [
        {
            "run": f"lab-gru-{i}",
            "arch": "gru",
            "lr": 0.002,
            "seed": i,
            "hidden": hidden,
            "layers": 1,
            "steps": 20,
            "best_val_acc": a,
            "curve": [(10, a - 0.05, 0.1), (20, a, 0.2)],
        }
        for i, a in enumerate(accuracies)
    ]


def test_the_digits_report_figure_shows_the_runs_size_and_every_curve():
    """The PNG's title said 1×128 and its axis ran 80–100 % whatever the runs were."""
    import matplotlib.pyplot as plt

    from tangstudio.engine.lab.report import accuracy_floor, digits_figure

    fig = digits_figure(_digits_rows(16, [0.31, 0.62]))
    try:
        left = fig.axes[0]
        assert "1×16" in left.get_title() and "128" not in left.get_title()
        low, high = left.get_ylim()
        assert low <= 26 and high >= 97  # the weak run's 26 % is on the chart, and the 97 % bar
    finally:
        plt.close(fig)
    assert accuracy_floor(_digits_rows(128, [0.97, 0.98])) == 80  # the study's runs: as before
    assert accuracy_floor(_digits_rows(128, [0.84])) == 75


@pytest.fixture
def tiny_digits_run(home):
    from tangstudio.engine.lab.config import LabConfig
    from tangstudio.engine.lab.train import train_lab

    train_lab(LabConfig(run="lab-tiny", arch="gru", hidden=4, steps=4, eval_every=2, log_every=2))
    return "lab-tiny"


def test_digits_eval_and_report_read_well_at_80_columns(home, tiny_digits_run):
    """The confusion title wrapped (…columns:⏎predicted); a 0.1 s run showed "CPU s 0 / wall s 0";
    one seed showed "± 0.00%"; `show --wrong --index 0` called the first mistake "test digit 0"."""
    evaluated = cli("lab", "digits", "eval", tiny_digits_run, home=home, columns=80)
    assert evaluated.returncode == 0, evaluated.stderr
    title = next(line for line in evaluated.stdout.splitlines() if line.startswith("confusion matrix"))
    assert "row" in title and "column" in title and len(title.rstrip()) <= 80
    report = cli("lab", "digits", "report", home=home, columns=80)
    assert report.returncode == 0, report.stderr
    row = next(line for line in report.stdout.splitlines() if tiny_digits_run in line)
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert re.fullmatch(r"\d+\.\d", cells[5]) and re.fullmatch(r"\d+\.\d", cells[6]), cells  # CPU s, wall s
    assert "±" not in report.stdout
    reading = json.loads(cli("lab", "digits", "show", tiny_digits_run, "--json", "--wrong", home=home).stdout)
    shown = cli("lab", "digits", "show", tiny_digits_run, "--wrong", home=home).stdout
    assert shown.startswith(f"test digit {reading['position']} (mistake 0 with --wrong;")


def test_a_lab_run_whose_pipe_reader_left_stops_with_its_checkpoint(home):
    """`lab digits train --json | head -1`: EPIPE is a stop as SIGPIPE (exit 141), as for `train
    --headless`, never a failed run nor a traceback (both trainers share stopping.Guarded)."""
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tangstudio", "lab", "digits", "train", "--run", "p1", "--hidden", "8",
         "--steps", "100000", "--eval-every", "1", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline()  # the start line
    proc.stdout.close()  # the reader leaves
    try:
        _out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 141, err
    assert b"resume with:" in err and b"Traceback" not in err
    events = [json.loads(line) for line in (home / "runs" / "p1" / "metrics.jsonl").read_text().splitlines()]
    assert [e["status"] for e in events if e["event"] == "done"] == ["interrupted"]


def test_report_reads_every_digits_run_whatever_its_name(home):
    """The README says `lab digits report` reports every lab run; it once read `lab-*` alone, so a
    run trained as the README's `--run NAME` example was "no finished lab digits runs"."""
    from tangstudio.engine.lab.config import LabConfig
    from tangstudio.engine.lab.train import train_lab

    empty = cli("lab", "digits", "report", home=home)
    assert empty.returncode == 2 and "no finished lab digits runs in this home" in empty.stderr
    train_lab(LabConfig(run="d1", arch="gru", hidden=4, steps=2, eval_every=2, log_every=2))
    report = cli("lab", "digits", "report", "--json", home=home)
    assert report.returncode == 0, report.stderr
    assert [r["run"] for r in json.loads(report.stdout)["runs"]] == ["d1"]
    only = cli("lab", "digits", "report", "--prefix", "lab-", home=home)
    assert only.returncode == 2 and "named lab-*" in only.stderr


def test_lab_input_a_student_got_wrong_is_refused_before_anything_trains(home, tmp_path):
    """A student's review: a cell or distance named twice trained twice and showed a spread of 0 from
    "two seeds"; a bad --name was found after the whole grid had trained; a rerun replaced the saved
    study without a word; --forget-bias was taken (and recorded) for an RNN or GRU, which have no
    forget gate; a bad --png was called --plot."""
    from tangstudio.engine.lab.memory import results_path, save_results

    quick = ["--seeds", "1", "--steps", "1", "--hidden", "4"]
    for args, said in (
        (["--archs", "rnn,rnn", "--distances", "5"], "--archs names rnn twice"),
        (["--archs", "rnn", "--distances", "5,5"], "--distances names 5 twice"),
        (["--archs", "rnn", "--distances", "5", "--name", "../../x"], "memory study name"),
    ):
        out = cli("lab", "memory", "run", *args, *quick, home=home)
        assert out.returncode == 2 and said in out.stderr, out.stderr
        assert "accuracy" not in out.stdout  # nothing trained
    saved = save_results(fake_study([3], ["rnn"], 0.2), "memory")
    before = saved.read_bytes()
    out = cli("lab", "memory", "run", "--archs", "rnn", "--distances", "5", *quick, home=home)
    assert out.returncode == 2 and "--replace" in out.stderr and saved.read_bytes() == before, out.stderr
    assert results_path("memory") == saved
    out = cli("lab", "memory", "show", "memory", "memory", home=home)
    assert out.returncode == 2 and "both hold rnn at T=3 seed 0" in out.stderr, out.stderr
    for args in (
        ["lab", "digits", "train", "--run", "y", "--arch", "rnn", "--forget-bias", "2", "--steps", "1"],
        ["lab", "digits", "train", "--run", "y", "--arch", "gru", "--forget-bias", "1", "--steps", "1"],
        ["train", "--headless", "--run", "z", "--arch", "gru", "--forget-bias", "2", "--steps", "1"],
    ):
        out = cli(*args, home=home)
        assert out.returncode == 2 and f"a {args[args.index('--arch') + 1]} has none" in out.stderr, (
            out.stderr
        )
        assert not (home / "runs" / args[args.index("--run") + 1]).exists()
    out = cli("lab", "digits", "report", "--png", str(tmp_path / "missing" / "r.png"), home=home)
    assert out.returncode == 2 and out.stderr.startswith("error: --png: folder"), out.stderr


def test_the_report_names_the_runs_its_summary_leaves_out(home):
    """The summary kept the most common step budget only, and an architecture whose runs were all of
    another budget vanished from "each architecture at its best rate" without a word."""
    from tangstudio.engine.lab.config import LabConfig
    from tangstudio.engine.lab.train import train_lab

    for run, arch, steps in (("g1", "gru", 2), ("g2", "gru", 2), ("r1", "rnn", 4)):
        train_lab(LabConfig(run=run, arch=arch, hidden=4, steps=steps, eval_every=2, log_every=2))
    report = cli("lab", "digits", "report", home=home, columns=200)
    assert report.returncode == 0, report.stderr
    # one rate per architecture: no "best rate" is claimed (a student's review)
    assert "each architecture at the one rate it was run at (no rate sweep)" in report.stdout
    assert "best rate" not in report.stdout
    assert (
        "the summary compares runs of 2 steps, hidden 4, 1 layer, fused; not in it, being of another "
        in report.stdout
    )
    assert "setting: r1 (rnn, 4 steps) (a --prefix" in report.stdout  # what sets it apart, only
    data = json.loads(cli("lab", "digits", "report", "--json", home=home).stdout)
    assert data["left_out"] == ["r1"] and [s["arch"] for s in data["summary"]] == ["gru"]
    assert data["summary_setting"] == {"steps": 2, "hidden": 4, "layers": 1, "impl": "fused"}


def test_ctrl_c_in_a_memory_study_keeps_the_runs_that_finished(home):
    """A student's review: interrupting `lab memory run` (tens of CPU-minutes at the defaults) kept
    nothing. The runs that finished now come back with the interrupt, and the CLI saves them."""
    from tangstudio.engine.lab.memory import StudyInterrupted, run_memory_study, save_results, summary

    finished: list[dict] = []

    def stop_after_two(record: dict) -> None:
        finished.append(record)
        if len(finished) == 2:
            raise KeyboardInterrupt

    with pytest.raises(StudyInterrupted) as stopped:
        run_memory_study(("rnn", "gru"), (3, 5), (0, 1), steps=2, hidden=4, batch_size=2, grad_distance=5,
                         on_result=stop_after_two)  # fmt: skip
    study = stopped.value.study
    assert study["interrupted"] and study["runs"] == finished
    assert study["settings"]["archs"] == ["rnn"] and study["settings"]["distances"] == [3]
    assert [(r["arch"], r["seeds"]) for r in summary(study)] == [("rnn", 2)]
    save_results(study, "cut")
    shown = cli("lab", "memory", "show", "cut", home=home, columns=120)
    assert shown.returncode == 0 and "interrupted after 2 runs" in shown.stdout, shown.stderr
    from tangstudio.engine.lab.charts import accuracy_title

    # the PNG's title (and the studio's, which shares the phrase) does not claim 2 seeds a cell
    assert accuracy_title(study).startswith("up to 2 seeds: interrupted after 2 runs, 2 steps")
    from tangstudio.engine.lab.memory import merge_results

    whole = {
        **study,
        "runs": [{**r, "distance": 7} for r in study["runs"]],
        "settings": {**study["settings"], "distances": [7]},
    }
    del whole["interrupted"]
    assert merge_results([whole, study])["interrupted"]  # a merge keeps the mark of its cut part
    assert "interrupted" not in merge_results([whole])


def test_a_bilstms_row_by_row_scores_carry_their_caveat(home):
    """A student's review: the BiLSTM's P(class) after each row reruns its backward pass from the
    row just read, an input it never trained on, and nothing said so beside "settles at row"."""
    out = cli(
        "lab",
        "digits",
        "train",
        "--run",
        "b1",
        "--arch",
        "bilstm",
        "--hidden",
        "8",
        "--steps",
        "2",
        home=home,
    )
    assert out.returncode == 0, out.stderr
    shown = cli("lab", "digits", "show", "b1", "--index", "0", home=home, columns=200)
    assert shown.returncode == 0 and "note: a BiLSTM reads every row both ways" in shown.stdout, shown.stdout
    # the direction ablation docs/study.md §4 rests on, from a command (a student's review)
    result = json.loads(cli("lab", "digits", "eval", "b1", "--json", home=home).stdout)
    from tangstudio.engine.lab.report import direction_ablation

    assert result["directions"]["both"] == result["accuracy"]
    ablated = direction_ablation(home / "runs" / "b1")
    assert result["directions"] == {k: ablated[k] for k in ("both", "without_forward", "without_backward")}
    assert "settles_at" not in result
    assert "directions: both " in cli("lab", "digits", "eval", "b1", home=home, columns=200).stdout


def test_a_gradient_whose_squares_underflow_float32_is_not_reported_zero():
    """A student's review: 99 steps back an RNN's gradient entries are about 1e-24; their squares
    underflow float32, so the norm said 0 and study.md called the gradient "exactly zero"."""
    a, H, T = 0.57, 4, 100  # 0.57**99 ≈ 6e-25: representable in float32, its square is not
    xs = torch.randn(2, T, H)
    norms = hidden_grad_norms(lambda x, h: a * h + x, torch.zeros(2, H), xs, lambda h: h.sum())
    assert norms[0] > 0 and math.isclose(norms[0], a ** (T - 1) * math.sqrt(H), rel_tol=1e-3)


def test_memory_show_gives_the_gradient_charts_figures_a_row_a_series(home):
    """In the terminal's gradient chart the GRU lay under the LSTM and the RNN until T − t = 45 (a
    student's review): the figures follow the charts, one row a series."""
    from tangstudio.engine.lab.memory import save_results

    study = fake_study([3], ["rnn", "lstm", "gru"], 0.5)
    study["settings"]["grad_distance"] = 60
    norms = {"rnn": 0.5, "lstm": 0.4, "gru": 0.45}
    study["gradients"] = {
        a: {w: [math.exp(-r * k) for k in range(61)][::-1] for w in ("init", "trained")}
        for a, r in norms.items()
    }
    save_results(study, "g1")
    text = cli("lab", "memory", "show", "g1", home=home, columns=100).stdout
    heads = [line.split() for line in text.splitlines() if line.split()[:1] == ["series"]]
    assert heads == [["series", "T−t=10", "T−t=25", "T−t=50", "T−t=59"]] * 2, text
    gru = [line.split() for line in text.splitlines() if line.split()[:1] == ["gru"]]
    assert gru[1][1:] == [f"{math.exp(-0.45 * d):.1e}" for d in (10, 25, 50, 59)], gru  # [0]: recall


def test_memory_show_of_a_fifo_or_a_folder_is_one_line(home, tmp_path):
    """`lab memory show fifo.json` waited forever on the fifo; a folder gave "[Errno 21]" (a fuzzing review)."""
    import os

    from tangstudio.engine.errors import TangError
    from tangstudio.engine.lab.memory import load_results

    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.json"
    folder.mkdir()
    for path in (fifo, folder):
        with pytest.raises(TangError, match=r"is not a file; a memory study is a \.json file"):
            load_results(str(path))


def test_a_memory_study_saved_meanwhile_is_not_overwritten(home):
    """Two `lab memory run --name m1` at once both passed the name check at their start and the later
    overwrote the earlier (a fuzzing review): the later now takes the next free name."""
    import json

    from tangstudio.engine.lab.memory import save_results

    first = save_results({"kind": "lab-memory", "which": 1}, "m1", replace=False)
    second = save_results({"kind": "lab-memory", "which": 2}, "m1", replace=False)
    assert (first.stem, second.stem) == ("m1", "m1-2")
    assert json.loads(first.read_text())["which"] == 1 and json.loads(second.read_text())["which"] == 2
    assert save_results({"kind": "lab-memory", "which": 3}, "m1").stem == "m1"  # --replace: over it
    long = "m" * 64  # the longest name a study may have: its next free name keeps within it
    save_results({"kind": "lab-memory"}, long, replace=False)
    assert save_results({"kind": "lab-memory"}, long, replace=False).stem == "m" * 62 + "-2"
