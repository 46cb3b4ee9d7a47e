"""Every way training can fail ends in one line (or a clean stop), never a traceback, never a
half-written or non-finite checkpoint: a second trainer, divergence, a full disk, a second Ctrl+C
during the final save, SIGHUP, hostile checkpoint files, bad options."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from harness import ARGS, finish, wait_stopped

pytestmark = pytest.mark.slow


def test_a_second_trainer_of_the_same_run_is_refused_at_once(lab):
    pid, out = lab.start(
        "train",
        "--headless",
        "--corpus",
        "tiny",
        "--embed",
        "16",
        "--hidden",
        "32",
        "--steps",
        "16",
        "--eval-every",
        "8",
        "--run",
        "busy",
        fault="pause:step:3",
    )
    wait_stopped(pid)  # the first trainer holds the lock, stopped in the middle of its run
    try:
        second = lab.train("busy", "--hidden", "48", "--seed", "1")
        assert second.refused_in_one_line and "being trained by another process" in second.output
        resumed = lab.resume("busy")
        assert resumed.refused_in_one_line and "being trained by another process" in resumed.output
    finally:
        os.kill(pid, signal.SIGKILL)
        os.kill(pid, signal.SIGCONT)
        finish(pid, out)
    config = (lab.home / "runs" / "busy" / "config.toml").read_text()
    assert "hidden = 32" in config  # the second trainer wrote nothing


def test_a_run_folder_deleted_under_its_trainer_is_not_written_again(lab):
    """`rm -rf` of a run that a forgotten trainer still trains, then a new run of its name: the old
    trainer went on writing checkpoints into the new folder, which held one model's config and log
    and the other's weights, listed as finished (a reliability review). It now stops in one line,
    and leaves the new trainer's lock in place (it unlinked it, letting a third trainer in)."""
    import shutil

    from tangstudio.engine.runs.rundir import RunDir

    first, first_out = lab.start("train", "--headless", *ARGS, "--run", "gone", fault="pause:step:3")
    wait_stopped(first)  # before its first evaluation, samples and checkpoints
    run = lab.home / "runs" / "gone"
    second = None
    try:
        shutil.rmtree(run)
        second, second_out = lab.start(
            "train",
            "--headless",
            *ARGS,
            "--run",
            "gone",
            "--arch",
            "gru",
            "--seed",
            "1",
            fault="pause:step:3",
        )
        wait_stopped(second)  # the new run holds the new folder's lock
        os.kill(first, signal.SIGCONT)
        old, first = finish(first, first_out), None
        assert old.code != 0 and "was deleted or replaced while it trained" in old.output, old.output
        assert "Traceback" not in old.output
        assert RunDir(run).is_running(), "the old trainer took the new run's lock with it"
        third = lab.train("gone", "--hidden", "48")
        assert third.refused_in_one_line and "being trained by another process" in third.output, third.output
        os.kill(second, signal.SIGCONT)
        new, second = finish(second, second_out), None
        assert new.code == 0, new.output
    finally:
        for pid in (first, second):
            if pid is not None:
                with contextlib.suppress(ProcessLookupError, ChildProcessError):
                    os.kill(pid, signal.SIGKILL)
                    os.kill(pid, signal.SIGCONT)
    meta = json.loads((run / "checkpoints" / "last" / "meta.json").read_text(encoding="utf-8"))
    assert 'arch = "gru"' in (run / "config.toml").read_text(encoding="utf-8")
    assert meta["model"]["arch"] == "gru" and meta["step"] == 16  # the second run's, whole
    steps = [json.loads(line)["step"] for line in (run / "samples.jsonl").read_text("utf-8").splitlines()]
    assert steps == sorted(steps), steps  # no samples of the first run in between


def test_a_lock_left_by_a_dead_or_reused_pid_is_stale(lab):
    from tangstudio.engine.runs.lock import lock_info
    from tangstudio.engine.runs.rundir import RunDir

    assert lab.train("stale", fault="kill:step:10").code == -9
    run = RunDir(lab.home / "runs" / "stale")
    assert not run.is_running()  # its pid is dead
    reused = {**lock_info(), "started": "1"}  # this live pid, but a process that started at boot
    run.lock_path.write_text(json.dumps(reused), encoding="utf-8")
    assert not run.is_running()
    run.lock_path.write_text(json.dumps(lock_info()), encoding="utf-8")
    assert run.is_running()  # the same pid and start time: alive
    resumed = lab.resume("stale")  # the kernel lock is free whatever the file says
    assert resumed.code == 0, resumed.output
    assert lab.same_as("stale")


def test_divergence_stops_in_one_line_and_saves_nothing_non_finite(lab):
    out = lab.train("nan", "--lr", "1e6", "--clip", "1e30", "--warmup", "0")
    assert out.code == 2 and "training diverged at step" in out.output and "Traceback" not in out.output
    errors = [line for line in out.lines if line.startswith("error:")]
    assert len(errors) == 1, out.output
    events = [json.loads(x) for x in (lab.home / "runs" / "nan" / "metrics.jsonl").read_text().splitlines()]
    done = events[-1]
    assert done["event"] == "done" and done["status"] == "failed" and done["step"] > 0
    import torch

    for which in ("best", "last"):
        if (lab.home / "runs" / "nan" / "checkpoints" / which).is_dir():
            assert all(torch.isfinite(t).all() for t in lab.weights("nan", which).values())


