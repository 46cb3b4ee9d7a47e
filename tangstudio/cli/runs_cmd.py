"""`tangstudio runs list` and `tangstudio runs show RUN`: what has been trained, and how it went."""

from __future__ import annotations

import typer

from tangstudio.cli.app import app

runs_app = typer.Typer(help="List and inspect training runs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


def _ppl(value, kind: str) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" + (" (pseudo)" if kind == "pseudo" else "")


@runs_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print a JSON list.")) -> None:
    """Every run in the home: name, architecture, parameters, steps, best val perplexity, status."""
    from tangstudio.cli.render import console, print_json
    from tangstudio.engine import paths
    from tangstudio.engine.runs import list_runs

    runs = list_runs()
    if as_json:
        print_json([r.to_dict() for r in runs])
        return
    if not runs:
        console.print(f"no runs yet in {paths.runs_dir()} (start one with `tangstudio train --headless`)")
        return
    from rich.table import Table

    table = Table(title=f"runs in {paths.runs_dir()}", title_justify="left")
    for column, justify in [
        ("name", "left"),
        ("arch", "left"),
        ("params", "right"),
        ("steps", "right"),
        ("best val ppl", "right"),
        ("status", "left"),
        ("corpus/forms", "left"),
    ]:
        table.add_column(column, justify=justify)
    for r in runs:
        table.add_row(
            r.name,
            r.arch,
            "–" if r.params is None else f"{r.params:,}",
            f"{r.steps:,}",
            _ppl(r.best_val_ppl, r.ppl_kind),
            r.status,
            f"{r.corpus}/{r.forms}",
        )
    console.print(table)
    if any(r.ppl_kind == "pseudo" for r in runs):
        console.print("[dim](pseudo) = BiLSTM pseudo-perplexity, not comparable with causal perplexity[/dim]")


@runs_app.command("show")
def show(
    run: str = typer.Argument(..., help="Run name or directory."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """One run: its configuration, progress, evaluations, checkpoints and latest samples."""
    import json

    from tangstudio.cli.render import console, print_json
    from tangstudio.engine.runs import open_run, read_metrics
    from tangstudio.engine.runs.checkpoint import META
    from tangstudio.engine.runs.rundir import summarize

    handle = open_run(run)
    summary = summarize(handle)
    evals = [e for e in read_metrics(handle.metrics_path) if e.get("event") == "eval"]
    samples = read_metrics(handle.samples_path)[-3:]
    checkpoints = {}
    for which, directory in (("best", handle.best_dir), ("last", handle.last_dir)):
        if (directory / META).is_file():
            try:
                meta = json.loads((directory / META).read_text(encoding="utf-8"))
                checkpoints[which] = {
                    "path": str(directory),
                    "step": meta.get("step"),
                    "val_loss": meta.get("val_loss"),
                }
            except ValueError:
                checkpoints[which] = {"path": str(directory), "damaged": True}
    data = {
        **summary.to_dict(),
        "config": handle.config(),
        "evals": evals,
        "checkpoints": checkpoints,
        "samples": samples,
    }
    if as_json:
        print_json(data)
        return
    from rich.table import Table

    console.print(
        f"[bold]{summary.name}[/bold] · {summary.arch} · {summary.status} · {summary.steps:,} steps · "
        f"best val {'pseudo-ppl' if summary.ppl_kind == 'pseudo' else 'ppl'} "
        f"{_ppl(summary.best_val_ppl, 'causal')}"
    )
    console.print(f"[dim]{summary.path}[/dim]")
    config = Table(show_header=False, box=None, padding=(0, 1), title="config", title_justify="left")
    config.add_column(style="bold", justify="right")
    config.add_column()
    for key, value in data["config"].items():
        config.add_row(key, str(value))
    console.print(config)
    if evals:
        table = Table(title="evaluations (last 10)", title_justify="left")
        for column in (
            "step",
            "epoch",
            "val loss",
            "bits/char",
            "pseudo-ppl" if summary.ppl_kind == "pseudo" else "ppl",
        ):
            table.add_column(column, justify="right")
        for e in evals[-10:]:
            table.add_row(
                str(e["step"]),
                f"{e.get('epoch') or 0:.2f}",
                f"{e['val_loss']:.4f}",
                f"{e.get('val_bits_per_char') or 0:.3f}",
                f"{e['val_ppl']:.2f}",
            )
        console.print(table)
    for which, info in checkpoints.items():
        console.print(f"checkpoint {which}: step {info.get('step')} → {info['path']}")
    for sample in samples:
        console.print(
            f"sample step {sample.get('step')} ({sample.get('form')}): {sample.get('text')}", highlight=False
        )
