"""`tangstudio runs list` and `tangstudio runs show RUN`: what has been trained, and how it went."""

from __future__ import annotations

import typer

from tangstudio.cli.app import app, command_group

runs_app = command_group("List and inspect training runs.")
app.add_typer(runs_app, name="runs")


def _num(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def _ppl(value, kind: str) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" + (" (pseudo)" if kind == "pseudo" else "")


# The figure a poem run lists is its training evaluations' best, on training's fixed val sample
# (--eval-poems, 500 by default), each poem read bare: no title, no plan. `eval` reads the whole val
# split and headlines a model that reads them as trained (each poem's own title and plan), a lower
# figure; without these words a person saw two perplexities for one model and no reason.
PPL_COLUMN = "untitled ppl"
PPL_NOTE = (
    "untitled ppl: training's best on its val sample, each poem read with no title or plan; "
    "`tangstudio eval RUN` reads the whole val split, untitled and as trained (own title and plan)."
)


def _count(value: int | None) -> str:
    """Parameters in at most 6 cells (2,602 · 41.3k · 4.13M): the list fits 80 columns."""
    if value is None:
        return "–"
    if value >= 1_000_000:
        return f"{value / 1e6:.2f}M"
    return f"{value / 1e3:.1f}k" if value >= 100_000 else f"{value:,}"


NAME_MIN_WIDTH = 10


def _runs_table(title: str, runs: list, lab: bool, width: int | None = None):
    """One borderless table; every column but the name keeps its width (no_wrap), so at 80 columns
    a long name folds onto a second line instead of a status or corpus being cut to "interrupt…".
    Given the console's `width`, the name gets exactly the room the other columns leave (at least
    NAME_MIN_WIDTH cells): left to Rich, a wide steps cell (`440 (438 saved)`) made it shrink the
    name to nothing. In a pipe the table has its natural width (print_table)."""
    from rich.cells import cell_len
    from rich.markup import escape
    from rich.table import Table

    # Cells of two lines keep the table in 80 columns: the saved step under the steps logged (12
    # cells, not "44,000 (43,800 saved)"), the poet under the corpus, the header's two words.
    measure_header = "val acc" if lab else PPL_COLUMN.replace(" ", "\n")
    headers = (
        "name",
        "arch",
        "params",
        "steps",
        measure_header,
        "status",
        "task" if lab else "corpus",
    )
    rows = []
    for r in runs:
        if lab:
            measure = "–" if r.best_val_acc is None else f"{r.best_val_acc:.1%}"
        else:
            measure = _ppl(r.best_val_ppl, "causal") + ("*" if r.ppl_kind == "pseudo" else "")
        rows.append(
            (
                r.name,
                r.arch + (" cells" if r.impl == "cells" else ""),  # one bias a gate: fewer params
                _count(r.params),
                f"{r.steps:,}"
                + ("" if r.saved_step is None or r.status == "running" else f"\n{r.saved_step:,} saved"),
                measure,
                r.status,
                (r.corpus if lab or r.forms in ("", "?") else f"{r.corpus}/{r.forms}")
                + (f"\n· {r.author}" if r.author else ""),
            )
        )
    widths = [
        max(cell_len(line) for text in column for line in text.splitlines()) for column in zip(headers, *rows)
    ]
    name_width = None
    if width is not None and sum(widths) + 2 * (len(widths) - 1) > width:
        name_width = max(NAME_MIN_WIDTH, width - sum(widths[1:]) - 2 * (len(widths) - 1))
    table = Table(title=title, title_justify="left", box=None, padding=(0, 1), pad_edge=False)
    table.add_column("name", overflow="fold", width=name_width, header_style="bold")
    for column in headers[1:]:
        right = column in ("params", "steps", "val acc", measure_header)
        # words wrap where the terminal is too narrow, numbers never: at 40 columns a perplexity read "75…"
        table.add_column(column, justify="right" if right else "left", no_wrap=right, header_style="bold")
    for row in rows:
        table.add_row(*(escape(text) for text in row))
    return table


@runs_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print a JSON list.")) -> None:
    """Every run in the home, poem runs first, then the lab's classifiers in a table of their own."""
    from rich.markup import escape

    from tangstudio.cli.render import console, print_json, print_table
    from tangstudio.engine import paths
    from tangstudio.engine.runs import list_runs
    from tangstudio.engine.runs.kinds import LAB

    runs = list_runs()
    if as_json:
        print_json([r.to_dict() for r in runs])
        return
    if not runs:
        console.print(f"no runs yet in {paths.runs_dir()} (start one with `tangstudio train --headless`)")
        return
    poems = [r for r in runs if r.kind != LAB]
    labs = [r for r in runs if r.kind == LAB]
    console.print(f"runs in {escape(str(paths.runs_dir()))}", highlight=False, soft_wrap=True)
    if poems:
        print_table(_runs_table("poem models", poems, lab=False, width=console.width))
        if any(r.ppl_kind == "pseudo" for r in poems):
            console.print("[dim]* BiLSTM pseudo-perplexity, not comparable with causal perplexity[/dim]")
        if any(r.ppl_kind == "causal" and r.best_val_ppl is not None for r in poems):
            console.print(f"[dim]{escape(PPL_NOTE)}[/dim]", highlight=False)
    if labs:
        if poems:
            console.print()
        print_table(
            _runs_table("lab classifiers (F5, `tangstudio lab`)", labs, lab=True, width=console.width)
        )
    for r in runs:
        for problem in r.problems:
            console.print(
                f"[yellow]{escape(r.name)}: {escape(problem)}[/yellow]", highlight=False, soft_wrap=True
            )


def _warmup_in_effect(config: dict) -> int | None:
    """The warm-up a run of --steps takes: at most a tenth of its budget (the trainer's rule). None
    for a budget in minutes or epochs, whose step count the config does not say."""
    from tangstudio.engine.training.schedule import warmup_steps

    steps, warmup = config.get("steps"), config.get("warmup")
    if (
        not isinstance(steps, int)
        or not isinstance(warmup, int)
        or config.get("epochs")
        or config.get("minutes")
    ):
        return None
    return warmup_steps(warmup, steps)


@runs_app.command("show")
def show(
    run: str = typer.Argument(..., help="Run name or directory."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """One run: its configuration, progress, evaluations, checkpoints and latest samples.

    A damaged run is still shown, as far as it can be read, with one line per damaged file.
    """
    from rich.markup import escape

    from tangstudio.cli.render import console, print_json, print_table
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.runs import open_run
    from tangstudio.engine.runs.events import sample_shown
    from tangstudio.engine.runs.kinds import LAB
    from tangstudio.engine.runs.metrics import read_jsonl_tail, read_kind
    from tangstudio.engine.runs.rundir import checkpoint_metas, summarize
    from tangstudio.engine.runs.schema import check_sample

    handle = open_run(run, damaged=True)  # shown as far as it can be read, like `runs list`
    summary = summarize(handle)
    evals = read_kind(handle.metrics_path, "eval")  # streamed: train lines are never parsed or kept
    samples = read_jsonl_tail(handle.samples_path, check_sample).events[-3:]
    metas, _ = checkpoint_metas(handle)  # their problems are in summary.problems already
    checkpoints = {
        which: {
            "path": str(handle.best_dir if which == "best" else handle.last_dir),
            "step": meta.get("step"),
            "val_loss": meta.get("val_loss"),
        }
        for which, meta in metas.items()
    }
    try:
        config = handle.config()
    except TangError:
        config = {}  # named in summary.problems
    data = {
        **summary.to_dict(),
        "config": config,
        "evals": evals,
        "checkpoints": checkpoints,
        "samples": samples,
    }
    if as_json:
        print_json(data)
        return
    from rich.table import Table

    lab = summary.kind == LAB  # a lab classifier: its measure is accuracy, not perplexity
    best = (
        f"best val accuracy {_num(summary.best_val_acc, '.1%')}"
        if lab
        else f"best val {'pseudo-ppl' if summary.ppl_kind == 'pseudo' else PPL_COLUMN} "
        f"{_ppl(summary.best_val_ppl, 'causal')}"
    )
    console.print(
        f"[bold]{escape(summary.name)}[/bold] · {escape(summary.arch)} · {summary.status} · "
        f"{summary.steps:,} steps · {best}"
    )
    console.print(f"[dim]{escape(str(summary.path))}[/dim]")
    for problem in summary.problems:
        console.print(f"[bold red]damaged:[/bold red] {escape(problem)}", highlight=False, soft_wrap=True)
    config_table = Table(show_header=False, box=None, padding=(0, 1), title="config", title_justify="left")
    config_table.add_column(style="bold", justify="right")
    config_table.add_column()
    in_effect = _warmup_in_effect(data["config"])
    for key, value in data["config"].items():
        shown = str(value)
        if key == "warmup" and in_effect is not None and in_effect != value:
            shown += f" ({in_effect} in effect: at most a tenth of the step budget)"
        config_table.add_row(escape(key), escape(shown))
    console.print(config_table)
    if evals:
        table = Table(title="evaluations (last 10)", title_justify="left")
        measure = "pseudo-ppl" if summary.ppl_kind == "pseudo" else PPL_COLUMN
        columns = (
            ("step", "val loss", "val accuracy")
            if lab
            else ("step", "epoch", "val loss", "bits/char", measure)
        )
        for column in columns:
            table.add_column(column, justify="right")
        for e in evals[-10:]:
            if lab:
                table.add_row(str(e["step"]), _num(e.get("val_loss"), ".4f"), _num(e.get("val_acc"), ".1%"))
                continue
            table.add_row(
                str(e["step"]),
                f"{e.get('epoch') or 0:.2f}",
                _num(e.get("val_loss"), ".4f"),
                f"{e.get('val_bits_per_char') or 0:.3f}",
                _num(e.get("val_ppl"), ".2f"),
            )
        print_table(table)
    for which, info in checkpoints.items():
        console.print(f"checkpoint {which}: step {info.get('step')} → {escape(str(info['path']))}")
    for sample in samples:
        console.print(
            escape(
                f"sample step {sample.get('step')} ({sample.get('form')}): {sample_shown(str(sample.get('text') or ''))}"
            ),
            highlight=False,
        )
