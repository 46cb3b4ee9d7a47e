"""Every file of a run folder, damaged five ways in turn, under every command that reads it.

One tiny run is trained once; each case copies its home, damages one file (truncated, one bit
flipped, replaced by garbage, by a folder, by a link to /dev/zero) and runs each reader in a
forked child of this process (the real `tangstudio.cli.main`, torch already imported, so a call
costs a fraction of a second). The promise checked, for each of them:

- no traceback, no hang (a child that has not finished in HANG_S is killed and the case fails);
- `runs list`, `runs show` and the studio's follower finish and write nothing; where the damage is
  always detectable (garbage, a folder, a device, a truncated config or meta.json), they name the
  damaged file;
- `eval`, `generate --model` and `train --resume` either work or refuse in exactly one `error:`
  line with exit code 2, and a refusal leaves every file of the run as it was (run.lock aside,
  which the trainer takes and releases).

The figures at the end of docs/reliability.md come from this file: FILES x DAMAGES cases.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from harness import Outcome, cli_main, fork_start, tiny_args

# Homes here are copies of a whole trained home (copytree needs the folder absent).
pytestmark = [pytest.mark.slow, pytest.mark.own_corpus_cache]

HANG_S = 60  # far above any of these calls (< 3 s); only a read of /dev/zero or a FIFO gets here
RUN = "r"
BUILD = tiny_args(4, 2, 2)
DAMAGES = ("truncate", "bitflip", "garbage", "folder", "devzero")
ALWAYS_SEEN = ("garbage", "folder", "devzero")  # damage no reader can mistake for a valid file
GARBAGE = b"\x00\xff\xfe not a tangstudio file \x9c\x80\n" * 3


def wait(pid: int, out: Path) -> Outcome:
    """finish() with a deadline: a hang is a failure, not a stuck suite."""
    deadline = time.monotonic() + HANG_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return Outcome(os.waitstatus_to_exitcode(status), out.read_text("utf-8", errors="replace"))
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"hung for {HANG_S} s: {out.read_text('utf-8', errors='replace')[-500:]}")
        time.sleep(0.01)


def in_child(fn: Callable[[], object], home: Path, out: Path) -> Outcome:
    env = {"TANGSTUDIO_HOME": str(home), "COLUMNS": "200", "TANGSTUDIO_FAULT": ""}
    return wait(fork_start(fn, env, out), out)


def follow_run() -> object:
    """The studio's reader: what the train pane calls a few times a second."""
    from tangstudio.engine import paths
    from tangstudio.studio.follow import RunFollower

    follower = RunFollower(paths.runs_dir() / RUN)
    follower.poll()
    follower.poll()
    print(follower.status(), follower.step, follower.eta_s(), follower.config_error, len(follower.samples))
    return 0


READERS: dict[str, Callable[[], object]] = {
    "runs list": cli_main("runs", "list"),
    "runs show": cli_main("runs", "show", RUN),
    "eval": cli_main("eval", RUN, "--json"),
    "generate --model": cli_main("generate", "--model", RUN, "-n", "1", "--seed", "1", "--json"),
    "train --resume": cli_main("train", "--headless", "--run", RUN, "--resume"),
    "follower": follow_run,
}
LISTING = ("runs list", "runs show")  # show a damaged run, exit 0
USING = ("eval", "generate --model", "train --resume")  # work, or refuse in one line


def readers_of(relative: str) -> list[str]:
    """The commands that read this file of a run."""
    if relative.startswith("checkpoints/best/"):
        return [*LISTING, "eval", "generate --model"]
    if relative.startswith("checkpoints/last/"):
        return [*LISTING, "train --resume"]
    return [*LISTING, "train --resume", "follower"]  # config, metrics, samples, run.lock


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, tiny_corpus_file: Path) -> Path:
    """A home with the tiny corpus and one finished 4-step run, plus a stale run.lock to damage."""
    import torch

    torch.set_num_threads(1)
    import safetensors.torch  # noqa: F401

    import tangstudio.cli
    import tangstudio.engine.training.loop  # noqa: F401

    home = tmp_path_factory.mktemp("corruption") / "home"
    logs = home.parent / "logs"
    logs.mkdir()
    made = in_child(cli_main("corpus", "import", str(tiny_corpus_file), "--name", "tiny"), home, logs / "i")
    assert made.code == 0, made.output
    trained = in_child(cli_main("train", "--headless", *BUILD, "--run", RUN), home, logs / "t")
    assert trained.code == 0, trained.output
    lock = {"pid": 2**22 + 7, "host": socket.gethostname(), "started": "1"}  # no such process
    (home / "runs" / RUN / "run.lock").write_text(json.dumps(lock), encoding="utf-8")
    return home


def run_files(home: Path) -> list[str]:
    run = home / "runs" / RUN
    return sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file() and not p.is_symlink())


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "bitflip":
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x10
        path.write_bytes(bytes(flipped))
    elif how == "garbage":
        path.write_bytes(GARBAGE)
    elif how == "folder":
        path.unlink()
        path.mkdir()
        (path / "inside").write_text("a folder where a file should be")
    elif how == "devzero":
        path.unlink()
        path.symlink_to("/dev/zero")