def test_loading_refuses_non_finite_weights(lab):
    import torch
    from safetensors.torch import load_file, save_file

    assert lab.train("poisoned", "--steps", "8").code == 0
    folder = lab.home / "runs" / "poisoned" / "checkpoints" / "best"
    weights = load_file(str(folder / "model.safetensors"))
    first = sorted(weights)[0]
    weights[first] = torch.full_like(weights[first], float("nan"))
    save_file(weights, str(folder / "model.safetensors"))
    import hashlib

    meta = json.loads((folder / "meta.json").read_text())
    meta["weights_sha256"] = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    out = lab.cli("eval", "poisoned")
    assert out.refused_in_one_line and "not finite" in out.output, out.output


def test_hostile_checkpoint_files_are_refused_before_reading_or_allocating(lab):
    assert lab.train("hostile", "--steps", "8").code == 0
    best = lab.home / "runs" / "hostile" / "checkpoints" / "best"
    weights = best / "model.safetensors"
    saved = weights.read_bytes()
    weights.unlink()
    weights.symlink_to("/dev/zero")
    out = lab.cli("eval", "hostile")
    assert out.refused_in_one_line and "not a regular file" in out.output, out.output
    weights.unlink()
    weights.write_bytes(saved)
    meta = json.loads((best / "meta.json").read_text())
    meta["model"].update(hidden=8192, layers=16)  # 16 × 8192² LSTM: gigabytes, were it built
    (best / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    out = lab.cli("eval", "hostile")
    assert out.refused_in_one_line and "does not fit its architecture" in out.output, out.output
    weights.write_bytes(saved[: len(saved) // 2])  # torn: the header's sizes and the file disagree
    out = lab.cli("eval", "hostile")
    assert out.refused_in_one_line and "truncated" in out.output, out.output


def test_a_checkpoint_whose_parts_do_not_belong_together_is_refused(lab):
    """The silently-wrong resume of issue 17: step-16 weights with step-8 training state."""
    assert lab.train("mixed", fault="kill:step:12").code == -9  # last/ = step 8
    old_state = lab.home / "runs" / "mixed" / "checkpoints" / "last"
    saved = {p.name: p.read_bytes() for p in old_state.iterdir()}
    assert lab.resume("mixed").code == 0  # last/ = step 16
    for name in ("train_state.json", "train_state.safetensors"):
        (old_state / name).write_bytes(saved[name])
    out = lab.resume("mixed")
    assert out.refused_in_one_line and "inconsistent" in out.output, out.output


def test_disk_full_stops_in_one_line_and_the_run_resumes_after(lab, tmp_path):
    """A real full disk on a small tmpfs where one can be mounted (root), else the hook's ENOSPC."""
    mount = tmp_path / "small"
    mount.mkdir()
    real = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(mount)], capture_output=True
        ).returncode
        == 0
    )
    try:
        if real:
            home = mount / "home"
            (home / "corpora").mkdir(parents=True)
            subprocess.run(
                ["cp", "-r", str(lab.home / "corpora" / "tiny"), str(home / "corpora")], check=True
            )
            out = lab.cli("--home", str(home), "train", "--headless", *ARGS, "--run", "full")
        else:
            out = lab.train("full", fault="enospc:write:9")
        assert out.code == 2 and "Traceback" not in out.output, out.output
        errors = [line for line in out.lines if line.startswith("error:")]
        assert len(errors) == 1 and "No space left on device" in errors[0], out.output
        # "the last checkpoint is intact; resume with: …", or, full before the first one was
        # whole, "no checkpoint was written yet; a resume starts it from step 0: …"
        assert ": tangstudio --home" in errors[0] and errors[0].endswith("--resume")
        if real:
            subprocess.run(["mount", "-o", "remount,size=64m", str(mount)], check=True)
            resumed = lab.cli("--home", str(home), "train", "--headless", "--run", "full", "--resume")
            assert resumed.code == 0, resumed.output
            import torch
            from safetensors.torch import load_file

            a = lab.weights("ref")
            b = load_file(str(home / "runs" / "full" / "checkpoints" / "last" / "model.safetensors"))
            assert all(torch.equal(a[k], b[k]) for k in a)
            assert not [p for p in (home / "runs" / "full").rglob("*.tmp")]
        else:
            resumed = lab.resume("full")
            assert resumed.code == 0, resumed.output
            assert lab.same_as("full")
    finally:
        if real and subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_second_interrupt_during_the_final_save_is_one_clean_stop(lab):
    points = lab.points("count3")
    last_write = len(points) - points[::-1].index("write")  # inside the final checkpoint
    out = lab.train("twice-c", fault=f"interrupt:any:{last_write}")
    assert out.code == 130 and "Traceback" not in out.output, out.output
    assert "stopped at once" in out.output and "resume with: tangstudio --home" in out.output
    assert not lab.leftovers("twice-c")
    resumed = lab.resume("twice-c")
    assert resumed.code == 0, resumed.output
    assert lab.same_as("twice-c")


