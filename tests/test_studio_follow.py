"""The parts of the studio that hold logic without Textual: following runs, child-process arguments."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from tangstudio.studio.follow import RunFollower, downsample, find_runs, format_duration, sample_texts
from tangstudio.studio.trainproc import option_args, unique_run_name


def _event(step: int, loss: float) -> str:
    return (
        json.dumps(
            {
                "event": "train",
                "step": step,
                "train_loss": loss,
                "lr": 1e-3,
                "chars_per_s": 100.0,
                "elapsed_s": float(step),
            }
        )
        + "\n"
    )


def test_follower_reads_only_whole_lines_and_picks_up_the_rest(tmp_path: Path) -> None:
    run = tmp_path / "r"
    run.mkdir()
    metrics = run / "metrics.jsonl"
    whole, half = _event(1, 5.0), _event(2, 4.0)
    metrics.write_text(whole + half[:10], encoding="utf-8")
    follower = RunFollower(run)
    assert follower.poll() is True
    assert follower.train == [(1.0, 5.0)]
    assert follower.poll() is False  # nothing new: the half line stays back
    with open(metrics, "a", encoding="utf-8") as handle:
        handle.write(
            half[10:]
            + "not json\n"
            + json.dumps({"event": "eval", "step": 2, "val_loss": 4.5, "val_ppl": 90.0})
            + "\n"
        )
    assert follower.poll() is True
    assert follower.train == [(1.0, 5.0), (2.0, 4.0)]
    assert follower.val == [(2.0, 4.5, 90.0)]
    assert follower.step == 2


def test_follower_starts_over_when_the_file_is_rewritten(tmp_path: Path) -> None:
    run = tmp_path / "r"
    run.mkdir()
    (run / "metrics.jsonl").write_text(_event(1, 5.0) + _event(2, 4.0) + _event(3, 3.0), encoding="utf-8")
    follower = RunFollower(run)
    follower.poll()
    (run / "metrics.jsonl").write_text(_event(1, 5.0), encoding="utf-8")  # a resume trimmed it
    follower.poll()
    assert follower.train == [(1.0, 5.0)]


def test_status_eta_and_samples(tmp_path: Path) -> None:
    run = tmp_path / "r"
    run.mkdir()
    (run / "config.toml").write_text('arch = "gru"\nsteps = 40\n', encoding="utf-8")
    (run / "metrics.jsonl").write_text(_event(10, 5.0), encoding="utf-8")
    (run / "samples.jsonl").write_text(
        "".join(
            json.dumps(r) + "\n"
            for r in (
                {"step": 5, "text": "old"},
                {"step": 10, "form": "qijue", "text": "a"},
                {"step": 10, "text": "b"},
            )
        ),
        encoding="utf-8",
    )
    follower = RunFollower(run)
    follower.poll()
    assert follower.arch == "gru"
    assert follower.status() == "stopped"  # no lock, no done event
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (run / "run.lock").write_text(
        json.dumps({"pid": int(dead.stdout), "host": socket.gethostname()}), encoding="utf-8"
    )
    assert follower.status() == "stopped"  # a lock left by a killed process is not a running run
    (run / "run.lock").write_text(
        json.dumps({"pid": os.getpid(), "host": socket.gethostname()}), encoding="utf-8"
    )
    assert follower.status() == "running" and follower.lock_pid() == os.getpid()
    (run / "run.lock").write_text(json.dumps({"pid": 1, "host": "another-machine"}), encoding="utf-8")
    assert follower.status() == "running" and follower.lock_pid() is None  # cannot be checked from here
    (run / "run.lock").unlink()
    assert follower.eta_s() == 30.0  # 30 steps left at 1 s a step
    (run / "config.toml").write_text(
        'arch = "gru"\nsteps = 70\n', encoding="utf-8"
    )  # resumed with a new budget
    os.utime(run / "config.toml", ns=(1, 1))  # a different mtime even on a coarse clock
    follower.poll()
    assert follower.eta_s() == 60.0
    assert follower.samples == ["a", "b"]
    with open(run / "metrics.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"event": "done", "step": 10, "status": "interrupted"}) + "\n")
    follower.poll()
    assert follower.status() == "interrupted"
    assert follower.eta_s() is None


def test_downsample_keeps_the_width_and_the_last_point() -> None:
    xs = list(range(1000))
    ys = [float(x % 7) for x in xs]
    dx, dy = downsample(xs, ys, 50)
    assert len(dx) == len(dy) == 50
    assert (dx[-1], dy[-1]) == (999, ys[-1])
    assert downsample([1, 2], [3, 4], 50) == ([1, 2], [3, 4])


def test_small_helpers(tmp_path: Path) -> None:
    assert option_args({"arch": "gru", "batch_size": 8, "resume": True, "steps": None, "tied": False}) == [
        "--arch",
        "gru",
        "--batch-size",
        "8",
        "--resume",
    ]
    (tmp_path / "gru-1").mkdir()
    assert unique_run_name(tmp_path, "gru-1") == "gru-1-2"
    assert unique_run_name(tmp_path, "a b/c") == "a-b-c"
    (tmp_path / "gru-1" / "config.toml").write_text("", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    assert find_runs(tmp_path) == [tmp_path / "gru-1"]
    assert format_duration(3725) == "1:02:05" and format_duration(None) == "—"
    assert format_duration(104 * 86_400 + 25_509) == "104d 07:05:09" and format_duration(float("inf")) == "—"
    assert sample_texts({"text": "x"}) == ["x"] and sample_texts(3) == []


def test_poem_marks_tones_rhyme_and_violations() -> None:
    from tangstudio.studio.widgets.poem_view import prosody_marks, split_clauses

    text = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    info = prosody_marks(text, "wujue", "simplified")
    assert "".join(info["marks"][:5]) == "平平平仄平"
    assert info["groups"][1] == ("七阳", True)  # line 2 rhymes in 七阳
    assert info["kinds"][8] == "tone"  # 上 breaks the loose pattern of line 2
    assert info["summary"] is not None
    partial = prosody_marks("床前明月光，疑是", "wujue", "simplified")
    assert (
        partial["summary"] is None and len(partial["marks"]) == 7
    )  # no verdict before the shape is complete
    assert split_clauses(list("ab，c")) == [[0, 1, 2], [3]]


def test_tint_runs_from_red_to_green() -> None:
    from tangstudio.studio.widgets.tint import tint

    assert tint(1.0) == "rgb(64,255,64)" and tint(1e-6) == "rgb(255,64,64)"
    assert tint(None).startswith("rgb(160")


def test_lab_runs_stay_out_of_the_poem_chart_and_the_model_picker(home) -> None:
    """Issue 25 item 3: a digits run is neither overlaid on the poem curves nor offered to compose."""
    from tangstudio.studio.composing import list_models
    from tangstudio.studio.follow import find_runs

    runs = home / "runs"
    for name, kind in (("poems-1", ""), ("lab-bilstm", 'kind = "lab"\n')):
        (runs / name / "checkpoints" / "best").mkdir(parents=True)
        (runs / name / "config.toml").write_text(kind + 'arch = "lstm"\n', encoding="utf-8")
        (runs / name / "metrics.jsonl").write_text("", encoding="utf-8")
        (runs / name / "checkpoints" / "best" / "meta.json").write_text("{}", encoding="utf-8")
    assert [p.name for p in find_runs(runs)] == ["poems-1"]
    offered = [label for label, _ in list_models()]
    assert "run poems-1" in offered and "run lab-bilstm" not in offered


def test_a_finished_runs_elapsed_time_is_its_done_lines(tmp_path: Path) -> None:
    """An engineer's review: the CLI said "finished … after 143 s" and the studio "elapsed 2:04", the
    last train line's time, before the final evaluation and checkpoint."""
    run = tmp_path / "r"
    run.mkdir()
    done = json.dumps({"event": "done", "status": "finished", "step": 3, "elapsed_s": 143.0}) + "\n"
    (run / "metrics.jsonl").write_text(_event(1, 5.0) + _event(3, 3.0) + done, encoding="utf-8")
    follower = RunFollower(run)
    follower.poll()
    assert follower.elapsed_s == 143.0 and follower.live_elapsed_s(running=False) == 143.0
    assert format_duration(follower.elapsed_s) == "2:23"


