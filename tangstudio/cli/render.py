"""Small Rich helpers shared by the CLI commands."""

from __future__ import annotations

import errno
import json
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console


class _Console(Console):
    """A Console that lets a broken pipe reach `main()`. Rich's own answer is a silent exit 1,
    which a shell reads as a failure; `main()` turns it into 141, as SIGPIPE would end a command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # In a pipe or a log Rich assumed 80 columns and broke lines there, a hint's command or a
        # path cut in two (`tangstudio train ⏎--headless`): a line stays whole unless a width was set.
        if "soft_wrap" not in kwargs and not self.is_terminal and not os.environ.get("COLUMNS"):
            self.soft_wrap = True

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


console = _Console()
# Progress goes to stderr, and only when stderr is a terminal: piped output stays the result alone.
err_console = _Console(stderr=True)


def print_table(table: Any, on: Console | None = None) -> None:
    """Print a table whole. In a terminal (or with COLUMNS set) Rich fits it to that width; in a
    pipe or a log it assumed 80 columns, and a wider table came out with its numbers cut (124,1…),
    so there it is printed at its natural width instead."""
    out = on or console
    # too narrow, a cell wraps: Rich's "…" cut 0.754 to "0…", which reads as data
    for column in table.columns:  # a column that may not wrap is cropped either way: it keeps its "…"
        if column.overflow == "ellipsis" and not column.no_wrap:
            column.overflow = "fold"
    if out.is_terminal or os.environ.get("COLUMNS"):
        out.print(table)
        return
    from rich.measure import Measurement

    natural = Measurement.get(out, out.options.update(width=10_000), table).maximum
    # print(width=) is capped at the console's width: a console of the table's width, same file.
    _Console(file=out.file, width=max(out.width, natural), no_color=out.no_color).print(table)


class Working:
    """What a command says it is doing: `update(what)` for a phase, `update(what, done, total)` for a bar."""

    def __init__(self, progress=None, task=None) -> None:
        self._progress = progress
        self._task = task

    def update(self, what: str, done: int = 0, total: int | None = None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=what, total=total, completed=done)


@contextmanager
def working(what: str, on: Console | None = None) -> Iterator[Working]:
    """A spinner (a bar once a total is known) saying what long work is doing, gone when it ends.

    Nothing at all when the console is not a terminal (a pipe, a log file), so scripts reading the
    output see only the result.
    """
    target = on or err_console
    if not target.is_terminal:
        yield Working()
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        console=target,
        transient=True,
    ) as progress:
        yield Working(progress, progress.add_task(what, total=None))


def print_json(data: object) -> None:
    """Strict JSON: a NaN or an infinity (no value there) is null, never the bare NaN json.dumps writes."""
    sys.stdout.write(json.dumps(_finite(data), ensure_ascii=False, indent=2, allow_nan=False) + "\n")


def print_json_line(data: object) -> None:
    """One event of a stream (`train --json`, `lab ... --json`) as strict JSON on one line, flushed:
    a diverged run's perplexity printed `Infinity`, which JSON.parse and jq refuse (an engineer's review)."""
    sys.stdout.write(json.dumps(_finite(data), ensure_ascii=False, allow_nan=False) + "\n")
    sys.stdout.flush()


def _finite(data: object) -> object:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data


def prob_style(p: float) -> str:
    """The colour of a character by the model's probability for it (generate --show-probs, score)."""
    if p >= 0.5:
        return "bold green"
    if p >= 0.2:
        return "green"
    if p >= 0.05:
        return "yellow"
    if p >= 0.01:
        return "dark_orange"
    return "red"


def resolve_model_said(ref: str) -> None:
    """Refuse a wrong model name before torch loads, and say on stderr when a run's last/ stands in
    for the best/ it lacks (engine.compose.refs.fallback_note)."""
    from tangstudio.engine.compose.refs import fallback_note, resolve_model

    note = fallback_note(ref, resolve_model(ref))
    if note:
        err_console.print(note, style="yellow", highlight=False)
