"""The real app in a real terminal: launch under tmux, switch panes, compose, quit; assert on the screen text."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
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


def test_launch_switch_compose_quit(trained_runs: Path, home: Path, tmp_path: Path) -> None:
    copy_run(trained_runs, home, "tiny-gru")
    tmux = Tmux(f"tangstudio-test-{os.getpid()}")
    env = f"TANGSTUDIO_HOME={shlex.quote(str(home))} TANGSTUDIO_MODELS={shlex.quote(os.environ['TANGSTUDIO_MODELS'])}"
    command = f"env {env} {shlex.quote(sys.executable)} -m tangstudio"
    tmux("new-session", "-d", "-s", "studio", "-x", "120", "-y", "40", command)
    try:
        tmux.wait_for("Compose")  # the tabs are painted
        tmux.wait_for("poems in source")  # no default model ships here: it opens on the corpus
        tmux("send-keys", "-t", "studio", "F3")
        tmux.wait_for("Space shows/hides")
        assert "tiny-gru" in tmux.screen()
        tmux("send-keys", "-t", "studio", "F4")
        tmux.wait_for("run tiny-gru")
        tmux.wait_for("Next char")  # the footer shows the compose keys
        time.sleep(1.0)  # the model loads in a worker
        for _ in range(3):
            tmux("send-keys", "-t", "studio", "Space")
            time.sleep(0.3)
        screen = tmux.wait_for("position")
        assert "chose" in screen
        tmux("send-keys", "-t", "studio", "C-q")
        end = time.monotonic() + 20
        while tmux.alive() and time.monotonic() < end:
            time.sleep(0.2)
        assert not tmux.alive()
    finally:
        tmux("kill-server", check=False)
