"""`tangstudio train --headless`, `eval` and `runs` as a user runs them: real subprocesses, real exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

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
    "--samples",
    "1",
]


def env_for(home: Path) -> dict:
    return {**os.environ, "TANGSTUDIO_HOME": str(home), "COLUMNS": "120", "OMP_NUM_THREADS": "1"}


def cli(*args: str, home: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", *args],
        capture_output=True,
        text=True,
        env=env_for(home),
        timeout=timeout,
    )


def snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru", "bilstm"])
def test_train_eval_and_list_every_arch(tiny_corpus, home, arch):
    result = cli(
        "train",
        "--headless",
        "--arch",
        arch,
        *SMALL,
        "--steps",
        "4",
        "--eval-every",
        "2",
        "--run",
        arch,
        home=home,
    )
    assert result.returncode == 0, result.stderr
    assert "finished at step 4" in result.stdout  # plain timestamped lines: stdout is not a terminal
    run = home / "runs" / arch
    assert {"config.toml", "metrics.jsonl", "samples.jsonl", "checkpoints"} <= {p.name for p in run.iterdir()}
    evaluated = cli("eval", arch, "--json", home=home)
    assert evaluated.returncode == 0, evaluated.stderr
    data = json.loads(evaluated.stdout)
    assert data["ppl_kind"] == ("pseudo" if arch == "bilstm" else "causal")
    assert data["chars"] > 0 and data["ppl"] > 1 and data["split"] == "val"
    listed = json.loads(cli("runs", "list", "--json", home=home).stdout)
    assert (
        [r["name"] for r in listed] == [arch]
        and listed[0]["status"] == "finished"
        and listed[0]["steps"] == 4
    )


def test_minutes_budget_json_output_and_runs_show(tiny_corpus, home):
    result = cli(
        "train",
        "--headless",
        "--arch",
        "gru",
        *SMALL,
        "--minutes",
        "0.03",
        "--log-every",
        "2",
        "--json",
        "--run",
        "timed",
        home=home,
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[-1]["event"] == "done" and events[-1]["status"] == "finished"
    assert 1.5 <= events[-1]["elapsed_s"] < 30
    assert {e["event"] for e in events} <= {"train", "eval", "checkpoint", "done"}
    shown = cli("runs", "show", "timed", home=home)
    assert shown.returncode == 0 and "timed" in shown.stdout and "checkpoint best" in shown.stdout
    table = cli("runs", "list", home=home)
    assert "timed" in table.stdout and "finished" in table.stdout


def test_a_diverged_runs_json_lines_are_strict_json(tiny_corpus, home):
    """A run whose loss overflows wrote `"val_ppl": Infinity`, which JSON.parse and jq refuse (an
    engineer's review): every line must parse with non-finite constants refused, null in their place."""
    result = cli(
        "train", "--headless", *SMALL, "--steps", "6", "--eval-every", "3", "--lr", "1e4", "--warmup", "1",
        "--clip", "1e9", "--json", "--run", "diverged", home=home,
    )  # fmt: skip

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    events = [json.loads(line, parse_constant=refuse) for line in result.stdout.splitlines()]
    assert any(e.get("val_ppl", 0) is None for e in events if e["event"] == "eval"), events


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)])
def test_signal_checkpoints_and_resume_finishes(tiny_corpus, home, sig, code):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tangstudio",
            "train",
            "--headless",
            "--arch",
            "lstm",
            *SMALL,
            "--steps",
            "100000",
            "--log-every",
            "1",
            "--run",
            "sig",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(home),
    )
    metrics = home / "runs" / "sig" / "metrics.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (metrics.is_file() and '"train"' in metrics.read_text()):
        time.sleep(0.1)
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert f"resume with: tangstudio --home {home} train --headless --run sig --resume" in err
    last = json.loads(metrics.read_text().splitlines()[-1])
    assert last["event"] == "done" and last["status"] == "interrupted"
    stopped_at = last["step"]
    meta = json.loads((home / "runs" / "sig" / "checkpoints" / "last" / "meta.json").read_text())
    assert meta["step"] == stopped_at
    resumed = cli(
        "train", "--headless", "--run", "sig", "--resume", "--steps", str(stopped_at + 3), home=home
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"finished at step {stopped_at + 3}" in resumed.stdout


def test_errors_are_one_line_exit_2_and_overwrite_nothing(tiny_corpus, home, tmp_path):
    assert (
        cli(
            "train", "--headless", "--arch", "gru", *SMALL, "--steps", "2", "--run", "r", home=home
        ).returncode
        == 0
    )
    before = snapshot(home / "runs")
    cases = [
        (["train", "--headless", "--arch", "gru", *SMALL, "--steps", "2", "--run", "r"], "already exists"),
        (["train", "--headless", "--arch", "transformer", "--run", "t"], "unknown architecture"),
        (["train", "--headless", "--corpus", "nope", "--run", "n"], "unknown corpus"),
        (["train", "--headless", "--run", "ghost", "--resume"], "unknown run"),
        (["train", "--headless", "--run", "r", "--resume", "--hidden", "64"], "cannot change --hidden"),
        (["eval", "ghost"], "unknown run"),
        (["eval", "r", "--split", "dev"], "unknown split"),
        (["runs", "show", "ghost"], "unknown run"),
        (["train", "--headless", "--resume"], "--resume needs --run"),
        (["train", "--headless", "--run", "../escape"], "invalid run name"),
        (["train", "--headless", "--run", "."], "invalid run name"),
        (["train", "--headless", "--clip", "-1", "--run", "c"], "--clip must be positive"),
        (
            ["train", "--headless", "--weight-decay", "-1", "--run", "w"],
            "--weight-decay must be 0 or positive",
        ),
        (["train", "--headless", "--min-lr-ratio", "1.5", "--run", "m"], "--min-lr-ratio must be in [0, 1]"),
        (["train", "--headless", "--warmup", "-5", "--run", "u"], "--warmup must be 0 or positive"),
        # a typo, not a plan: --samples 99999999999999999999 took the machine's memory (a fuzzing review)
        (
            ["train", "--headless", "--samples", "99999999999999999999", "--run", "s"],
            "--samples must be at most 100",
        ),
        (
            ["train", "--headless", "--batch-size", "100000", "--run", "s"],
            "--batch-size must be at most 8,192",
        ),
        (
            ["train", "--headless", "--weight-decay", "1e20", "--run", "s"],
            "--weight-decay must be at most 10",
        ),
        (["train", "--headless", "--forget-bias", "20", "--run", "f"], "--forget-bias must be between"),
        # An engineer's review: "," named no form and trained on every poem.
        (["train", "--headless", "--forms", ",", "--run", "v"], "--forms ',' names no form"),
        (["train", "--headless", "--forms", "", "--run", "v"], "--forms '' names no form"),  # unset $VAR
        # accepted and saved, but models/bilstm.py reads none of them (an engineer's review)
        (
            ["train", "--headless", "--arch", "bilstm", "--weight-drop", "0.5", "--locked", "--run", "b"],
            "--weight-drop, --locked: the AWD-LSTM regularisers apply to rnn, lstm and gru, not to bilstm",
        ),
    ]
    for args, message in cases:
        result = cli(*args, home=home)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert snapshot(home / "runs") == before

    weights = home / "runs" / "r" / "checkpoints" / "best" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-7] + b"tamper!")
    result = cli("eval", "r", home=home)
    assert (
        result.returncode == 2
        and "tampered" in result.stderr
        and len(result.stderr.strip().splitlines()) == 1
    )


