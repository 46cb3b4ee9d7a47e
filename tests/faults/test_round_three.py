"""Issue 26, reliability round three, the training side: each reproduction as a test that failed
before its fix (items 2, 3, 5, 10 and 11, and the first train_loss after a resume).

Runs are forked children of the test process running the real CLI (harness.py), killed or failed
at one exact moment through the fault hook (TANGSTUDIO_FAULT, engine/atomic.py).
"""

from __future__ import annotations

import errno
import json
import os

import pytest
from harness import tiny_args

pytestmark = pytest.mark.slow


def _events(lab, run: str) -> list[dict]:
    path = lab.home / "runs" / run / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _listed(lab, run: str) -> dict:
    out = lab.cli("runs", "list", "--json")
    assert out.code == 0, out.output
    return next(r for r in json.loads(out.output) if r["name"] == run)


def _error(out) -> str:
    """The one `error:` line of a run that stopped with exit 2 (after its progress lines)."""
    errors = [line for line in out.lines if line.startswith("error:")]
    assert out.code == 2 and len(errors) == 1 and "Traceback" not in out.output, out.output
    return errors[0]


def _best_meta(lab, run: str) -> dict:
    return json.loads((lab.home / "runs" / run / "checkpoints" / "best" / "meta.json").read_text())


# ---- item 2: the best a listing shows is the one best/ holds ------------------------------------


def _step_16_improved(lab) -> None:
    evals = {e["step"]: e["val_loss"] for e in _events(lab, "ref") if e["event"] == "eval"}
    assert evals[16] < evals[8], "the tiny run must improve at step 16 for these tests to mean anything"


def _third_save(lab, run: str) -> tuple[int, int]:
    """(its first write, its switch's rename), counted as the fault hook counts: the third checkpoint
    a tiny run saves is `best` at step 16 (best@8 and last@8 come before it)."""
    points = lab.points(f"count-{run}")
    switches = [i for i, p in enumerate(points) if p == "rename" and points[i - 1] in ("dirsync", "fsync")]
    third = switches[2]
    begins = switches[1] + 1 + points[switches[1] + 1 :].index("write")
    return points[: begins + 1].count("write"), points[: third + 1].count("rename")


@pytest.mark.parametrize(
    ("run", "how", "code"), [("best-full", "enospc:write", 2), ("best-killed", "kill:rename", -9)]
)
def test_the_best_listed_is_the_best_saved_when_its_save_fails(lab, run, how, code):
    _step_16_improved(lab)
    write, rename = _third_save(lab, run)
    out = lab.train(run, fault=f"{how}:{write if how.endswith('write') else rename}")
    assert out.code == code, out.output
    meta = _best_meta(lab, run)
    assert meta["step"] == 8, "the step-16 best was never switched in"
    evals = [e for e in _events(lab, run) if e["event"] == "eval"]
    assert evals[-1]["step"] == 16 and evals[-1]["val_ppl"] < meta["val_ppl"]  # what was claimed before
    listed = _listed(lab, run)
    assert listed["best_val_ppl"] == meta["val_ppl"] and listed["best_val_loss"] == meta["val_loss"]
    shown = lab.cli("runs", "show", run, "--json")
    assert json.loads(shown.output)["best_val_ppl"] == meta["val_ppl"]
    if code == 2:  # the trainer's own last words: its summary line, and the done line of metrics.jsonl
        _error(out)
        assert f"best val ppl {meta['val_ppl']:.2f}" in out.output, out.output
        done = [e for e in _events(lab, run) if e["event"] == "done"][-1]
        assert done["status"] == "failed" and done["val_ppl"] == meta["val_ppl"]


# ---- item 3: a folder's fsync error stops the run like a file's ---------------------------------


def test_a_folder_fsync_error_is_never_swallowed(lab):
    points = lab.points("count-dirsync")
    syncs = points.count("dirsync")
    assert syncs >= 8, points  # each of the four saves syncs its new folder, then the parent
    results = {}
    for n in range(1, syncs + 1):
        run = f"eio{n}"
        out = lab.train(run, fault=f"eio:dirsync:{n}")
        assert "Input/output error" in _error(out), (n, out.output)
        resumed = lab.resume(run)
        assert resumed.code == 0, (n, resumed.output)
        assert lab.same_as(run) and not lab.leftovers(run), n
        results[n] = "stopped, resumed equal"
    print(f"\nEIO at each of the {syncs} folder fsyncs: {results}")


def test_fsync_dir_ignores_only_a_file_system_that_cannot_sync_folders(tmp_path, monkeypatch):
    from tangstudio.engine import atomic

    def failing(code):
        def fsync(fd):
            raise OSError(code, os.strerror(code))

        return fsync

    monkeypatch.setattr(atomic.os, "fsync", failing(errno.EINVAL))
    atomic.fsync_dir(tmp_path)  # cannot sync a folder here: nothing to report
    monkeypatch.setattr(atomic.os, "fsync", failing(errno.EIO))
    with pytest.raises(OSError) as raised:
        atomic.fsync_dir(tmp_path)
    assert raised.value.errno == errno.EIO


# ---- item 5: no resume advice for a run that was never saved ------------------------------------


