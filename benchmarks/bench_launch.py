"""Launch to compose-ready, and Space to the screen updated, in a real terminal (tmux).

`tangstudio` is started in a detached tmux session at 160×48, and the screen is read with
`tmux capture-pane` every few milliseconds:

- first paint: the tab bar ("Compose") is on the screen;
- compose-ready: the Compose pane says "Space samples the first character." — the model is
  loaded and a Space would write a character (the novelty index may still be loading: it is first
  needed at the end of the first line);
- warm: the corpus cache already exists in the home (built beforehand, as a first launch leaves
  it); cold: an empty home, so the launch also builds the corpus cache (in a background child);
- Space → screen updated: a Space is sent and the screen polled until it changes, for several
  characters in a row (idle machine), against the same round trip through a plain `cat` in tmux
  (tmux's own latency and the polling's resolution, the floor of this measurement); and again
  while a headless training run (a small GRU on one torch thread) trains in the same home.

Baselines in the same run: `python -c "import torch, textual.app"` (the bare imports the studio
needs; targets: compose-ready ≤ that + 1.0 s, stretch ≤ 1.5 s absolute) and first paint.
Skipped (no rows) when tmux is not installed.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Row

SOCKET = f"ts-bench-{os.getpid()}"
SIZE = ("160", "48")
READY = "Space samples the first character"
PAINTED = "Compose"
POLL_S = 0.005
TIMEOUT_S = 60.0


def _tmux(*args: str) -> str:
    done = subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True)
    return done.stdout


def _screen() -> str:
    return _tmux("capture-pane", "-p", "-t", "bench")


def _studio_command(home: str) -> str:
    script = Path(sys.executable).with_name("tangstudio")
    exe = str(script) if script.exists() else f"{sys.executable} -m tangstudio"
    return f"env TANGSTUDIO_HOME={home} TERM=xterm-256color {exe}"


def _start(command: str) -> float:
    start = time.perf_counter()
    _tmux("new-session", "-d", "-s", "bench", "-x", SIZE[0], "-y", SIZE[1], command)
    return start


def _stop() -> None:
    _tmux("kill-server")
    for _ in range(200):  # a new server started while this one shuts down would die with it
        if subprocess.run(["tmux", "-L", SOCKET, "has-session"], capture_output=True).returncode:
            break
        time.sleep(0.01)
    time.sleep(0.2)


def _wait_for(text: str, start: float) -> float:
    while time.perf_counter() - start < TIMEOUT_S:
        if text in _screen():
            return time.perf_counter() - start
        time.sleep(POLL_S)
    raise RuntimeError(f"{text!r} did not appear within {TIMEOUT_S:.0f} s:\n{_screen()}")


def launch(home: str) -> tuple[float, float]:
    """(first paint, compose-ready) seconds for one launch of the studio with this home."""
    start = _start(_studio_command(home))
    try:
        painted = _wait_for(PAINTED, start)
        ready = _wait_for(READY, start)
    finally:
        _stop()
    return painted, ready


def _changes_after(keys: str, before: str) -> float:
    start = time.perf_counter()
    _tmux("send-keys", "-t", "bench", keys)
    while time.perf_counter() - start < 10:
        if _screen() != before:
            return time.perf_counter() - start
        time.sleep(POLL_S / 5)
    raise RuntimeError("the screen did not change after a key")


def space_latency(home: str, presses: int) -> float:
    """Median seconds from a Space to the studio's screen changing."""
    start = _start(_studio_command(home))
    try:
        _wait_for(READY, start)
        time.sleep(1.0)  # let the background index and first-frame work settle: idle
        times = []
        for _ in range(presses):
            before = _screen()
            times.append(_changes_after("Space", before))
            time.sleep(0.3)  # the screen settles (one Space may redraw twice)
    finally:
        _stop()
    return statistics.median(times)