def test_vocabulary_that_no_longer_matches_the_corpus(tiny_corpus, tiny_corpus_file, home, tmp_path):
    from tangstudio.engine.corpus.importer import import_corpus

    assert (
        cli(
            "train", "--headless", "--arch", "gru", *SMALL, "--steps", "3", "--run", "v", home=home
        ).returncode
        == 0
    )
    changed = tmp_path / "changed.txt"
    lines = tiny_corpus_file.read_text(encoding="utf-8").splitlines()
    changed.write_text("\n".join(lines[len(lines) // 2 :]) + "\n", encoding="utf-8")  # other train poems
    import_corpus(changed, "tiny", force=True)  # the engine call: `--orphan-runs` as the CLI says it
    before = snapshot(home / "runs")
    for args in (["eval", "v"], ["train", "--headless", "--run", "v", "--resume", "--steps", "6"]):
        result = cli(*args, home=home)
        assert result.returncode == 2, result.stderr
        assert "does not match corpus" in result.stderr, result.stderr
    assert snapshot(home / "runs") == before


def test_without_headless_and_without_a_terminal_says_what_to_do(home):
    result = cli("train", "--arch", "lstm", home=home)
    assert result.returncode == 2 and "--headless" in result.stderr
    studio = subprocess.run(
        [sys.executable, "-m", "tangstudio"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env_for(home),
        timeout=60,
    )  # the bare command opens the studio: no terminal here
    assert studio.returncode == 2 and "needs a terminal" in studio.stderr and studio.stdout == ""


def test_resume_through_the_studio_keeps_the_runs_own_options(tiny_corpus, home, monkeypatch):
    """`tangstudio train --run R --resume` (no --headless) hands the studio only what was given, so the
    child `train --headless` it starts does not trip over the run's stored non-default options."""
    import tangstudio.cli.launch as launch
    from tangstudio.cli import main
    from tangstudio.studio.trainproc import option_args

    assert (
        cli(
            "train", "--headless", "--arch", "gru", *SMALL, "--steps", "2", "--run", "small", home=home
        ).returncode
        == 0
    )
    handed: list[dict] = []
    monkeypatch.setattr(launch, "launch_studio", lambda **kw: handed.append(kw["train_config"]))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(sys, "argv", ["tangstudio", "train", "--run", "small", "--resume", "--steps", "4"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 0 and len(handed) == 1
    child = cli("train", "--headless", *option_args(handed[0]), home=home)
    assert child.returncode == 0, child.stderr
    assert (
        json.loads((home / "runs" / "small" / "checkpoints" / "last" / "meta.json").read_text())["step"] == 4
    )


def _drain(fd: int, until: Callable[[], bool], seconds: float) -> None:
    """Read a pseudo-terminal's output (so the child never blocks on a full one) until `until()`."""
    import select

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        if select.select([fd], [], [], 0.1)[0]:
            try:
                os.read(fd, 65536)
            except OSError:
                return


def test_closing_the_terminal_leaves_the_run_interrupted(tiny_corpus, home):
    """`train --headless` in a terminal that closes (tmux kill-session): its SIGHUP, and EIO on every
    later print. The run stops with its checkpoint, one `done` line, interrupted, exit 129."""
    import pty

    leader, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tangstudio", "train", "--headless", *SMALL, "--steps", "100000",
         "--log-every", "1", "--run", "hup"],
        stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=env_for(home), start_new_session=True,
    )  # fmt: skip
    os.close(terminal)
    metrics = home / "runs" / "hup" / "metrics.jsonl"
    _drain(leader, lambda: metrics.is_file() and '"train"' in metrics.read_text(), 60)
    os.close(leader)  # the terminal is gone: the child's next write fails with EIO
    time.sleep(0.5)
    proc.send_signal(signal.SIGHUP)
    # Stopped by the EIO already, the process may be past its handlers when the SIGHUP lands: a
    # shell reads either as 129. The run's record below is what must not differ.
    assert proc.wait(timeout=60) in (129, -signal.SIGHUP)
    done = [e for e in map(json.loads, metrics.read_text().splitlines()) if e["event"] == "done"]
    assert [d["status"] for d in done] == ["interrupted"], done
    meta = json.loads((home / "runs" / "hup" / "checkpoints" / "last" / "meta.json").read_text())
    assert meta["step"] == done[0]["step"]
    listed = json.loads(cli("runs", "list", "--json", home=home).stdout)
    assert listed[0]["status"] == "interrupted"


def test_a_terminal_gone_without_its_sighup_stops_the_run_at_the_next_redraw(tiny_corpus, home):
    """A job the shell never sends SIGHUP (`&` then `disown`, `setsid`) finds its terminal gone only
    by its output. A hung-up terminal is no terminal to Rich (isatty fails), so the bar silently
    stopped drawing, nothing wrote, and the run trained on blind until its next eval line (here:
    never). The bar, drawn from the training thread, now takes that as the EIO it is and the run
    stops as SIGHUP would."""
    import pty

    leader, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tangstudio", "train", "--headless", *SMALL, "--steps", "100000",
         "--eval-every", "100000", "--log-every", "1", "--run", "gone"],
        stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=env_for(home), start_new_session=True,
    )  # fmt: skip
    os.close(terminal)
    metrics = home / "runs" / "gone" / "metrics.jsonl"
    _drain(leader, lambda: metrics.is_file() and '"train"' in metrics.read_text(), 60)
    os.close(leader)  # no SIGHUP follows
    try:
        assert proc.wait(timeout=30) == 129
    finally:
        proc.kill()
    done = [e for e in map(json.loads, metrics.read_text().splitlines()) if e["event"] == "done"]
    assert [d["status"] for d in done] == ["interrupted"], done


def test_a_pipe_whose_reader_left_stops_the_run_with_a_checkpoint(tiny_corpus, home):
    """`train --headless --json | head -1`: EPIPE is a stop as SIGPIPE (exit 141), never a failure."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tangstudio", "train", "--headless", *SMALL, "--steps", "100000",
         "--log-every", "1", "--json", "--run", "pipe"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for(home),
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline()  # the first train line
    proc.stdout.close()  # the reader leaves
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 141, err
    assert b"resume with:" in err and b"Traceback" not in err
    metrics = home / "runs" / "pipe" / "metrics.jsonl"
    done = [e for e in map(json.loads, metrics.read_text().splitlines()) if e["event"] == "done"]
    assert [d["status"] for d in done] == ["interrupted"], done


def test_the_plain_log_says_the_warm_up_the_last_train_loss_and_a_spent_budget(tiny_corpus, home):
    """Without a terminal: a shortened warm-up is said at the start (runs show gives both figures),
    the last train loss shows even when the 10 s limit held every train line back, and a resume whose
    budget is already spent says so instead of only "finished"."""
    result = cli("train", "--headless", *SMALL, "--steps", "12", "--log-every", "5", "--run", "w", home=home)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(
        line.endswith("warm-up: 1 step, not 200: it takes at most a tenth of the 12-step budget")
        for line in lines
    )
    assert any(" step 12 epoch " in line and " loss " in line for line in lines), result.stdout
    # the script the corpus is read in: a traditional corpus trained without --script became simplified
    assert any(f"params · {tiny_corpus} in simplified · cpu" in line for line in lines), result.stdout
    assert (
        "200 (1 in effect: at most a tenth of the step budget)" in cli("runs", "show", "w", home=home).stdout
    )
    config = home / "runs" / "w" / "config.toml"
    before = config.read_bytes()
    files = {
        p: p.read_bytes() for p in (home / "runs" / "w").rglob("*") if p.is_file() and p.name != "run.lock"
    }
    again = cli("train", "--headless", "--run", "w", "--resume", "--steps", "6", home=home)
    # A budget of its own already passed is a mistake, refused before the run is touched: it recorded
    # steps = 6 for a 12-step run (a review), then evaluated and called an interrupted run finished.
    assert again.returncode == 2, again.stdout
    assert again.stderr.strip() == (
        "error: run w is at step 12: --steps 6 is already spent; give a "
        "larger --steps (the run's new total), or --resume alone to finish it on its own budget"
    )
    assert config.read_bytes() == before
    assert {p: p.read_bytes() for p in files} == files
    alone = cli("train", "--headless", "--run", "w", "--resume", home=home)
    assert alone.returncode == 0, alone.stderr
    assert "run w is at step 12: its budget of 12 steps is already spent" in alone.stdout, alone.stdout
    assert "warm-up" not in alone.stdout and "finished at step 12" in alone.stdout


def test_the_progress_bar_stops_before_the_final_line():
    """The bar was redrawn under "interrupted at step 201 …", with values from before the stop."""
    import io

    from rich.console import Console

    from tangstudio.cli.train_cmd import RichView

    out = io.StringIO()
    view = RichView(console=Console(file=out, force_terminal=True, width=160))
    config = {"arch": "lstm", "warmup": 200}
    start = {"event": "start", "run": "t2", "path": "/runs/t2", "params": 1000, "device": "cpu", "world": 1,
             "total_steps": 1000, "minutes": None, "ppl_kind": "causal", "config": config, "warmup_steps": 100}  # fmt: skip
    progress = {
        "event": "progress",
        "total_steps": 1000,
        "eta_s": 10.0,
        "train_loss": 6.4,
        "chars_per_s": 900.0,
    }
    with view:
        view.on_event(start)
        view.on_event({**progress, "step": 200, "fraction": 0.2, "val_ppl": 598.1})
        view.on_event(
            {"event": "eval", "step": 200, "val_loss": 6.27, "val_bits_per_char": 9.0, "val_ppl": 528.88}
        )
        view.on_event({**progress, "step": 201, "fraction": 0.201, "val_ppl": 528.88})
        view.on_event(
            {"event": "done", "status": "interrupted", "step": 201, "elapsed_s": 6.0, "val_ppl": 528.88}
        )
    text = out.getvalue()
    before, after = text.split(
        "interrupted at step 201 after 6 s of training"
    )  # not the bar's clock (a review)
    assert "ETA" not in after and "━" not in after, after  # nothing drawn after the final line
    assert "step 201/1000" in before.rsplit("ETA", 2)[-2] and "val ppl 528.9" in before.rsplit("ETA", 2)[-2]


def test_a_hand_edited_config_that_no_run_could_hold_is_named_at_resume(tiny_corpus, home):
    """An engineer's review: `layers = -1` in config.toml gave "layers must be between 1 and 16", and
    a stray key "unknown training option(s)", neither naming the file that was wrong."""
    assert (
        cli(
            "train", "--headless", "--arch", "gru", *SMALL, "--steps", "2", "--run", "e", home=home
        ).returncode
        == 0
    )
    config = home / "runs" / "e" / "config.toml"
    kept = config.read_text(encoding="utf-8")
    for edit, said in (
        (kept.replace("layers = 1", "layers = -1"), "--layers must be positive (got -1)"),
        (kept.replace("layers = 1", "layers = 1\nbogus_key = 3"), "unknown training option(s): bogus_key"),
    ):
        assert edit != kept
        config.write_text(edit, encoding="utf-8")
        out = cli("train", "--headless", "--run", "e", "--resume", home=home)
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert f"run 'e' cannot be resumed: its config.toml is damaged ({said})" in out.stderr, out.stderr
        assert config.read_text(encoding="utf-8") == edit  # nothing rewritten
        listed = json.loads(cli("runs", "list", "--json", home=home).stdout)
        row = next(r for r in listed if r["name"] == "e")
        assert row["status"] == "damaged" and any(said in p for p in row["problems"]), row  # as it said
    # What an older version let a run record is read as it trained: a GRU's forget bias, `--forms ,`.
    assert "forget_bias = 0.0" in kept
    config.write_text(kept.replace("forget_bias = 0.0", "forget_bias = 2.0"), "utf-8")
    out = cli("train", "--headless", "--run", "e", "--resume", "--steps", "3", home=home)
    assert out.returncode == 0, out.stderr
    import dataclasses

    from tangstudio.engine.training.config import TrainConfig

    stored = {**dataclasses.asdict(TrainConfig(run="e", arch="gru")), "forms": ",", "forget_bias": 2.0}
    merged = TrainConfig(run="e", resume=True).merged_for_resume(stored, set())
    assert merged.forms == "all" and merged.forget_bias == 0.0


def test_a_resume_never_writes_over_a_run_it_cannot_continue(tiny_corpus, home):
    """An engineer's review: with last/ deleted, `--resume` started the run over from step 0, cut
    its metrics back and replaced best/; a best/ of garbage was resumed over. Both are refused now,
    in one line, and nothing in the run changes."""
    import hashlib
    import shutil

    made = cli("train", "--headless", "--arch", "gru", *SMALL, "--steps", "4", "--eval-every", "2", "--run", "k", home=home)  # fmt: skip
    assert made.returncode == 0, made.stderr
    run = home / "runs" / "k"

    def state() -> tuple[str, str]:
        best = hashlib.sha256((run / "checkpoints" / "best" / "model.safetensors").read_bytes()).hexdigest()
        return best, (run / "metrics.jsonl").read_text(encoding="utf-8")

    before = state()
    weights = run / "checkpoints" / "last" / "model.safetensors"
    whole = weights.read_bytes()
    weights.write_bytes(whole[: len(whole) // 2])  # a truncated copy: best/ still whole, and said so
    out = cli("train", "--headless", "--run", "k", "--resume", "--steps", "8", home=home)
    assert out.returncode == 2 and out.stderr.startswith("error: run k is damaged ("), out.stderr
    assert "best/ (step " in out.stderr and ") is whole: train a new run with --init-from k" in out.stderr
    assert state() == before
    shutil.rmtree(run / "checkpoints" / "last")
    out = cli("train", "--headless", "--run", "k", "--resume", "--steps", "8", home=home)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert (
        "run k has no last/ checkpoint to resume from, though it saved checkpoints (best/ at step"
        in out.stderr
    )
    assert "--init-from k" in out.stderr and state() == before

    meta = run / "checkpoints" / "best" / "meta.json"
    meta.write_text("[]", encoding="utf-8")
    studio_way = cli("train", "--run", "k", "--resume", home=home)  # refused before a studio would open
    assert studio_way.returncode == 2 and "run k is damaged" in studio_way.stderr, studio_way.stderr
    out = cli("train", "--headless", "--run", "k", "--resume", "--steps", "8", home=home)
    assert out.returncode == 2 and out.stderr.startswith("error: run k is damaged ("), out.stderr
    assert "best/meta.json is damaged (not a JSON object)" in out.stderr and "runs show k" in out.stderr
    assert meta.read_text(encoding="utf-8") == "[]" and state()[1] == before[1]


def test_a_run_whose_checkpoints_are_all_gone_is_not_sent_to_init_from(tiny_corpus, home):
    """An engineer's review: with checkpoints/ deleted the refusal advised --init-from, which then
    failed ("has no checkpoint yet"): the advice is given only where best/ is there to start from."""
    import shutil

    made = cli("train", "--headless", "--arch", "gru", *SMALL, "--steps", "2", "--run", "g", home=home)
    assert made.returncode == 0, made.stderr
    shutil.rmtree(home / "runs" / "g" / "checkpoints")
    out = cli("train", "--headless", "--run", "g", "--resume", "--steps", "4", home=home)
    assert out.returncode == 2 and "train a new run" in out.stderr, out.stderr
    assert "--init-from" not in out.stderr


def test_a_run_killed_before_its_first_checkpoint_still_starts_over(tiny_corpus, home):
    """What the refusal above must not catch: nothing saved, so a resume begins at step 0."""
    made = cli("train", "--headless", "--arch", "gru", *SMALL, "--steps", "2", "--run", "z", home=home)
    assert made.returncode == 0, made.stderr
    import shutil

    run = home / "runs" / "z"
    shutil.rmtree(run / "checkpoints")
    (run / "metrics.jsonl").write_text(
        "".join(
            line + "\n"
            for line in (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
            if '"checkpoint"' not in line
        ),
        encoding="utf-8",
    )
    out = cli("train", "--headless", "--run", "z", "--resume", "--steps", "2", home=home)
    assert out.returncode == 0, out.stderr


def test_a_runs_last_standing_in_for_its_best_is_said(tiny_corpus, home):
    """An engineer's review: with best/ deleted, `generate --model RUN` loaded last/ without a word."""
    import shutil

    made = cli("train", "--headless", "--arch", "gru", *SMALL, "--steps", "3", "--run", "f", home=home)
    assert made.returncode == 0, made.stderr
    plain = cli("generate", "--model", "f", "-n", "1", "--form", "wujue", "--seed", "1", "--candidates", "1", home=home)  # fmt: skip
    assert plain.returncode == 0 and "has no best/" not in plain.stderr, plain.stderr
    shutil.rmtree(home / "runs" / "f" / "checkpoints" / "best")
    for command in (["generate", "--model", "f", "-n", "1", "--form", "wujue", "--seed", "1", "--candidates", "1"],
                    ["score", "白日依山尽，黄河入海流。", "--model", "f"]):  # fmt: skip
        out = cli(*command, home=home)
        assert out.returncode == 0, out.stderr
        assert (
            "note: f has no best/ checkpoint: using last/ (step 3), its latest weights, not its best"
            in out.stderr
        )
    made = cli("train", "--headless", "--arch", "gru", *SMALL, "--steps", "3", "--run", "g", home=home)
    assert made.returncode == 0, made.stderr
    last = home / "runs" / "g" / "checkpoints" / "last"
    asked = cli("score", "白日依山尽，黄河入海流。", "--model", str(last), home=home)  # last/ by its path
    assert asked.returncode == 0 and "no best/" not in asked.stderr, asked.stderr


def test_train_without_headless_refuses_a_taken_name_as_headless_does(tiny_corpus, home):
    """An engineer's review: `tangstudio train --run r1` (r1 taken) opened the studio, which renamed
    the run r1-2 and started it at once; headless refuses the name. Both refuse it now."""
    made = cli("train", "--headless", "--arch", "gru", *SMALL, "--steps", "2", "--run", "taken", home=home)
    assert made.returncode == 0, made.stderr
    out = cli("train", "--arch", "gru", *SMALL, "--steps", "2", "--run", "taken", home=home)
    assert out.returncode == 2 and "taken" in out.stderr and "terminal" not in out.stderr, out.stderr
    assert not (home / "runs" / "taken-2").exists()


def test_resuming_a_run_whose_budget_is_spent_evaluates_nothing_again(tiny_corpus, home):
    """An engineer's review: `train --resume` of a finished run appended another eval and two
    checkpoint lines (and rewrote best/) each time, for no new step."""
    made = cli("train", "--headless", "--arch", "gru", *SMALL, "--steps", "3", "--run", "spent", home=home)
    assert made.returncode == 0, made.stderr
    metrics = home / "runs" / "spent" / "metrics.jsonl"
    before = [json.loads(line) for line in metrics.read_text(encoding="utf-8").splitlines()]
    best = (home / "runs" / "spent" / "checkpoints" / "best" / "meta.json").read_text(encoding="utf-8")
    again = cli("train", "--headless", "--run", "spent", "--resume", home=home)
    assert again.returncode == 0, again.stderr
    after = [json.loads(line) for line in metrics.read_text(encoding="utf-8").splitlines()]
    added = [e["event"] for e in after[len(before) :]]
    assert "eval" not in added and "checkpoint" not in added, added
    assert (home / "runs" / "spent" / "checkpoints" / "best" / "meta.json").read_text(
        encoding="utf-8"
    ) == best


def test_a_copied_run_is_evaluated_under_its_own_name_and_quiet_json_is_refused(tiny_corpus, home):
    """An engineer's review: after `cp -a runs/r2 runs/c4`, `eval c4` said "r2 · lstm …"; and
    `train --json --quiet` was taken, --quiet silently ignored."""
    import shutil

    made = cli("train", "--headless", "--arch", "gru", *SMALL, "--steps", "2", "--run", "orig", home=home)
    assert made.returncode == 0, made.stderr
    shutil.copytree(home / "runs" / "orig", home / "runs" / "copy")
    data = json.loads(cli("eval", "copy", "--json", home=home).stdout)
    assert data["run"] == "copy", data["run"]
    both = cli("train", "--headless", "--json", "--quiet", "--steps", "1", "--run", "q", home=home)
    assert both.returncode == 2 and "--quiet and --json together" in both.stderr
    assert not (home / "runs" / "q").exists()


def test_eval_of_a_run_whose_corpus_is_gone_names_the_run(tiny_corpus, home):
    """An engineer's review: `eval RUN` said only "unknown corpus 'wj'"."""
    import shutil

    made = cli("train", "--headless", "--arch", "gru", *SMALL, "--steps", "2", "--run", "lost", home=home)
    assert made.returncode == 0, made.stderr
    shutil.rmtree(home / "corpora" / tiny_corpus)
    out = cli("eval", "lost", home=home)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert f"lost was trained on corpus {tiny_corpus!r}, which is not in this home" in out.stderr, out.stderr


def test_replacing_a_corpus_runs_were_trained_on_is_refused_unless_asked(tiny_corpus, tiny_corpus_file, home):
    """`corpus import --force` replaced a corpus under its runs and only then said so, wrongly ("their
    evaluations now read the new corpus": they could no longer be evaluated or resumed at all)."""
    made = cli("train", "--headless", "--arch", "gru", *SMALL, "--steps", "2", "--run", "user", home=home)
    assert made.returncode == 0, made.stderr
    stored = home / "corpora" / tiny_corpus
    before = {p.name: p.read_bytes() for p in stored.iterdir() if p.is_file()}
    refused = cli("corpus", "import", str(tiny_corpus_file), "--name", tiny_corpus, "--force", home=home)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert f"run user was trained on corpus {tiny_corpus!r}" in refused.stderr, refused.stderr
    assert "--orphan-runs" in refused.stderr
    assert {p.name: p.read_bytes() for p in stored.iterdir() if p.is_file()} == before
    for args, said in (
        (["--force", "--format", "xml"], "unknown format 'xml'"),  # the option first, as without runs
        (["--orphan-runs"], "--orphan-runs goes with --force"),
    ):
        out = cli("corpus", "import", str(tiny_corpus_file), "--name", tiny_corpus, *args, home=home)
        assert out.returncode == 2 and said in out.stderr, out.stderr
    again = cli(
        "corpus",
        "import",
        str(tiny_corpus_file),
        "--name",
        tiny_corpus,
        "--force",
        "--orphan-runs",
        home=home,
    )
    assert again.returncode == 0, again.stderr
    said = " ".join(again.stdout.split())
    assert (
        f"note: user was trained on the corpus this replaced; where the new {tiny_corpus}'s vocabulary"
        in said
    )
    fresh = cli("corpus", "import", str(tiny_corpus_file), "--name", "other", "--force", home=home)
    assert "note:" not in fresh.stdout


def test_a_checkpoint_that_does_not_fit_its_config_names_what_differs(tiny_corpus, home):
    """An engineer's review: config.toml edited by hand (hidden 32 → 64) gave "its checkpoint does
    not fit the configured model (Error(s) in loading state_dict for CausalCharLM:)", naming nothing."""
    made = cli("train", "--headless", "--arch", "gru", *SMALL, "--steps", "2", "--run", "e", home=home)
    assert made.returncode == 0, made.stderr
    config = home / "runs" / "e" / "config.toml"
    text = config.read_text(encoding="utf-8")
    hidden = next(line for line in text.splitlines() if line.startswith("hidden ="))
    size = int(hidden.split("=")[1])
    config.write_text(text.replace(hidden, f"hidden = {2 * size}"), encoding="utf-8")
    out = cli("train", "--headless", "--run", "e", "--resume", "--steps", "4", home=home)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert f"hidden {size} in the checkpoint, {2 * size} configured" in out.stderr, out.stderr