def test_sighup_checkpoints_and_exits_like_sigterm(lab):
    pid, out = lab.start("train", "--headless", *ARGS, "--run", "hup", fault="pause:step:11")
    wait_stopped(pid)
    os.kill(pid, signal.SIGHUP)
    os.kill(pid, signal.SIGCONT)
    done = finish(pid, out)
    assert done.code == 129, done.output
    assert "stopped at step 11" in done.output and "--home" in done.output
    resumed = lab.resume("hup")
    assert resumed.code == 0 and "resuming at step 11" in resumed.output, resumed.output
    assert lab.same_as("hup")


def test_wall_time_checkpoints_between_evaluations(lab):
    """--checkpoint-every: a kill between evaluations loses at most that much time, not eval_every steps."""
    out = lab.train("clock", "--checkpoint-every", "0.00001", fault="kill:step:13")
    assert out.code == -9
    events = [json.loads(x) for x in (lab.home / "runs" / "clock" / "metrics.jsonl").read_text().splitlines()]
    saved = [e["step"] for e in events if e["event"] == "checkpoint" and e["kind"] == "last"]
    assert saved[-1] == 12 and 10 in saved  # every step, not only at the step-8 evaluation
    resumed = lab.resume("clock")
    assert resumed.code == 0 and "resuming at step 12" in resumed.output, resumed.output
    assert lab.same_as("clock")


def test_a_run_killed_before_its_first_checkpoint_resumes_from_step_zero(lab):
    assert lab.train("early", fault="kill:step:5").code == -9
    resumed = lab.resume("early")
    assert resumed.code == 0 and "resuming at step 0" in resumed.output, resumed.output
    assert lab.same_as("early")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--samples", "-3"], "--samples must be 0 or positive"),
        (["--checkpoint-every", "0"], "--checkpoint-every must be a positive"),
    ],
)
def test_bad_options_are_one_line(lab, args, message):
    out = lab.train("bad", *args)
    assert out.refused_in_one_line and message in out.output, out.output
    assert not (lab.home / "runs" / "bad").exists()


def test_a_failed_start_does_not_burn_the_name(lab):
    out = lab.cli("train", "--headless", "--corpus", "nonexistent", "--run", "burnt")
    assert out.refused_in_one_line, out.output
    assert not (lab.home / "runs" / "burnt").exists()


def test_tmp_is_not_a_checkpoint(lab, tmp_path: Path):
    from tangstudio.engine.runs.checkpoint import clean_checkpoints

    folder = tmp_path / "checkpoints"
    (folder / ".last.abc.tmp").mkdir(parents=True)
    (folder / ".last.abc.tmp" / "meta.json").write_text("{}")
    (folder / "last").mkdir()
    removed = clean_checkpoints(folder)
    assert [p.name for p in removed] == [".last.abc.tmp"] and (folder / "last").is_dir()


def test_a_reader_never_sees_a_checkpoint_being_switched_in(lab, monkeypatch):
    """The studio loads `best` of a run that is training: when a new folder is switched in between
    the reader's meta.json and its weights, the load is retried on the new folder, not refused."""
    from tangstudio.engine.runs import checkpoint as ckpt

    assert lab.train("reader", "--steps", "8").code == 0
    best = lab.home / "runs" / "reader" / "checkpoints" / "best"
    meta, weights = ckpt.read_meta(best), ckpt.read_weights(best)
    fields = {
        k: v for k, v in meta.items() if k not in ("format", "version", "checkpoint_id", "weights_sha256")
    }
    real_read_weights = ckpt.read_weights
    swaps = []

    def trainer_saves_first(directory, meta=None):  # the real reader, after a real save in between
        if not swaps:
            ckpt.save_checkpoint(best, {k: v + 1 for k, v in weights.items()}, {**fields, "step": 9})
            swaps.append(1)
        return real_read_weights(directory, meta)

    monkeypatch.setattr(ckpt, "read_weights", trainer_saves_first)
    loaded = ckpt.load_checkpoint(best)
    assert swaps and loaded.meta["step"] == 9  # the first attempt mixed old meta and new weights


@pytest.mark.parametrize("moment", ["any:1", "step:1"])
def test_a_second_interrupt_says_what_the_run_can_do_next(lab, moment):
    """A second Ctrl+C before anything was saved advised a `--resume` that answered "unknown run" (a
    reliability review). Whatever it says next is run, and works."""
    out = lab.train(f"early-{moment[0]}", fault=f"interrupt:{moment}")
    assert out.code == 130 and "Traceback" not in out.output, out.output
    assert "stopped at once by a second interrupt" in out.output, out.output
    run = f"early-{moment[0]}"
    if "start it again with the same command" in out.output:
        again = lab.train(run)
    else:
        assert "resume with" in out.output or "a resume starts it from step 0" in out.output, out.output
        again = lab.resume(run)
    assert again.code == 0, again.output