def test_a_damaged_config_shows_the_run_damaged_as_runs_list_does(tmp_path: Path) -> None:
    """An engineer's review: config.toml cut to 300 bytes, or `hidden = "64"`, and the studio said
    finished with its arch, beside `runs list`'s damaged."""
    from tangstudio.engine.runs.schema import CONFIG_END, CONFIG_HEAD

    run = tmp_path / "r"
    run.mkdir()
    done = json.dumps({"event": "done", "status": "finished", "step": 3, "elapsed_s": 3.0}) + "\n"
    (run / "metrics.jsonl").write_text(_event(1, 5.0) + done, encoding="utf-8")
    whole = f'{CONFIG_HEAD}\narch = "gru"\ncorpus = "tang"\nhidden = 64\n{CONFIG_END}\n'
    for text, said in (
        (whole, None),
        (whole[: whole.index("hidden")], "cut short"),
        (whole.replace("hidden = 64", 'hidden = "64"'), "hidden = '64' is not a valid int"),
        ('arch = "gru"\nhidden = "64"\n', "is not a valid int"),  # hand-written: its types
    ):
        (run / "config.toml").write_text(text, encoding="utf-8")
        follower = RunFollower(run)
        follower.poll()
        if said is None:
            assert follower.status() == "finished" and follower.config_error is None
        else:
            assert follower.status() == "damaged" and said in (follower.config_error or ""), (
                follower.config_error
            )
    # config.toml deleted under a logged run: damaged as `runs list` says (an engineer's review);
    # a folder with nothing in it yet is a run still to start
    (run / "config.toml").write_text(whole, encoding="utf-8")
    follower = RunFollower(run)
    follower.poll()
    (run / "config.toml").unlink()
    assert follower.poll() and follower.status() == "damaged" and "config.toml is missing" in follower.damage
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    waiting = RunFollower(fresh)
    waiting.poll()
    assert waiting.damage is None and waiting.status(alive=False) == "waiting"