def snapshot(run: Path) -> dict[str, object]:
    """Every entry of the run but run.lock: bytes for files, the target for links, a mark for folders."""
    out: dict[str, object] = {}
    for p in sorted(run.rglob("*")):
        key = str(p.relative_to(run))
        if key == "run.lock":
            continue
        if p.is_symlink():
            out[key] = ("link", os.readlink(p))
        elif p.is_dir():
            out[key] = "dir"
        else:
            out[key] = p.read_bytes()
    return out


def test_every_reader_works_on_the_run_before_it_is_damaged(base, tmp_path):
    """A reader that refuses an intact run proves nothing when it refuses a damaged one: `generate
    --run`, an option generate never had, stopped at a usage error for every case of this suite."""
    home = tmp_path / "home"
    shutil.copytree(base, home, symlinks=True)  # train --resume writes
    for reader, call in READERS.items():
        outcome = in_child(call, home, tmp_path / f"{reader.replace(' ', '_')}.txt")
        assert outcome.code == 0, f"{reader}: exit {outcome.code}\n{outcome.output[-1500:]}"


def test_the_run_files_are_the_ones_this_suite_damages(base):
    files = run_files(base)
    # If the layout changes, CASES follows it (it is built from the real run), but say so loudly.
    for expected in ("config.toml", "metrics.jsonl", "samples.jsonl", "run.lock"):
        assert expected in files
    assert any(f.endswith("model.safetensors") for f in files)
    assert any(f.endswith("meta.json") for f in files)


def _cases() -> list[tuple[str, str]]:
    """(file, damage) for every file of a trained run; the file list is the layout's."""
    files = [
        "config.toml",
        "metrics.jsonl",
        "samples.jsonl",
        "run.lock",
        "checkpoints/best/meta.json",
        "checkpoints/best/model.safetensors",
        "checkpoints/last/meta.json",
        "checkpoints/last/model.safetensors",
        "checkpoints/last/train_state.json",
        "checkpoints/last/train_state.safetensors",
    ]
    return [(f, d) for f in files for d in DAMAGES]


CASES = _cases()


@pytest.mark.parametrize(("relative", "how"), CASES, ids=[f"{f}-{d}" for f, d in CASES])
def test_a_damaged_file_gives_one_line_or_is_shown_damaged(base, tmp_path, relative, how):
    home = tmp_path / "home"
    shutil.copytree(base, home, symlinks=True)
    run = home / "runs" / RUN
    target = run / relative
    if not target.is_file():
        pytest.skip(f"this layout has no {relative}")
    damage(target, how)
    name = Path(relative).name
    for reader in readers_of(relative):
        before = snapshot(run)
        outcome = in_child(READERS[reader], home, tmp_path / f"{reader.replace(' ', '_')}.txt")
        said = f"{reader} on {relative} ({how}): exit {outcome.code}\n{outcome.output[-1500:]}"
        assert "Traceback" not in outcome.output, said
        if reader in LISTING or reader == "follower":
            assert outcome.code == 0, said
            assert snapshot(run) == before, f"{said}\nwrote into the damaged run"
            best_weights = relative == "checkpoints/best/model.safetensors"  # both check its sha256
            if reader in LISTING and (
                best_weights or how in ALWAYS_SEEN or name in ("config.toml", "meta.json")
            ):
                if how == "bitflip" and not best_weights:
                    continue
                listed_only = reader == "runs list" and name != "meta.json" and not best_weights
                if relative.startswith("checkpoints/") and listed_only:
                    continue  # `runs list` reads meta.json and best's weights; `runs show` the rest
                if name in ("run.lock",):
                    continue  # a damaged lock is a stale lock: nothing to report
                assert "damaged" in outcome.output and name.split(".")[0] in outcome.output, said
        else:
            assert outcome.code in (0, 2), said
            checked = name.endswith(".safetensors") or how != "bitflip"  # sha256, JSON or file type
            if relative.startswith("checkpoints/") and checked:
                assert outcome.code == 2, f"{said}\nused a damaged checkpoint"
            if outcome.code == 2:
                assert outcome.refused_in_one_line, said
                assert snapshot(run) == before, f"{said}\nwrote into the damaged run"


