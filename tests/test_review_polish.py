"""A first-time user review's polish items: what `compare`, `runs list`, `eval`, `generate` and the
studio say, checked the way a person meets them."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.text import Text
from studio_helpers import copy_run, errors, settle, sync, wait_for
from textual.widgets import Static


def tangstudio(*args: str, home: Path, columns: int = 200) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "COLUMNS": str(columns), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", *args], capture_output=True, text=True, env=env, timeout=180
    )


# 1. Training spans under a minute read in seconds ------------------------------------------------


def _arch(arch: str, train_s: float, target_s: float | None) -> dict:
    """One architecture of a saved study, as `compare` writes it."""
    return {
        "arch": arch,
        "run": f"short-{arch}",
        "path": f"/nowhere/short-{arch}",
        "params": 1000,
        "status": "finished",
        "steps": 20,
        "epochs": 0.1,
        "elapsed_s": train_s + 3,
        "train_s": train_s,
        "chars_seen": 12000,
        "chars_per_s": 300.0,
        "best_val_loss": 6.0,
        "best_val_ppl": 403.4,
        "ppl_kind": "causal",
        "curve": [],
        "target_step": None if target_s is None else 20,
        "target_train_s": target_s,
        "target_chars": None if target_s is None else 12000,
    }


def _save_study(home: Path, prefix: str) -> None:
    study = {
        "prefix": prefix,
        "archs": [_arch("rnn", 42.3, 30.0), _arch("gru", 150.0, None)],
        "target_loss": 6.1,
        "target_rule": "given with --target-loss",
        "config": {"seed": 0},
        "started": "2024-01-01T00:00:00",
    }
    folder = home / "studies"
    folder.mkdir(parents=True)
    (folder / f"{prefix}.json").write_text(json.dumps(study), encoding="utf-8")


def test_short_training_spans_read_in_seconds_long_ones_in_minutes() -> None:
    from tangstudio.engine.study.report import duration

    assert duration(0) == "0 s"
    assert duration(42.3) == "42 s"
    assert duration(59.4) == "59 s"
    assert duration(59.7) == "1.0 min"  # never "60 s"
    assert duration(150) == "2.5 min"


def test_compare_show_prints_a_short_study_in_seconds_not_zero_minutes(home: Path) -> None:
    _save_study(home, "short")
    done = tangstudio("compare", "--show", "short", "--markdown", home=home)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {
        cells[0]: cells for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines[2:])
    }
    time_col, target_col = header.index("train time"), header.index("to target")
    assert rows["rnn"][time_col] == "42 s"
    assert rows["rnn"][target_col].startswith("30 s ·")
    assert rows["gru"][time_col] == "2.5 min"
    table = tangstudio("compare", "--show", "short", home=home)
    assert table.returncode == 0, table.stderr
    assert "42 s" in table.stdout and "0.7 min" not in table.stdout


# 2. A long title is cut to what the model reads, and the person is told -------------------------

LONG_TITLE = "与袁补阙寻蔡拾遗会此公出行后蔡有五韵诗见赠以此篇答焉"  # 26 characters, a real Tang title


def test_generate_says_when_a_long_title_was_cut_and_is_silent_for_a_short_one(home: Path) -> None:
    from tangstudio.engine.corpus.titles import MAX_TITLE

    base = ("generate", "-n", "1", "--form", "wujue", "--seed", "1", "--title")
    done = tangstudio(*base, LONG_TITLE, home=home)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "cut" in line]  # a note: stderr, not the poems
    assert said == [f"title cut to its first {MAX_TITLE} characters (of 26): {LONG_TITLE[:MAX_TITLE]}"]
    short = tangstudio(*base, LONG_TITLE[:MAX_TITLE], home=home)  # exactly the limit: nothing cut
    assert short.returncode == 0, short.stderr
    assert "cut" not in short.stdout + short.stderr
    as_json = tangstudio(*base, LONG_TITLE, "--json", home=home)
    assert any("cut" in note for note in json.loads(as_json.stdout)["notes"])


def _long_title_for(vocab) -> str:
    """A title of 15 characters the model knows (a tiny corpus's model knows few of LONG_TITLE's)."""
    from tangstudio.engine.corpus.titles import cut_title
    from tangstudio.engine.hanzi import is_han

    known = [
        c for c in vocab.itos if len(c) == 1 and is_han(c) and c not in "一二三四五六七八九十百千两〇零其首"
    ]
    title = "".join(known[:15])
    assert cut_title(title) == (title[:12], 15)
    return title


@pytest.mark.usefixtures("no_shipped_models")
@sync
async def test_the_studio_notifies_once_when_a_long_title_is_cut(seeded_model_run: Path, home: Path) -> None:
    from textual.widgets import Input

    from tangstudio.studio.app import create_app
    from tangstudio.studio.panes.compose.pane import ComposePane

    shutil.copytree(seeded_model_run, home / "runs" / seeded_model_run.name)
    app = create_app(pane="compose", warm_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#compose-pane", ComposePane)
        assert await wait_for(pilot, lambda: pane.session is not None), errors(app)
        title = _long_title_for(pane.loaded.vocab)
        field = pane.query_one("#cp-title", Input)
        field.value = title
        field.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert pane.composer.poem_plan.title == title[:12], errors(app)
        told = [m for _s, _t, m in app.notices if "cut" in m]
        assert told == [f"title cut to its first 12 characters (of 15): {title[:12]}"]
        pane.action_new()  # the same title again: told once, not at every new poem
        await pilot.pause()
        assert len([m for _s, _t, m in app.notices if "cut" in m]) == 1


# 3. The Compose pane's placeholders read as hints, whole at 80 columns --------------------------


@pytest.mark.usefixtures("no_shipped_models")
@sync
async def test_compose_placeholders_read_as_hints_and_fit_at_80_columns() -> None:
    """A placeholder holding Chinese is marked as an example ("e.g."), so "送友人" is never taken for a
    title already typed; one in plain English describes the field. Each is shown whole at 80×24."""
    from rich.cells import cell_len
    from textual.widgets import Input

    from tangstudio.engine.hanzi import is_han
    from tangstudio.studio.app import create_app

    app = create_app(pane="compose", warm_torch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        fields = [f for f in app.query(Input) if (f.id or "").startswith("cp-") and f.placeholder]
        assert {f.id for f in fields} >= {"cp-acrostic", "cp-theme", "cp-title", "cp-primer", "cp-plan"}
        for field in fields:
            hint = str(field.placeholder)
            assert "e.g. " in hint or not any(is_han(c) for c in hint), f"{field.id}: {hint!r} looks typed"
            assert cell_len(hint) <= field.size.width, f"{field.id}: {hint!r} is cut at 80 columns"


# 4. `runs list` and `eval` name which perplexity each shows --------------------------------------


def _cells(line: str) -> list[str]:
    return [cell for cell in line.split("  ") if cell.strip()]


def test_runs_list_and_eval_say_which_perplexity_each_shows(
    trained_runs: Path, tiny_corpus: str, home: Path
) -> None:
    """The list's figure is training's best, untitled; eval headlines the model as trained. Each is
    named, and the list's figure is the one eval reports as untitled (the tiny val split is whole)."""
    copy_run(trained_runs, home, "tiny-gru")
    listed = tangstudio("runs", "list", home=home)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("name"))
    header = lines[at]
    assert "untitled" in lines[at - 1] and " ppl " in header  # a header of two lines: 8 cells, not 12
    row = next(line for line in lines if line.startswith("tiny-gru"))
    shown = row.split()[header.split().index("arch") + 3]  # name, arch, params, steps, then the figure
    note = " ".join(lines[lines.index(row) + 1 :])
    assert "untitled ppl:" in note and "no title or plan" in note and "as trained" in note
    listed_json = json.loads(tangstudio("runs", "list", "--json", home=home).stdout)[0]
    assert (
        "best_val_ppl" in listed_json and listed_json["ppl_condition"] == "untitled"
    )  # named as eval names its own

    scored = json.loads(tangstudio("eval", "tiny-gru", "--json", home=home).stdout)
    assert scored["ppl_condition"] == "planned"  # a new key; the old ones stay
    assert {"ppl", "ppl_untitled", "ppl_title", "ppl_plan"} <= set(scored)
    assert shown == f"{scored['ppl_untitled']:.2f}" != f"{scored['ppl']:.2f}"
    text = tangstudio("eval", "tiny-gru", home=home).stdout
    rows = {
        cells[0].strip(): cells[-1].strip() for cells in map(_cells, text.splitlines()) if len(cells) >= 2
    }
    # The untitled figure leads, loss and bits with it: the rows headed by the as-trained figure were
    # read with a plan taken from the poem itself, part of the answer (a student's review).
    ordered = [cells[0].strip() for cells in map(_cells, text.splitlines()) if len(cells) >= 2]
    measures = ordered[ordered.index("loss (nats/char), untitled") :]
    assert measures[:3] == ["loss (nats/char), untitled", "bits/char, untitled", "perplexity, untitled"]
    assert measures[-1] == "… as trained (title and plan)"
    assert rows["… as trained (title and plan)"] == f"{scored['ppl']:.2f}"
    assert rows["perplexity, untitled"] == shown
    assert float(rows["loss (nats/char), untitled"]) == pytest.approx(
        math.log(scored["ppl_untitled"]), abs=1e-4
    )
    # the JSON names the untitled loss and bits the table leads with (an auditor read 4.74 bits in
    # `bits_per_char`, the as-trained reading's, where the table said 5.88)
    assert rows["loss (nats/char), untitled"] == f"{scored['loss_untitled']:.4f}"
    assert rows["bits/char, untitled"] == f"{scored['bits_per_char_untitled']:.4f}"
    assert scored["bits_per_char_untitled"] == pytest.approx(math.log2(scored["ppl_untitled"]), rel=1e-6)
    assert "untitled: nothing given, the model's own measure" in " ".join(text.split())
    assert "as trained: its own title and plan" in " ".join(text.split())
    alone = " ".join(tangstudio("eval", "tiny-gru", "--as-trained", home=home).stdout.split())
    assert "as trained: each poem read after its own title and plan." in alone  # no untitled row:
    assert "untitled" not in alone  # its footer no longer explains one