def test_the_model_pane_says_what_the_fused_kernels_add_to_the_equations_count() -> None:
    """A student's review: the LSTM's equations give 8,824,874 parameters for the default sizes, the
    pane said 8,828,970; the difference is PyTorch's second bias per gate."""
    from tangstudio.engine.models.shapes import second_biases

    assert (
        second_biases({"arch": "lstm", "layers": 2, "hidden": 512, "impl": "fused"}) == 8_828_970 - 8_824_874
    )
    # the GRU's equations show the candidate's b_x and b_h: its kernels add b_hh for r and z only
    assert second_biases({"arch": "gru", "layers": 1, "hidden": 128, "impl": "fused"}) == 2 * 128
    assert second_biases({"arch": "bilstm", "layers": 1, "hidden": 64, "impl": "fused"}) == 2 * 4 * 64
    assert second_biases({"arch": "lstm", "layers": 2, "hidden": 512, "impl": "cells"}) == 0


def test_an_empty_sample_is_said_so_not_a_blank_line() -> None:
    """An engineer's review: an early model's empty poem was logged as "sample (wujue): "."""
    from tangstudio.engine.runs.events import EMPTY_SAMPLE, sample_shown
    from tangstudio.studio.follow import sample_texts

    assert sample_texts({"step": 3, "form": "wujue", "text": ""}) == [EMPTY_SAMPLE]
    assert sample_texts({"step": 3, "form": "wujue", "text": "春眠"}) == ["春眠"]
    assert sample_shown("  ") == EMPTY_SAMPLE


def test_runs_show_says_an_empty_sample_is_empty(home: Path) -> None:
    """A review: `runs show` printed "sample step 461 (wujue): " and nothing, where the Train pane and
    the training log say the model ended the poem at once."""
    from cli_helpers import tangstudio
    from studio_helpers import write_fake_run

    from tangstudio.engine.runs.events import EMPTY_SAMPLE

    run = write_fake_run(home, "early", "gru", 50, 30)
    sample = {"step": 30, "form": "wujue", "text": "", "time": "2026-01-01T00:00:00+00:00"}
    (run / "samples.jsonl").write_text(json.dumps(sample) + "\n", encoding="utf-8")
    shown = tangstudio("runs", "show", "early", home=home)
    assert shown.returncode == 0, shown.stderr
    assert f"sample step 30 (wujue): {EMPTY_SAMPLE}" in shown.stdout, shown.stdout
