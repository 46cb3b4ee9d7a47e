"""The fault-injection harness (imported by conftest.py and the tests): train in a forked child, kill it at a chosen moment, resume, compare.

A child is forked from the test process (which has imported torch once), so a killed run and its
resume cost a fraction of a second each instead of an interpreter start. Children run the real CLI
entry point (`tangstudio.cli.main`) with their output in a file, and the test hook
TANGSTUDIO_FAULT (engine/atomic.py) kills them with SIGKILL or fills their disk at one exact
write, fsync, rename, removal or training step.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def tiny_args(steps: int, eval_every: int, log_every: int) -> list[str]:
    """`train` options for a tiny run (embed 16, hidden 32, one layer): shared by the fault files."""
    return [
        *("--corpus", "tiny", "--embed", "16", "--hidden", "32", "--layers", "1"),
        *("--batch-size", "16", "--samples", "1", "--eval-poems", "20"),
        *("--steps", str(steps), "--eval-every", str(eval_every), "--log-every", str(log_every)),
    ]


# 16 steps with an evaluation (best + last) every 8.
ARGS = tiny_args(16, 8, 4)


@dataclass
class Outcome:
    code: int  # exit code; -9 when killed by SIGKILL
    output: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.output.splitlines() if line.strip()]

    @property
    def refused_in_one_line(self) -> bool:
        return (
            self.code == 2
            and len(self.lines) == 1
            and self.lines[0].startswith("error: ")
            and "Traceback" not in self.output
        )


def fork_call(fn: Callable[[], object], env: dict[str, str], out: Path) -> Outcome:
    """Run `fn` in a forked child with `env` added; its stdout+stderr go to `out`."""
    return finish(fork_start(fn, env, out), out)


def finish(pid: int, out: Path) -> Outcome:
    _, status = os.waitpid(pid, 0)
    return Outcome(os.waitstatus_to_exitcode(status), out.read_text(encoding="utf-8", errors="replace"))


def wait_stopped(pid: int) -> None:
    """Until the child stops itself (the `pause` fault), holding its lock and files."""
    _, status = os.waitpid(pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), status


def fork_start(fn: Callable[[], object], env: dict[str, str], out: Path) -> int:
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 99
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            # pytest's capture replaced sys.stdout/err with its own files: point them at fds 1 and 2
            sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
            os.environ.update(env)
            import torch

            torch.set_num_threads(1)  # as in the parent: the same arithmetic, and fork-safe
            result = fn()
            code = int(result) if isinstance(result, int) else 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 98
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return pid


def cli_main(*args: str) -> Callable[[], object]:
    def call() -> object:
        sys.argv = ["tangstudio", *args]
        from tangstudio.cli import main

        return main()

    return call


class Lab:
    """One home with the tiny corpus and an uninterrupted reference run to compare against."""

    def __init__(self, home: Path, logs: Path) -> None:
        self.home, self.logs = home, logs
        self.count = 0

    def cli(self, *args: str, fault: str | None = None, extra_env: dict | None = None) -> Outcome:
        pid, out = self.start(*args, fault=fault, extra_env=extra_env)
        return finish(pid, out)

    def start(self, *args: str, fault: str | None = None, extra_env: dict | None = None) -> tuple[int, Path]:
        """Fork a CLI call and return (pid, output file) without waiting for it."""
        self.count += 1
        env = {"TANGSTUDIO_HOME": str(self.home), "COLUMNS": "200", **(extra_env or {})}
        env["TANGSTUDIO_FAULT"] = fault or ""
        out = self.logs / f"{self.count}.txt"
        return fork_start(cli_main(*args), env, out), out

    def train(self, run: str, *more: str, fault: str | None = None) -> Outcome:
        return self.cli("train", "--headless", *ARGS, *more, "--run", run, fault=fault)

    def resume(self, run: str) -> Outcome:
        return self.cli("train", "--headless", "--run", run, "--resume")

    def weights(self, run: str, which: str = "last") -> dict:
        from safetensors.torch import load_file

        return load_file(str(self.home / "runs" / run / "checkpoints" / which / "model.safetensors"))

    def same_as(self, run: str, reference: str = "ref") -> bool:
        import torch

        a, b = self.weights(reference), self.weights(run)
        return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    def points(self, run: str) -> list[str]:
        """The fault points an uninterrupted run passes through, in order."""
        log = self.logs / f"points-{run}.txt"
        log.unlink(missing_ok=True)
        outcome = self.cli(
            "train",
            "--headless",
            *ARGS,
            "--run",
            run,
            fault="log:any:0",
            extra_env={"TANGSTUDIO_FAULT_LOG": str(log)},
        )
        assert outcome.code == 0, outcome.output
        return log.read_text().split()

    def leftovers(self, run: str) -> list[Path]:
        return [p for p in (self.home / "runs" / run).rglob("*") if p.name.endswith(".tmp")]