# 5. generate: --candidates in plain words; a note when greedy decoding repeats one poem ----------


def _option_help(help_text: str, option: str) -> str:
    """One option's description in `--help`, its wrapped lines joined (the box drawn by Rich)."""
    rows = [line.strip("│ ").rstrip("│").strip() for line in help_text.splitlines()]
    start = next(i for i, row in enumerate(rows) if row.startswith(option))
    words = [rows[start].split("  ")[-1].strip()]
    for row in rows[start + 1 :]:
        if row.startswith("-"):
            break
        words.append(row.strip())
    return " ".join(words)


def test_candidates_help_says_k_drafts_the_critic_keeps_the_best_and_json_lists_all(home: Path) -> None:
    from tangstudio.engine.compose.settings import DEFAULT_CANDIDATES

    done = tangstudio("generate", "--help", home=home, columns=100)
    assert done.returncode == 0, done.stderr
    said = _option_help(done.stdout, "--candidates")
    assert said.startswith("Write K drafts of each poem and print only the one the critic rates best")
    assert "--json lists all K drafts" in said
    assert f"[default: {DEFAULT_CANDIDATES}" in said
    if DEFAULT_CANDIDATES == 1:  # "[default: 1 (1 with --beam …)]" read as if something changed
        assert "(1 with" not in said


