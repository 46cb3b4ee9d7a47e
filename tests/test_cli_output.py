"""What the CLI prints for a person at an 80-column terminal and for a pipe (issue 16, items 1, 2, 4, 12).

Real subprocesses with COLUMNS=80 and stdout/stderr as pipes, as a script would run them; the
terminal-only progress display is checked on a Rich console forced to act as a terminal.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from studio_helpers import copy_run

from tangstudio.cli.render import working

POEM = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"


def tangstudio(*args: str, home: Path, columns: int = 80) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "COLUMNS": str(columns), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", *args], capture_output=True, text=True, env=env, timeout=120
    )


# Progress: on a terminal only -------------------------------------------------------------------


def test_working_shows_what_is_done_on_a_terminal_and_nothing_otherwise() -> None:
    from rich.console import Console

    terminal = io.StringIO()
    with working("loading the model", on=Console(file=terminal, force_terminal=True, width=80)) as shown:
        shown.update("evaluating 12 poems", 3, 10)
    assert "loading the model" in terminal.getvalue() or "evaluating 12 poems" in terminal.getvalue()

    pipe = io.StringIO()
    with working("loading the model", on=Console(file=pipe, force_terminal=False, width=80)) as shown:
        shown.update("evaluating 12 poems", 3, 10)
    assert pipe.getvalue() == ""


def test_a_wrong_run_name_is_refused_before_torch_loads(home: Path) -> None:
    """`eval nosuch` answers at once: the name is checked before torch or the corpus is imported."""
    script = (
        "import sys\n"
        "from tangstudio.cli import main\n"
        "sys.argv = ['tangstudio', '{cmd}', {args}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code, 'torch' in sys.modules)\n"
    )
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "TANGSTUDIO_MODELS": str(home / "no-models")}
    for cmd, args in (
        ("eval", "'nosuch'"),
        ("eval", "'default'"),
        ("generate", "'--model', 'nosuch'"),
        ("score", f"'{POEM}', '--model', 'nosuch'"),
    ):
        done = subprocess.run(
            [sys.executable, "-c", script.format(cmd=cmd, args=args)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.stdout.strip() == "exit 2 False", (cmd, args, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr


# eval ----------------------------------------------------------------------------------------------


def test_eval_title_is_one_line_and_a_pipe_gets_only_the_result(
    trained_runs: Path, tiny_corpus: str, home: Path
) -> None:
    copy_run(trained_runs, home, "tiny-gru")
    done = tangstudio("eval", "tiny-gru", home=home)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress display on a pipe
    lines = done.stdout.splitlines()
    assert lines[0].startswith("tiny-gru · gru · step 2 · val split")
    assert "perplexity" in done.stdout


# the headless training bar --------------------------------------------------------------------------


def test_training_bar_shows_the_val_perplexity_of_the_final_eval() -> None:
    from tangstudio.cli.train_cmd import RichView

    with RichView() as view:
        view.on_event({"event": "start", "run": "r", "ppl_kind": "causal", "total_steps": 81, "minutes": None,
                       "resumed_from": None, "config": {"arch": "gru"}, "params": 1, "device": "cpu",
                       "world": 1, "path": "/tmp/r"})  # fmt: skip
        view.on_event({"event": "progress", "step": 81, "total_steps": 81, "fraction": 1.0, "eta_s": 0,
                       "val_ppl": None, "train_loss": 6.5, "chars_per_s": 1000.0})  # fmt: skip
        info = view.progress.tasks[0].fields["info"]
        assert "val ppl –" in info
        view.on_event({"event": "eval", "step": 81, "val_loss": 6.59, "val_bits_per_char": 9.5,
                       "val_ppl": 724.96})  # fmt: skip
        info = view.progress.tasks[0].fields["info"]
        assert "val ppl 725.0" in info, info


# score / generate / stats at 80 columns ------------------------------------------------------------


def test_score_fits_80_columns_with_one_number_format(
    trained_runs: Path, tiny_corpus: str, home: Path
) -> None:
    from tangstudio.engine.corpus import load_corpus

    copy_run(trained_runs, home, "tiny-gru")
    poem = next(p.text for p in load_corpus(tiny_corpus, "simplified").select("regulated", "train"))
    done = tangstudio("score", poem, "--model", "tiny-gru", home=home)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if re.match(r"^\s*\d+\s", line)]
    assert len(rows) == len(poem) + 1  # every character and the end: one line each, nothing wrapped
    for row in rows:
        assert len(row) <= 80
        numbers = re.findall(r"\d+\.\d+", row)
        assert numbers and all(re.fullmatch(r"\d+\.\d{3}", n) for n in numbers[:1] + numbers[2:]), row
    assert "<eos>" not in done.stdout and "end" in rows[-1]
    assert "bits: its surprisal" in done.stdout


def test_generate_show_probs_explains_its_columns(trained_runs: Path, tiny_corpus: str, home: Path) -> None:
    copy_run(trained_runs, home, "tiny-gru")
    done = tangstudio("generate", "--model", "tiny-gru", "-n", "1", "--seed", "1", "--show-probs", home=home)
    assert done.returncode == 0, done.stderr
    assert "model p" in done.stdout
    legend = " ".join(done.stdout.split())
    assert "p: the probability the character was drawn with" in legend
    assert "model p: the model's own probability" in legend
    # a line a row, as without --show-probs (a review: the coloured poem ran a couplet a row)
    plain = tangstudio("generate", "--model", "tiny-gru", "-n", "1", "--seed", "1", home=home).stdout
    rows = [line.strip() for line in plain.splitlines() if line.strip()[-1:] in ("，", "。")]
    assert rows and all(row in done.stdout.splitlines() or f"  {row}" in done.stdout for row in rows)
    poem = done.stdout.split(" char ")[0].splitlines()  # the coloured poem, above the table
    assert not any(line.strip().count("，") + line.strip().count("。") > 1 for line in poem)


@pytest.mark.parametrize("corpus_args", [()], ids=["tang"])
def test_stats_names_cleaning_rules_in_words(home: Path, corpus_args: tuple) -> None:
    done = tangstudio("stats", *corpus_args, home=home)
    assert done.returncode == 0, done.stderr
    assert "notes removed" in done.stdout and "empty dropped" in done.stdout
    assert "notes_removed" not in done.stdout and "_" not in done.stdout.split("source:")[0]
    assert ">12 chars" in done.stdout and "coverage of top 5k" in done.stdout
    assert done.stderr == ""


def test_a_pipe_without_columns_keeps_each_line_whole(tmp_path: Path) -> None:
    """Piped, Rich assumed 80 columns and broke `tangstudio train ⏎--headless` and paths in two."""
    home = tmp_path / ("a-home-with-a-long-name-" * 3)
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"TANGSTUDIO_HOME": str(home)}
    out = subprocess.run(
        [sys.executable, "-m", "tangstudio", "runs", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("no runs yet"))
    assert len(line) > 80 and line.endswith("(start one with `tangstudio train --headless`)"), out.stdout


def test_stats_names_the_forms_in_the_corpus_script(home: Path) -> None:
    """`stats --script traditional` printed 五言绝句 beside traditional text (the studio's card too)."""
    shown = tangstudio("stats", "--script", "traditional", "--forms", "wujue", home=home).stdout
    assert "五言絕句 wujue" in shown and "七言律詩 qilv" in shown and "五言绝句" not in shown, shown


def test_json_output_is_strict_json_with_null_for_a_missing_number(capsys) -> None:
    """`compare --show --positions --json` printed a bare NaN, which a strict JSON parser refuses."""
    import math

    from tangstudio.cli.render import print_json

    print_json({"loss": [1.5, math.nan], "inf": math.inf, "deep": [{"x": -math.inf}], "n": 3})
    out = capsys.readouterr().out
    assert json.loads(out, parse_constant=lambda c: pytest.fail(f"bare {c}")) == {
        "loss": [1.5, None], "inf": None, "deep": [{"x": None}], "n": 3
    }  # fmt: skip


@pytest.mark.slow
def test_a_traditional_models_poems_carry_their_labels_in_traditional(tiny_corpus: str, home: Path) -> None:
    """A scholar's traditional model printed 题 and 纲 under a 七言絕句 header, and `--format md` 韵 and
    ## 七绝: every label in the poem's own script."""
    trained = tangstudio(
        "train", "--headless", "--quiet", "--corpus", tiny_corpus, "--script", "traditional", "--arch", "gru",
        "--embed", "8", "--hidden", "16", "--layers", "1", "--batch-size", "8", "--steps", "2",
        "--samples", "0", "--run", "trad", home=home,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    text = tangstudio(
        "generate", "--model", "trad", "--form", "wujue", "--seed", "1", "--title", "秋夜", home=home
    )
    assert text.returncode == 0, text.stderr
    assert "題 秋夜" in text.stdout and "五言絕句" in text.stdout and "题" not in text.stdout, text.stdout
    md = tangstudio(
        "generate", "--model", "trad", "--form", "wujue", "--seed", "1", "--format", "md", home=home
    )
    assert md.returncode == 0, md.stderr
    assert "韻 " in md.stdout and "韵 " not in md.stdout, md.stdout


def test_a_narrow_terminal_wraps_words_and_never_cuts_a_number(home: Path) -> None:
    """At COLUMNS=60 `score` printed every p as "0." and dropped the # column; `runs list` cut a
    perplexity to "75…" (a fuzzing review): numbers read as data, so the words give way."""
    shown = tangstudio("score", POEM, home=home, columns=60).stdout
    rows = [line.split() for line in shown.splitlines() if re.match(r"^\s*\d+\s", line)]
    assert [row[0] for row in rows] == [str(i) for i in range(1, len(rows) + 1)], shown
    assert all(re.fullmatch(r"\d\.\d{3}", row[2]) for row in rows), shown
    assert "…" not in shown and max(len(line) for line in shown.splitlines()) <= 60, shown


def test_a_terminal_that_cannot_show_chinese_gets_one_line(home: Path) -> None:
    """PYTHONIOENCODING=ascii printed a traceback from every command that writes verse (a fuzzing review)."""
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "PYTHONIOENCODING": "ascii", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "tangstudio", "check", POEM],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip() == (
        "error: cannot write Chinese text in the ascii encoding; use a UTF-8 locale or PYTHONIOENCODING=utf-8"
    )