def test_a_folder_of_runs_with_one_damaged_still_lists_the_others(base, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(base, home, symlinks=True)
    shutil.copytree(home / "runs" / RUN, home / "runs" / "broken", symlinks=True)
    with open(home / "runs" / "broken" / "metrics.jsonl", "a", encoding="utf-8") as handle:
        for bad in ('{"event":"train","step":null}', '{"event":"train","step":"abc"}', '{"step":1e400}'):
            handle.write(bad + "\n")
        handle.write('{"event":"eval","step":3,"val_loss":"x"}\n')
    meta = home / "runs" / "broken" / "checkpoints" / "best" / "meta.json"
    meta.write_text("[1, 2, 3]", encoding="utf-8")
    listed = in_child(cli_main("runs", "list", "--json"), home, tmp_path / "list.txt")
    assert listed.code == 0, listed.output
    rows = {r["name"]: r for r in json.loads(listed.output)}
    assert rows[RUN]["status"] == "finished" and not rows[RUN]["problems"]
    assert rows["broken"]["status"] == "damaged"
    assert any("4 damaged lines skipped" in p for p in rows["broken"]["problems"])
    assert any("meta.json" in p for p in rows["broken"]["problems"])


def test_a_config_cut_at_a_line_end_is_refused_not_filled_with_defaults(base, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(base, home, symlinks=True)
    config = home / "runs" / RUN / "config.toml"
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    config.write_text("".join(lines[: len(lines) - 3]), encoding="utf-8")  # valid TOML, but short
    resumed = in_child(READERS["train --resume"], home, tmp_path / "resume.txt")
    assert resumed.refused_in_one_line and "config.toml" in resumed.output and "cut short" in resumed.output


def test_import_force_killed_between_renames_loses_no_corpus(base, tmp_path, tiny_corpus_file):
    home = tmp_path / "home"
    shutil.copytree(base, home, symlinks=True)
    corpora = home / "corpora"
    killed = wait(
        fork_start(
            cli_main("corpus", "import", str(tiny_corpus_file), "--name", "tiny", "--force", "--orphan-runs"),
            {"TANGSTUDIO_HOME": str(home), "TANGSTUDIO_FAULT": "kill:rename:1"},
            tmp_path / "kill.txt",
        ),
        tmp_path / "kill.txt",
    )
    assert killed.code == -9
    (corpora / "tiny").rename(corpora / ".tiny.old")  # the fallback's window: parked, not yet replaced
    listed = in_child(cli_main("corpus", "list"), home, tmp_path / "list.txt")
    assert listed.code == 0 and "tiny" in listed.output and ".tiny" not in listed.output, listed.output
    assert (corpora / "tiny" / "meta.json").is_file()


def test_bad_metric_lines_are_skipped_by_the_follower_and_dropped_by_a_resume(base, tmp_path):
    from tangstudio.engine.runs.metrics import read_jsonl
    from tangstudio.studio.follow import RunFollower

    home = tmp_path / "home"
    shutil.copytree(base, home, symlinks=True)
    metrics = home / "runs" / RUN / "metrics.jsonl"
    good = read_jsonl(metrics).events
    bad = [
        '{"event":"train","step":null}',
        '{"event":"train","step":"abc"}',
        '{"event":"train","step":1e400}',
    ]
    with open(metrics, "a", encoding="utf-8") as handle:
        handle.write("\n".join([*bad, '{"event":"eval","step":3,"val_loss":"x"}']) + "\n")
    follower = RunFollower(home / "runs" / RUN)
    follower.poll()
    assert follower.step == 4 and follower.status() == "finished"
    read = read_jsonl(metrics)
    assert read.events == good and read.skipped == 4 and "step None" in (read.first_skip or "")
    resumed = in_child(
        cli_main("train", "--headless", "--run", RUN, "--resume", "--steps", "6"), home, tmp_path / "r"
    )
    assert resumed.code == 0, resumed.output
    after = read_jsonl(metrics)
    assert after.skipped == 0 and max(e["step"] for e in after.events) == 6
    # the file as it was, bad lines and all, kept beside it (they went without a word: a review)
    kept = (metrics.parent / "metrics.jsonl.damaged").read_text(encoding="utf-8")
    assert all(line in kept for line in bad)
    assert "the file as it was is kept as " in resumed.output and "metrics.jsonl.damaged" in resumed.output


def test_runs_list_agrees_with_runs_show_and_a_mirrors_foreign_lock_does_not_outlive_its_done_line(
    base, tmp_path
):
    """An engineer's review: `runs list` said finished for a run whose last/ weights `runs show` called
    damaged, and running for a finished mirror that kept its server's run.lock (rsync without --delete)."""
    home = tmp_path / "home"
    shutil.copytree(base, home, symlinks=True)
    run = home / "runs" / RUN
    (run / "run.lock").write_text(json.dumps({"pid": 1, "host": "gpu-box", "started": "1"}), encoding="utf-8")
    listed = in_child(cli_main("runs", "list", "--json"), home, tmp_path / "list.txt")
    assert json.loads(listed.output)[0]["status"] == "finished", listed.output
    damage(run / "checkpoints" / "last" / "model.safetensors", "truncate")
    for command in (("runs", "list", "--json"), ("runs", "show", RUN, "--json")):
        shown = in_child(cli_main(*command), home, tmp_path / "shown.txt")
        data = json.loads(shown.output)
        row = data[0] if isinstance(data, list) else data
        assert row["status"] == "damaged" and any("last/model.safetensors" in p for p in row["problems"]), row