def test_every_help_names_its_default_in_one_format() -> None:
    """A review: some options said "Default: lstm." and others "[default: lstm]" (Typer's); every
    option's help now ends in Typer's format, whether Typer or its text gives the value."""
    import click
    import typer.main

    from tangstudio.cli.app import app

    def commands(group: click.Command, path: str) -> list[tuple[str, click.Command]]:
        found = [(path, group)]
        for name, sub in getattr(group, "commands", {}).items():
            found += commands(sub, f"{path} {name}")
        return found

    for path, command in commands(typer.main.get_command(app), "tangstudio"):
        for param in command.params:
            said = getattr(param, "help", None) or ""
            assert "Default" not in said, (path, param.name, said)


def _poems(*args: str, home: Path) -> dict:
    done = tangstudio("generate", "--form", "wujue", "--seed", "1", "--json", *args, home=home)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


GREEDY = "greedy decoding (-t 0) writes the same poem each time"


def test_greedy_decoding_says_once_that_its_poems_are_the_same(home: Path) -> None:
    greedy = _poems("-t", "0", "-n", "3", home=home)
    assert len({p["text"] for p in greedy["poems"]}) == 1  # what happens: one poem three times
    assert sum(GREEDY in note for note in greedy["notes"]) == 1
    text = tangstudio("generate", "--form", "wujue", "--seed", "1", "-t", "0", "-n", "3", home=home)
    assert text.returncode == 0, text.stderr
    assert [line for line in text.stdout.splitlines() if "greedy" in line] == [
        f"{GREEDY}: raise -t to vary them"
    ]
    one = tangstudio("generate", "--form", "wujue", "--seed", "1", "-t", "0", "-n", "1", home=home)
    assert "greedy" not in one.stdout + one.stderr  # one poem repeats nothing