@pytest.mark.parametrize("fault", ["enospc:rename:1", "eio:rename:1"])
def test_a_run_that_failed_before_its_config_says_start_again(lab, fault):
    run = "never" + fault.split(":")[0]
    out = lab.train(run, fault=fault)  # config.toml's rename, the run's first write
    line = _error(out)
    assert "nothing was saved" in line and "--resume" not in out.output, out.output
    assert not (lab.home / "runs" / run).exists()
    again = lab.train(run)  # what the message says to do works
    assert again.code == 0, again.output


def test_a_run_that_failed_after_its_config_still_says_resume(lab):
    out = lab.train("later-full", fault="enospc:write:1")
    # Full before the first checkpoint was whole: no "the last checkpoint is intact" (an engineer's
    # review of the fifteenth stop), and still the command that resumes it.
    said = _error(out)
    assert (
        "no resumable checkpoint (last/) was written yet; a resume starts it from step 0: tangstudio --home"
        in said
    ), out.output
    assert "intact" not in said
    assert lab.resume("later-full").code == 0 and lab.same_as("later-full")


# ---- item 10: a reader never mixes two checkpoints ----------------------------------------------


def test_a_switch_between_reading_meta_and_weights_is_never_mixed(lab, monkeypatch):
    """generate's numpy loader: a switch between its meta.json and its weights once gave "does not
    match its recorded sha256"; read through one folder descriptor it retries on the new folder."""
    from tangstudio.engine.compose.fast_model import load_fast
    from tangstudio.engine.runs import checkpoint as ckpt

    assert lab.train("switching", "--steps", "8").code == 0
    best = lab.home / "runs" / "switching" / "checkpoints" / "best"
    meta, weights = ckpt.read_meta(best), ckpt.read_weights(best)
    fields = {
        k: v for k, v in meta.items() if k not in ("format", "version", "checkpoint_id", "weights_sha256")
    }
    real_read_config = ckpt.read_config
    switched = []

    def trainer_switches_first(directory, meta):  # after meta.json was read, before the weights
        if not switched:
            ckpt.save_checkpoint(best, {k: v * 0.5 for k, v in weights.items()}, {**fields, "step": 9})
            switched.append(1)
        return real_read_config(directory, meta)

    monkeypatch.setattr(ckpt, "read_config", trainer_switches_first)
    loaded = load_fast(str(best))
    assert switched and loaded is not None and loaded.meta["step"] == 9


def test_readers_beside_a_run_switching_at_every_step_never_fail(lab):
    """The issue's stress: a run switching `last` at every step and `best` at every evaluation, and
    readers loading both over and over (torch and numpy paths) while it runs."""
    from tangstudio.engine.compose.fast_model import load_fast
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.runs.checkpoint import load_checkpoint

    args = tiny_args(60, 2, 4)  # best at every improving evaluation, every 2 steps
    pid, out = lab.start("train", "--headless", *args, "--checkpoint-every", "0.00001", "--run", "busy2")
    folder = lab.home / "runs" / "busy2" / "checkpoints"
    reads, failures = 0, []
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        for which in ("best", "last"):
            if not (folder / which / "meta.json").exists():
                continue
            try:
                load_fast(str(folder / which))
                load_checkpoint(folder / which)
                reads += 2
            except TangError as exc:
                failures.append(str(exc))
    done = out.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in done and "error:" not in done, done
    print(f"\n{reads} reads beside a run switching at every step: {len(failures)} failed")
    assert reads >= 10 and not failures, failures[:3]


# ---- item 11: the follower knows a rewrite by its identity, not its size ------------------------


def test_the_follower_starts_over_after_a_resume_it_did_not_see(lab):
    from tangstudio.studio.follow import RunFollower

    assert lab.train("followed", fault="kill:step:13").code == -9  # lines up to step 12, ckpt at 8
    follower = RunFollower(lab.home / "runs" / "followed")
    follower.poll()
    seen = follower._metrics.offset
    assert [s for s, _ in follower.train] == [4, 8, 12]
    assert lab.resume("followed").code == 0  # trims to step 8 (a new file), then writes up to 16
    assert (lab.home / "runs" / "followed" / "metrics.jsonl").stat().st_size > seen
    follower.poll()
    assert follower._metrics.restarts == 1  # the rewrite was seen, although the file grew meanwhile
    assert follower._metrics.skipped == 0, follower._metrics.first_skip
    fresh = RunFollower(lab.home / "runs" / "followed")  # what a follower sees that starts now
    fresh.poll()
    assert follower.train == fresh.train and [s for s, _ in follower.train] == [4, 8, 12, 16]
    assert follower.speed == fresh.speed  # step 12 from the resumed run, not the killed one
    assert follower.done is not None and follower.done["status"] == "finished"


# ---- also: the first train_loss after a mid-window resume says how many steps it averages ------


def test_the_first_train_loss_after_a_mid_window_resume_is_labelled(lab):
    out = lab.train("window", "--checkpoint-every", "0.00001", fault="kill:step:11")  # last/ at 10
    assert out.code == -9
    resumed = lab.resume("window")
    assert resumed.code == 0 and "resuming at step 10" in resumed.output, resumed.output
    train = {e["step"]: e for e in _events(lab, "window") if e["event"] == "train"}
    assert train[12]["window_steps"] == 2  # steps 11 and 12 only: --log-every is 4
    assert all(e["window_steps"] == 4 for step, e in train.items() if step != 12)
