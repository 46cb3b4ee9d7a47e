"""`tangstudio train`'s limits and what it prints: the ETA past a day, a budget past any real run, the
reserved run name `default`, the resume hint's home and the mask options' names."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import env_for, interrupt_once_logged, refused, tangstudio

TINY_MODEL = ["--embed", "16", "--hidden", "16", "--layers", "1", "--forms", "wujue"]
SMALL = ["--corpus", "tiny", "--embed", "12", "--hidden", "16", "--layers", "1", "--batch-size", "16"]


# The ETA: days past 24 hours, never a time_t overflow ----------------------------------------------

MONTHS = 104 * 86_400 + 7 * 3_600 + 5 * 60 + 9  # 104 days, 7:05:09


def progress(eta_s: float) -> dict:
    return {"event": "progress", "step": 1, "total_steps": 50_000_000, "fraction": 0.0, "eta_s": eta_s,
            "val_ppl": None, "train_loss": 6.5, "chars_per_s": 100.0}  # fmt: skip


def test_the_eta_counts_days_past_24_hours_and_never_wraps() -> None:
    from tangstudio.cli.train_cmd import eta_text

    assert eta_text(59) == "00:00:59"
    assert eta_text(23 * 3_600 + 59 * 60 + 59) == "23:59:59"
    assert eta_text(3 * 86_400 + 4 * 3_600 + 12 * 60) == "3d 04:12:00"
    assert eta_text(MONTHS) == "104d 07:05:09"
    assert eta_text(86_400e15) == "1000000000000000d 00:00:00"  # past time_t: no OverflowError


def test_the_plain_log_says_a_months_long_eta_in_days(capsys: pytest.CaptureFixture[str]) -> None:
    """`--steps 50000000` printed `ETA 16:33:04`: strftime of gmtime wrapped at 24 hours."""
    from tangstudio.cli.train_cmd import PlainView

    view = PlainView()
    view.on_event(progress(MONTHS))
    assert capsys.readouterr().out.rstrip().endswith("step 1/50000000 (0%), ETA 104d 07:05:09")
    view.last_train = 0.0  # the next progress line is due again
    view.on_event(progress(86_400e15))  # gmtime raised OverflowError here: the run ended as failed
    assert capsys.readouterr().out.rstrip().endswith("ETA 1000000000000000d 00:00:00")


def test_the_progress_bar_says_a_months_long_eta_in_days() -> None:
    import io

    from rich.console import Console

    from tangstudio.cli.train_cmd import RichView

    with RichView(console=Console(file=io.StringIO(), force_terminal=True, width=160)) as view:
        view.on_event(progress(MONTHS))
        assert view.progress.tasks[0].fields["eta"] == "104d 07:05:09"
        view.on_event(progress(86_400e15))
        assert view.progress.tasks[0].fields["eta"] == "1000000000000000d 00:00:00"


# A budget past any real run: one line, before a run folder exists ----------------------------------


@pytest.mark.parametrize(
    "budget, said",
    [
        (["--steps", "99999999999999999999"], "--steps must be at most 1,000,000,000"),
        (["--epochs", "99999999999999999999"], "--epochs must be at most 1,000,000"),
        (["--minutes", "1e300"], "--minutes must be at most 10,000,000"),
    ],
)
def test_a_budget_past_the_bound_is_refused_before_the_run_exists(home: Path, budget, said) -> None:
    """`--steps 99999999999999999999` trained until its ETA overflowed time_t: a traceback, exit 1
    and a run left marked failed."""
    line = refused(tangstudio("train", "--headless", "--run", "huge", *budget, *TINY_MODEL, home=home))
    assert said in line
    assert not (home / "runs" / "huge").exists()


def test_a_stored_budget_past_the_bound_still_reads() -> None:
    """The bound holds what a person asks for now; a run stored with a larger budget still lists."""
    from tangstudio.engine.runs.train_config import TrainConfig, stored_config

    stored = TrainConfig(run="old", steps=5_000_000_000).to_dict()
    assert stored_config(stored).steps == 5_000_000_000
    # so do the bounds of memory added since (a run trained at batch 16,384 on a GPU still resumes)
    wide = {**stored, "batch_size": 16_384, "samples": 200, "weight_decay": 20.0}
    assert stored_config(wide).batch_size == 16_384


# `default` is the shipped model, never a new run ---------------------------------------------------


@pytest.mark.parametrize("seed", ["99999999999999999999", "9223372036854775808", "-1", "4294967296"])
def test_a_seed_out_of_range_is_one_line_for_train_and_compare(home: Path, seed: str) -> None:
    """A review: `--seed 99999999999999999999` tracebacked (torch's "Overflow when unpacking long
    long") in train and compare, and train took -1; now both take 0 … 2**32 − 1, as the lab does."""
    line = refused(tangstudio("train", "--headless", "--seed", seed, "--steps", "1", *TINY_MODEL, home=home))
    assert line == f"error: --seed must be a whole number from 0 to 4,294,967,295, got {seed}"
    compared = tangstudio("compare", "--seed", seed, "--steps", "1", *TINY_MODEL, home=home)
    assert refused(compared) == line
    assert not (home / "runs").exists() or not any((home / "runs").iterdir())


def test_a_seed_out_of_range_in_generate_is_one_line_with_its_bound_grouped(home: Path) -> None:
    """A review: train said "0 to 4,294,967,295" and generate "0 to 9223372036854775807". The bounds
    differ for a reason (a poem's drafts use seed + j·2**32), their figures now read alike."""
    line = refused(tangstudio("generate", "--seed", "-1", "-n", "1", home=home))
    assert line == "error: seed must be a whole number from 0 to 9,223,372,036,854,775,807, got -1"
    line = refused(tangstudio("generate", "--seed", str(2**63 - 1), "-n", "2", home=home))
    assert (
        "past the largest, 9,223,372,036,854,775,807: give a seed of at most 9,223,372,036,854,775,806"
        in line
    )


def test_a_new_run_named_default_is_refused(home: Path) -> None:
    """It trained, and then `generate --model default` and `eval default` used the shipped model."""
    line = refused(
        tangstudio("train", "--headless", "--run", "default", "--steps", "3", *TINY_MODEL, home=home)
    )
    assert "'default' is the shipped model's name" in line and "choose another --run name" in line
    assert not (home / "runs" / "default").exists()
    lab = refused(tangstudio("lab", "digits", "train", "--run", "default", "--steps", "1", home=home))
    assert "'default' is the shipped model's name" in lab and not (home / "runs" / "default").exists()


@pytest.mark.slow
def test_an_old_run_named_default_still_lists_and_resumes(
    trained_runs: Path, tiny_corpus, home: Path
) -> None:
    old = home / "runs" / "default"
    shutil.copytree(trained_runs / "tiny-gru", old)
    config = old / "config.toml"
    config.write_text(config.read_text("utf-8").replace('"tiny-gru"', '"default"'), "utf-8")
    listed = tangstudio("runs", "list", "--json", home=home)
    assert listed.returncode == 0, listed.stderr
    assert [(r["name"], r["status"]) for r in json.loads(listed.stdout)] == [("default", "finished")]
    resumed = tangstudio("train", "--headless", "--run", "default", "--resume", "--steps", "3", home=home)
    assert resumed.returncode == 0, resumed.stderr
    assert "finished at step 3" in resumed.stdout


# The resume hint: the home as an absolute path -----------------------------------------------------


@pytest.mark.slow
def test_the_resume_hint_after_ctrl_c_names_a_relative_home_absolutely(
    tiny_corpus, home: Path, tmp_path: Path
) -> None:
    """From /tmp/x, `--home relh` printed `tangstudio --home relh …`: a hint for that folder alone."""
    relative = home.relative_to(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tangstudio", "--home", str(relative), "train", "--headless", *SMALL,
         "--steps", "100000", "--log-every", "1", "--run", "rr"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for(None), cwd=tmp_path,
    )  # fmt: skip
    metrics = home / "runs" / "rr" / "metrics.jsonl"
    err = interrupt_once_logged(proc, metrics, "train")
    assert f"resume with: tangstudio --home {home} train --headless --run rr --resume" in err


def test_the_studio_resume_hint_names_its_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The studio said `tangstudio train --headless --run finetune-1 --resume` with no --home, so
    pasted it resumed in the platform's home, not the one the studio was started with."""
    from tangstudio.studio.trainproc import TrainingProcess, resume_command

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TANGSTUDIO_HOME", "rel home")
    assert resume_command(TrainingProcess.COMMAND, "finetune-1") == shlex.join(
        ["tangstudio", "--home", str(tmp_path / "rel home"), "train", "--headless", "--run", "finetune-1",
         "--resume"]
    )  # fmt: skip
    monkeypatch.delenv("TANGSTUDIO_HOME")
    assert resume_command(TrainingProcess.COMMAND, "finetune-1") == (
        "tangstudio train --headless --run finetune-1 --resume"
    )


# Options named as they are typed -------------------------------------------------------------------


def test_the_mask_options_are_named_as_typed(home: Path) -> None:
    line = refused(
        tangstudio("train", "--headless", "--arch", "bilstm", "--mask-min", "0.5", "--mask-max", "0.1",
                   "--steps", "3", home=home)
    )  # fmt: skip
    assert "--mask-min" in line and "--mask-max" in line and "mask_min" not in line
    assert "(got 0.5 and 0.1)" in line


# A run folder that cannot be written ------------------------------------------------------------


def test_a_read_only_checkpoints_folder_is_refused_before_training(tmp_path: Path) -> None:
    """An engineer's review: with checkpoints/ read-only a resume loaded, trained to its first save
    and only then failed, "stopped … resume with" the command that had just failed. Now it is
    refused before the data load, says what to mend, and writes nothing."""
    import os
    import tempfile

    root = Path(tempfile.mkdtemp(dir="/tmp", prefix="ts-readonly-"))  # a user other than root can reach it
    try:
        os.chmod(root, 0o755)
        home = root / "home"
        done = tangstudio("train", "--headless", "--run", "ro", "--steps", "2", *TINY_MODEL, home=home)
        assert done.returncode == 0, done.stderr
        run = home / "runs" / "ro"
        before = {p: p.read_bytes() for p in (run / "checkpoints").rglob("*") if p.is_file()}
        command = [
            sys.executable,
            "-m",
            "tangstudio",
            *"train --headless --run ro --resume --steps 4".split(),
        ]
        if (
            os.geteuid() == 0
        ):  # root writes anywhere: the resume runs as nobody, only checkpoints/ closed to it
            if shutil.which("runuser") is None:
                pytest.skip("needs runuser to drop root")
            reach = subprocess.run(
                ["runuser", "-u", "nobody", "--", sys.executable, "-c", "pass"], capture_output=True
            )
            if (
                reach.returncode != 0
            ):  # a checkout in a private folder (mktemp -d): nobody cannot run its venv
                pytest.skip(f"user nobody cannot run {sys.executable}: {reach.stderr.decode().strip()}")
            subprocess.run(["chmod", "-R", "a+rwX", str(home)], check=True)
            command = ["runuser", "-u", "nobody", "--", *command]
        # not measured by coverage: as nobody it cannot write its data file, and says so on stderr
        env = {k: v for k, v in env_for(home).items() if not k.startswith(("COV_CORE", "COVERAGE"))}
        for closed in (run / "checkpoints" / "last", run / "checkpoints"):  # last/ alone, then all of it
            subprocess.run(["chmod", "-R", "a-w", str(closed)], check=True)
            line = refused(subprocess.run(command, capture_output=True, text=True, env=env, timeout=180))
            assert line.startswith("error: run 'ro' could not start: Permission denied (")
            assert f"{closed}" in line and f"make {run} writable, then resume with: " in line, line
            assert before == {p: p.read_bytes() for p in (run / "checkpoints").rglob("*") if p.is_file()}
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(root)], check=False)
        shutil.rmtree(root, ignore_errors=True)