def test_greedy_poems_made_different_by_the_planner_get_no_note(home: Path) -> None:
    """The planner draws each poem's keywords from its seed, so greedy poems differ: no note."""
    planned = _poems("-t", "0", "-n", "3", "--planner", "--title", "秋夜", home=home)
    assert len({p["text"] for p in planned["poems"]}) > 1
    assert not any("greedy" in note for note in planned["notes"])


# 6. The gate strips carry their colour scale ------------------------------------------------------


def _shown(view: Static) -> Text:
    """The Rich Text a Static shows (PoemView updates itself with one)."""
    content = view.content
    assert isinstance(content, Text)
    return content


def _spans_of(text: Text, line_start: str) -> list[tuple[str, str]]:
    """(characters, style) of each span on the line of a Rich Text that starts with `line_start`."""
    plain = text.plain
    start = plain.index(line_start)
    end = plain.index("\n", start) if "\n" in plain[start:] else len(plain)
    return [
        (plain[max(s.start, start) : min(s.end, end)], str(s.style))
        for s in text.spans
        if s.start < end and s.end > start
    ]


@sync
async def test_gate_strips_come_with_a_legend_in_their_own_colours() -> None:
    """A strip of a GRU whose z is 0 at one character and 1 at the next: the legend under it runs
    from the colour the strip paints for 0 to the one it paints for 1, and says what bright means."""
    from textual.app import App, ComposeResult

    from tangstudio.studio.widgets.poem_view import PoemView

    class Host(App):
        def compose(self) -> ComposeResult:
            yield PoemView(id="poem")

    async with Host().run_test() as pilot:
        view = pilot.app.query_one("#poem", PoemView)
        names = ("r", "z", "‖h‖")  # a GRU's gates, as engine.models.gates names them
        view.show_poem(
            ["山", "月"], [0.5, 0.5], gates=(((0.3, 0.0, 0.2),), ((0.3, 1.0, 0.4),)), gate_names=names
        )
        text = _shown(view)
        strip = [style for chars, style in _spans_of(text, "████") if chars == "██"]
        low, high = strip[0], strip[1]  # z = 0 at 山, z = 1 at 月
        assert "gates 0 " in text.plain, text.plain
        legend = text.plain[text.plain.index("gates 0 ") :].split("\n")[0]
        assert legend.startswith("gates 0 █████ 1") and "bright: state replaced" in legend
        blocks = [style for chars, style in _spans_of(text, "gates 0 ") if chars == "█"]
        assert blocks[0] == low and blocks[-1] == high and len(set(blocks)) == 5

        view.show_poem(["山"], [0.5], gates=(((0.9, 0.1, 0.2, 1.0),),), gate_names=("f", "i", "o", "‖c‖"))
        assert "bright: memory kept" in _shown(view).plain  # an LSTM's strip is its forget gate
        view.show_poem(["山"], [0.5], gates=(((0.7,),),), gate_names=("‖h‖",))
        assert (
            "state 0 █████ max" in _shown(view).plain and "gates" not in _shown(view).plain
        )  # an RNN has none
        view.show_poem(["山"], [0.5])  # no gate view: no legend
        assert "gates 0" not in _shown(view).plain


