"""The real app in a real terminal: a newcomer's first session under tmux, asserted on the screen text."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from studio_helpers import copy_run

pytestmark = [
    pytest.mark.usefixtures("no_shipped_models"),
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Tmux:
    def __init__(self, socket: str) -> None:
        self.base = ["tmux", "-L", socket]

    def __call__(self, *args: str, check: bool = True) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True, check=check, timeout=20)
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "studio")

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        end = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < end:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.3)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")

    def alive(self) -> bool:
        return (
            subprocess.run([*self.base, "has-session", "-t", "studio"], capture_output=True).returncode == 0
        )


def wait_until(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.3)
    return predicate()


def test_a_newcomers_first_session(trained_runs: Path, tiny_corpus: str, home: Path, tmp_path: Path) -> None:
    """Launch, compose a 七绝 picking one candidate by its digit, save it, start a GRU run from the
    Model pane and see its first curve point, attach a run a headless trainer is writing, quit."""
    copy_run(trained_runs, home, "tiny-gru")  # a model to compose with
    server = tmp_path / "server-home"  # a headless run elsewhere, as if synced from a server
    shutil.copytree(home / "corpora", server / "corpora")
    remote = subprocess.Popen(
        [sys.executable, "-m", "tangstudio", "--home", str(server), "train", "--headless", "--quiet",
         "--arch", "gru", "--corpus", tiny_corpus, "--embed", "8", "--hidden", "16", "--layers", "1",
         "--batch-size", "8", "--steps", "100000", "--log-every", "1", "--samples", "0", "--run", "remote"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    tmux = Tmux(f"tangstudio-test-{os.getpid()}")
    env = (
        f"TANGSTUDIO_HOME={shlex.quote(str(home))} "
        f"TANGSTUDIO_MODELS={shlex.quote(os.environ['TANGSTUDIO_MODELS'])} OMP_NUM_THREADS=1"
    )
    # The shell stays after the studio so the lines it prints on quitting can be read.
    command = f"env {env} {shlex.quote(sys.executable)} -m tangstudio; echo EXIT=$?; sleep 120"
    tmux("new-session", "-d", "-s", "studio", "-x", "120", "-y", "40", command)
    key = lambda *keys: tmux("send-keys", "-t", "studio", *keys)  # noqa: E731
    try:
        tmux.wait_for("poems in source")  # no default model ships here: it opens on the corpus

        # Compose a 七绝 (the default form): sample one character, take candidate 2 instead, play on.
        key("F4")
        tmux.wait_for("run tiny-gru")
        tmux.wait_for("Space samples the first")  # the model has loaded
        key("Space")
        tmux.wait_for("position")
        key("2")
        key("p")
        tmux.wait_for("complete", timeout=90)
        key("w")
        assert wait_until(lambda: list((home / "poems").glob("*.json")), 20), tmux.screen()
        saved = json.loads(next((home / "poems").glob("*.json")).read_text("utf-8"))
        assert saved["settings"]["form"] == "qijue"

        # A refused setting leaves the poem as it was; a valid one starts a new poem and keeps the old
        # one for u (issue 25 item 1). Fifteen Tabs from the poem reach the prefix field (beside the plan).
        first_line = saved["text"].split("，")[0]
        assert first_line in tmux.screen()

        def field_holds(label: str, text: str, until: str = "") -> bool:
            """Whether the field after `label` on screen (up to `until`) starts with `text`, or, for
            '', shows nothing typed: blank, or its own hint ("e.g. 春夏" for 藏头)."""
            from tangstudio.studio.panes.compose.settings_bar import HINTS

            after = [ln.split(label, 1)[1] for ln in tmux.screen().splitlines() if label in ln]
            after = [a.split(until, 1)[0] if until else a for a in after]
            empty = lambda a: a.strip() in ("", HINTS["acrostic"], HINTS["prefix"], HINTS["plan"])  # noqa: E731
            return any(a.strip().startswith(text) if text else empty(a) for a in after)

        def into_field(tabs: int, holds: Callable[[str], bool], keys: tuple[str, ...], shows: str) -> None:
            """Esc to the poem, `tabs` Tabs to a field, then the keys, until the field shows them: on a
            loaded machine the Esc and the first Tab can be read together as Alt+Tab, one Tab short."""
            for _ in range(3):
                key("Escape")
                time.sleep(0.6)  # Esc then Tab at once would read as Alt+Tab
                for _ in range(tabs):
                    key("Tab")
                    time.sleep(0.4)  # at a person's pace
                time.sleep(0.6)
                key(*keys)
                if wait_until(lambda: holds(shows), 5):
                    return
            raise AssertionError(f"the field never showed {shows!r}:\n{tmux.screen()}")

        def into_prefix(keys: tuple[str, ...], shows: str) -> None:
            """Fifteen Tabs from the poem to the prefix field; keys a short Tab left in 纲 are taken out."""
            into_field(15, lambda text: field_holds("prefix", text, until="韵"), keys, shows)
            if not field_holds("纲", "", until="prefix"):
                into_field(14, lambda text: field_holds("纲", text, until="prefix"), ("End", "C-u"), "")

        into_prefix(("-l", "abc"), "abc")
        key("Enter")
        tmux.wait_for("Compose settings")  # the error's title (its line wraps in the toast)
        # The poem is still there, still finished (once the toast no longer covers it).
        assert wait_until(lambda: first_line in tmux.screen() and "complete" in tmux.screen(), 30), (
            tmux.screen()
        )
        into_prefix(("End", "C-u"), "")  # the field emptied (End, then delete to its start): a valid prefix
        key("Enter")
        tmux.wait_for("Space samples the first")  # a new, empty poem (the old one kept: a toast says so)

        def brought_back() -> bool:
            return first_line in tmux.screen() and "complete" in tmux.screen()

        for _ in range(3):  # on a loaded machine Esc then u can still be read as Alt+u, which does nothing
            key("Escape")
            time.sleep(0.6)  # Esc then u at once would read as Alt+u
            key("u")
            if wait_until(brought_back, 10):
                break
        assert brought_back(), tmux.screen()

        # A small GRU from the Model pane: sizes typed over the selected defaults, Esc, then t.
        key("F2")
        tmux.wait_for("the seed article's equations")
        key("Down")  # LSTM → GRU
        tmux.wait_for("GRU —")
        sizes = (("embed", "16"), ("hidden", "32"), ("layers", "1"))
        for _ in range(3):  # under CI load a key can land before Tab has moved the focus: start over
            for _field, value in sizes:  # a field selects its text when entered, so typing replaces it
                key("Tab")
                time.sleep(0.8)  # at a person's pace: a key typed before the field has the focus is lost
                key("-l", value)
                time.sleep(0.3)
            shown = lambda: all(re.search(rf"{f}\s+{v}\b", tmux.screen()) for f, v in sizes)  # noqa: E731
            if wait_until(shown, 5):
                break
            key("F1")  # back to a known place: F2 puts the focus on the architecture list (GRU kept)
            tmux.wait_for("poems in source")
            key("F2")
            tmux.wait_for("GRU —")
            time.sleep(0.5)
        assert all(re.search(rf"{f}\s+{v}\b", tmux.screen()) for f, v in sizes), tmux.screen()
        key("Escape")  # leaves the field, so t trains
        tmux.wait_for("t Train")  # the footer offers the pane's keys again
        key("t")
        tmux.wait_for("run  gru-1", timeout=30)
        tmux.wait_for("started run gru-1 (gru)", timeout=10)
        assert wait_until(lambda: re.search(r"train loss\s+\d", tmux.screen()), 120), tmux.screen()

        # Attach the headless run by its folder.
        assert wait_until(lambda: (server / "runs" / "remote" / "metrics.jsonl").is_file(), 120)
        key("a")
        tmux.wait_for("Follow a run folder")
        key("-l", str(server / "runs" / "remote"))
        key("Enter")
        tmux.wait_for("remote")
        assert wait_until(lambda: re.search(r"run  remote", tmux.screen()), 20), tmux.screen()

        key("C-q")
        screen = tmux.wait_for("EXIT=0", timeout=30)
        assert "stopping gru-1: writing a checkpoint" in screen
        # The run stops on its own with a checkpoint after the studio is gone.
        lock = home / "runs" / "gru-1" / "run.lock"
        assert wait_until(lambda: not lock.exists(), 120)
        assert (home / "runs" / "gru-1" / "checkpoints" / "last" / "meta.json").is_file()
    finally:
        tmux("kill-server", check=False)
        remote.send_signal(signal.SIGINT)
        remote.wait(60)


@pytest.mark.parametrize("how", ["window closed", "kill -HUP"])
def test_a_hang_up_stops_the_studios_run_with_a_checkpoint(tiny_corpus: str, home: Path, how: str) -> None:
    """A closed window or a dropped SSH link (SIGHUP) left a run the studio had started training out
    its whole budget, orphaned, since it runs in its own session (a reliability review). It now gets
    its stop as on Ctrl+Q: a checkpoint, then `done interrupted`. A `kill -HUP` with the terminal still
    open gives it back restored (no alternate screen, the cursor shown), with the Ctrl+Q notes."""
    import json

    tmux = Tmux(f"tangstudio-hup-{os.getpid()}")
    env = f"TANGSTUDIO_HOME={shlex.quote(str(home))} OMP_NUM_THREADS=1"
    train = (
        f"train --arch gru --corpus {tiny_corpus} --embed 8 --hidden 16 --layers 1 --batch-size 8 "
        "--steps 100000 --log-every 1 --samples 0 --run hup"
    )
    studio = f"env {env} {shlex.quote(sys.executable)} -m tangstudio {train}; echo EXIT=$?; sleep 60"
    tmux("new-session", "-d", "-s", "studio", "-x", "120", "-y", "40", studio)
    run = home / "runs" / "hup"
    try:
        assert wait_until(lambda: re.search(r"train loss\s+\d", tmux.screen()), 120), tmux.screen()
        if how == "window closed":
            tmux("kill-session", "-t", "studio")  # the terminal goes: SIGHUP to the studio
        else:
            os.kill(_studio_pid("--run hup"), signal.SIGHUP)
            screen = tmux.wait_for("EXIT=129", timeout=30)
            assert "stopping hup: writing a checkpoint" in screen, screen
            modes = tmux("display-message", "-p", "-t", "studio", "#{alternate_on} #{cursor_flag}").split()
            assert modes == ["0", "1"], modes  # the terminal given back whole
        assert wait_until(lambda: not (run / "run.lock").exists(), 60), "the run went on training"
    finally:
        tmux("kill-server", check=False)
    events = [json.loads(line) for line in (run / "metrics.jsonl").read_text("utf-8").splitlines()]
    assert events[-1]["event"] == "done" and events[-1]["status"] == "interrupted", events[-1]
    assert (run / "checkpoints" / "last" / "meta.json").is_file()


def _studio_pid(marker: str) -> int:
    """The studio's own process (not its shell, nor the `train --headless` child it started)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        line = " ".join(a.decode(errors="replace") for a in argv)
        if (
            marker in line
            and "-m tangstudio" in line
            and "--headless" not in line
            and argv[0].endswith(b"python")
        ):
            return int(proc.name)
    raise AssertionError("no studio process")