def training_run(home: str) -> subprocess.Popen:
    """A headless training run in the same home (a small GRU, one torch thread): what the studio's
    train pane or an SSH session leaves running while a person composes. Returned once it trains."""
    argv = ["train", "--headless", "--arch", "gru", "--forms", "wujue", "--embed", "64", "--hidden", "128"]
    argv += ["--layers", "1", "--minutes", "10", "--log-every", "5", "--run", "bench-background", "--quiet"]
    env = {**os.environ, "TANGSTUDIO_HOME": home, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tangstudio", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    metrics = Path(home) / "runs" / "bench-background" / "metrics.jsonl"
    deadline = time.monotonic() + TIMEOUT_S
    while not (metrics.exists() and metrics.stat().st_size > 0):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the background training run did not start")
        time.sleep(0.2)
    return proc


def stop_training(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)  # what Ctrl+C does: it saves and stops
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def echo_latency(presses: int) -> float:
    """The same round trip through `cat` in tmux: the measurement's floor."""
    _start("cat")
    try:
        time.sleep(0.3)
        times = []
        for _ in range(presses):
            times.append(_changes_after("x", _screen()))
            time.sleep(0.05)
    finally:
        _stop()
    return statistics.median(times)


def warm_cache(home: str) -> None:
    """Build the corpus cache the default model's copy check reads, as a first launch leaves it.

    Not by a launch: one killed at compose-ready would kill its background build with it.
    """
    code = "from tangstudio.engine.corpus import corpus_arrays; corpus_arrays('tang', 'simplified')"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "TANGSTUDIO_HOME": home})


def bare_imports(repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch, textual.app"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def rows(quick: bool = False) -> list[Row]:
    if shutil.which("tmux") is None:
        raise RuntimeError("tmux is not installed")
    repeat = 2 if quick else 3
    warm_home = tempfile.mkdtemp(prefix="ts-bench-home-")
    cold_homes: list[str] = []
    try:
        warm_cache(warm_home)  # every launch with this home is then a warm one
        launch(warm_home)  # and the first launch's own start-up costs (page cache) are paid
        imports = bare_imports(repeat)
        warm = [launch(warm_home) for _ in range(repeat)]
        cold = []
        for _ in range(max(1, repeat - 1)):
            home = tempfile.mkdtemp(prefix="ts-bench-cold-")
            cold_homes.append(home)
            cold.append(launch(home)[1])
        presses = 6 if quick else 12
        space = space_latency(warm_home, presses)
        trainer = training_run(warm_home)
        try:
            space_training = space_latency(warm_home, presses)
        finally:
            stop_training(trainer)
        echo = echo_latency(presses)
    finally:
        for home in [warm_home, *cold_homes]:
            shutil.rmtree(home, ignore_errors=True)
    paint = statistics.median(p for p, _ in warm)
    ready = statistics.median(r for _, r in warm)
    return [
        Row(
            "launch → compose-ready, tmux 160×48, warm cache (s)",
            ready,
            "s",
            "python -c 'import torch, textual.app'",
            imports,
            "≤ baseline + 1.0 s; stretch ≤ 1.5 s",
        ),
        Row(
            "launch → compose-ready, warm cache, against first paint (s)",
            ready,
            "s",
            "launch → first paint (same launches)",
            paint,
            "",
        ),
        Row(
            "first launch, cold cache (empty home) → compose-ready (s)",
            statistics.median(cold),
            "s",
            "warm-cache launch",
            ready,
            "≤ 4 s",
        ),
        Row(
            "Space → screen updated, studio idle, tmux (ms, median)",
            1000 * space,
            "ms",
            "a key echoed by `cat` in tmux",
            1000 * echo,
            "≤ 50 ms",
        ),
        Row(
            "Space → screen updated while a training run trains (1 thread), tmux (ms, median)",
            1000 * space_training,
            "ms",
            "the same, studio idle",
            1000 * space,
            "≤ 100 ms",
        ),
    ]


if __name__ == "__main__":
    from benchmarks.common import print_rows

    print_rows(rows, __doc__, digits=3)