def test_eval_reads_no_other_poems_title_when_there_is_one_poem() -> None:
    """`eval --author 太宗皇帝 --split test` (one poem) showed "with another poem's title" equal to
    "with its title": the other poem was the poem itself."""
    from tangstudio.engine.training.evaluate import planned_conditions

    assert planned_conditions(1, as_trained=False) == ["planned", "untitled", "title", "plan"]
    assert planned_conditions(2, as_trained=False) == ["planned", "untitled", "title", "other_title", "plan"]
    assert planned_conditions(1, as_trained=True) == planned_conditions(9, as_trained=True) == ["planned"]


def test_the_gate_colour_ramp_is_continuous_through_a_half() -> None:
    """A student's review: heat(0.500) was mauve and heat(0.501) olive, where an LSTM's forget gates
    sit, so a strip flickered between the two for changes of 0.01."""
    import itertools
    import re

    from tangstudio.studio.widgets.poem_view import heat

    def rgb(v: float) -> tuple[int, ...]:
        found = re.fullmatch(r"rgb\((\d+),(\d+),(\d+)\)", heat(v))
        assert found, heat(v)
        return tuple(int(x) for x in found.groups())

    steps = [i / 1000 for i in range(1001)]
    jumps = [
        max(abs(a - b) for a, b in zip(rgb(x), rgb(y), strict=True)) for x, y in itertools.pairwise(steps)
    ]
    assert max(jumps) <= 2, max(jumps)  # no step of 0.001 moves a channel by more than 2 of 255
    assert rgb(0.0) == (68, 1, 84) and rgb(0.5) == (33, 145, 140) and rgb(1.0) == (253, 231, 37)
    assert rgb(-1) == rgb(0.0) and rgb(2) == rgb(1.0)


def test_a_model_without_plans_gives_the_untitled_keys_and_one_untitled_row(tiny_corpus, home):
    """`eval --json` of a model trained without plans had no loss_untitled / bits_per_char_untitled,
    and its table printed the untitled perplexity twice (an evaluator's review)."""
    from tangstudio.cli.eval_cmd import _measures
    from tangstudio.engine.training import TrainConfig, train
    from tangstudio.engine.training.evaluate import evaluate_checkpoint

    tiny = {"embed": 8, "hidden": 16, "layers": 1, "batch_size": 8, "samples": 0, "warmup": 1}
    train(TrainConfig(corpus=tiny_corpus, arch="gru", steps=1, run="noplan", plan=False, **tiny))
    scored = evaluate_checkpoint("noplan", split="val")
    assert scored["ppl_condition"] == "untitled"
    assert (
        scored["loss_untitled"] == scored["loss"]
        and scored["bits_per_char_untitled"] == scored["bits_per_char"]
    )
    labels = [label for label, _ in _measures(scored)]
    assert sum("untitled" in label for label in labels) == 1, labels
