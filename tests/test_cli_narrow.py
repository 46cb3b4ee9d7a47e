"""The CLI at 80 columns (issue 25, item 14): nothing cut to "…", no header wrapped mid-phrase.

- `generate --help` read "藏头诗: each character opens … line": Rich measured a wrapped line's trailing
  space in characters, not cells, so a help line holding Chinese lost its last word (cli/richfix.py).
- `runs list` cut "interrupt…" and "tang/reg…": the columns now keep their width and a long name folds.
- `generate`'s header wrapped "longest span in / corpus:": the span has a line of its own.

Real subprocesses with COLUMNS=80, as a person at a narrow terminal runs them.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from rich.cells import cell_len
from studio_helpers import copy_run

COMMANDS = [
    ("generate",), ("check",), ("score",), ("train",), ("eval",), ("inspect",), ("compare",), ("stats",),
    ("runs", "list"), ("lab", "digits", "train"),
]  # fmt: skip


def tangstudio(*args: str, home: Path, columns: int = 80) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "COLUMNS": str(columns), "OMP_NUM_THREADS": "1"}
    env.pop("NO_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", *args], capture_output=True, text=True, env=env, timeout=120
    )


def _fits(text: str) -> None:
    for line in text.splitlines():
        assert cell_len(line) <= 80, line


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_cuts_no_word_at_80_columns(command: tuple[str, ...], home: Path) -> None:
    done = tangstudio(*command, "--help", home=home)
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout, done.stdout
    _fits(done.stdout)


@pytest.mark.parametrize("command", [("generate",), ("train",), ("lab", "memory", "run")], ids=" ".join)
def test_help_names_every_option_whole_at_50_columns(command: tuple[str, ...], home: Path) -> None:
    """A review: at 50 columns Typer's option table cut --acrostic to "--acrost…" and --no-planner
    to "--no-pl…"; below 60 a command's help is Click's plain list."""
    from typer.main import get_command

    from tangstudio.cli.app import app

    click_command = get_command(app)
    for name in command:
        click_command = click_command.commands[name]  # type: ignore[attr-defined]
    names = [o for p in click_command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")]
    for columns in (50, 32):  # the usage line and the names wrap too (a review measured 43 at 40)
        done = tangstudio(*command, "--help", home=home, columns=columns)
        assert done.returncode == 0, done.stderr
        shown = set(done.stdout.replace(",", " ").replace("/", " ").split())
        assert len(names) > 3 and [n for n in names if n not in shown] == [], done.stdout
        assert all(cell_len(line) <= columns for line in done.stdout.splitlines()), done.stdout


def test_generate_help_keeps_the_acrostic_sentence_whole(home: Path) -> None:
    done = tangstudio("generate", "--help", home=home)
    words = " ".join(done.stdout.replace("│", " ").split())
    assert "each character opens a line, in order" in words


def test_runs_list_keeps_status_and_corpus_whole_at_80_columns(home: Path) -> None:
    from tangstudio.engine.runs.config import write_config
    from tangstudio.engine.training.config import TrainConfig

    for name, status in (("lstm-20261204-231530-long-name", "interrupted"), ("gru-large", "finished")):
        folder = home / "runs" / name
        folder.mkdir(parents=True)
        write_config(folder / "config.toml", TrainConfig(arch="lstm", run=name, steps=1500).to_dict())
        events = [
            {"event": "eval", "step": 1500, "val_loss": 5.7, "val_ppl": 312.44, "time": 1},
            {"event": "done", "step": 1500, "status": status, "time": 2},
        ]
        (folder / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    done = tangstudio("runs", "list", home=home)
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout
    assert "interrupted" in done.stdout and "tang/regulated" in done.stdout and "finished" in done.stdout
    # The first line names the runs folder whole (soft-wrapped, so it copies as one path): its width
    # is the test's temporary folder's (longer under pytest-xdist), not the table's.
    where, table = done.stdout.split("\n", 1)
    assert where == f"runs in {home / 'runs'}"
    _fits(table)
    lines = done.stdout.splitlines()  # the long name folds onto the next line, whole
    at = next(i for i, line in enumerate(lines) if line.startswith("lstm-2026"))
    assert (lines[at].split()[0] + lines[at + 1].split()[0]) == "lstm-20261204-231530-long-name"


def test_runs_list_never_loses_a_name_at_80_columns_and_a_pipe_keeps_it_whole(
    home: Path, monkeypatch
) -> None:
    """A review: with a steps cell like `440 (438 saved)` and a poet in the corpus cell, Rich shrank
    the name column to nothing at 80 columns, and in a pipe a name folded (`runs list | grep` missed it)."""
    from rich.console import Console

    from tangstudio.cli.render import print_table
    from tangstudio.cli.runs_cmd import _runs_table
    from tangstudio.engine.runs.rundir import RunSummary

    names = ("poet-bai-small-lstm-run", "wujue-rnn-tiny")
    runs = [
        RunSummary(name, home / name, "lstm", 5_530_666, 44_000, 5.7, 312.44, "causal", "interrupted",
                   "tang", "regulated", author="白居易", saved_step=43_800)
        for name in names
    ]  # fmt: skip
    terminal = Console(width=80, record=True)
    terminal.print(_runs_table("poem models", runs, lab=False, width=80))
    shown = terminal.export_text()
    assert "…" not in shown and "43,800 saved" in shown and "白居易" in shown, shown
    _fits(shown)
    firsts = "".join(line.split()[0] for line in shown.splitlines()[3:] if line.strip() and line[0] != " ")
    assert all(name in firsts for name in names), shown
    monkeypatch.delenv("COLUMNS", raising=False)  # a pipe with no width set: the table's natural width
    pipe = Console(file=io.StringIO(), width=80, force_terminal=False)
    print_table(_runs_table("poem models", runs, lab=False, width=None), on=pipe)
    assert any(line.startswith("poet-bai-small-lstm-run ") for line in pipe.file.getvalue().splitlines())


def test_generate_header_is_one_line_at_80_columns(trained_runs: Path, tiny_corpus: str, home: Path) -> None:
    copy_run(trained_runs, home, "tiny-gru")
    done = tangstudio(
        "generate", "--model", "tiny-gru", "-n", "2", "--seed", "1", "--form", "qilv", home=home
    )
    assert done.returncode == 0, done.stderr
    _fits(done.stdout)
    heads = [line for line in done.stdout.splitlines() if line.startswith("#")]
    assert len(heads) == 2 and all("strict" in h for h in heads)
    spans = [line for line in done.stdout.splitlines() if "longest span" in line]
    assert len(spans) == 2 and all(
        line.strip().startswith("longest span also in the corpus:") for line in spans
    )


@pytest.mark.parametrize("command", [("eval",), ("inspect",), ("runs", "show")], ids=" ".join)
def test_help_paragraphs_are_wrapped_to_the_terminal_not_to_the_source(
    command: tuple[str, ...], home: Path
) -> None:
    """Typer kept the docstring's own line breaks after the first paragraph: "compare this with older"
    then "models and the 4-gram" on the next line. Every line of a paragraph but its last is now full."""
    done = tangstudio(*command, "--help", home=home)
    assert done.returncode == 0, done.stderr
    description = done.stdout.split("╭")[0].splitlines()[3:]  # after the usage line
    paragraphs: list[list[str]] = [[]]
    for line in description:
        if line.strip():
            paragraphs[-1].append(line.rstrip())
        elif paragraphs[-1]:
            paragraphs.append([])
    for paragraph in paragraphs:
        for line, after in pairwise(paragraph):
            first_word = after.split()[0]
            # the next word would not have fitted (the text is drawn one cell in from each edge)
            assert cell_len(line) + 1 + cell_len(first_word) > 79, (line, after)


def test_a_table_in_a_pipe_is_printed_whole_not_cut_to_80_columns(monkeypatch):
    """`compare … | tail` printed 124,1… and fini…: in a pipe with no COLUMNS, a table keeps its
    natural width; with COLUMNS (a narrow terminal) it still fits it."""
    import io

    from rich.console import Console
    from rich.table import Table

    from tangstudio.cli.render import print_table

    table = Table()
    for name in ("arch", "params", "val ppl", "status", "seconds", "note"):
        table.add_column(name)
    table.add_row("bilstm", "124,176", "(3611.20)", "finished", "12,345.6", "pseudo-perplexity of the BiLSTM")
    monkeypatch.delenv("COLUMNS", raising=False)
    piped = Console(file=io.StringIO(), width=40)
    print_table(table, on=piped)
    text = piped.file.getvalue()
    assert "124,176" in text and "(3611.20)" in text and "finished" in text and "…" not in text
    monkeypatch.setenv("COLUMNS", "40")
    narrow = Console(file=io.StringIO(), width=40)
    print_table(table, on=narrow)
    assert all(cell_len(line) <= 40 for line in narrow.file.getvalue().splitlines())
