"""`tangstudio inspect RUN`: which hidden and cell units track a quantity we can name."""

from __future__ import annotations

import typer

from tangstudio.cli.app import app
from tangstudio.cli.options import MODEL_OPTION_HELP, one_model

MAX_POEMS = 5000


@app.command()
def inspect(
    model: str | None = typer.Argument(
        None,
        help="default (the shipped model, read when none is given), a run name, a run directory or a checkpoint directory.",
        show_default=False,
    ),
    model_option: str | None = typer.Option(
        None, "--model", "-m", help=MODEL_OPTION_HELP, show_default=False
    ),
    top: int = typer.Option(10, "--top", help="How many units to list per quantity."),
    poems: int = typer.Option(
        200, "--poems", help="How many poems of the val split to read (a seeded sample; more is slower)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of the tables."),
) -> None:
    """Rank units by how well they track line and poem position, line ends, rhymes and 平/仄.

    Hidden and cell units over the val split: line position, poem position, line ends, rhyme
    positions and the next character's 平/仄 (Pearson r or AUC)."""
    from tangstudio.engine.errors import TangError

    model = one_model(model, model_option, "default", "inspect")
    if not 1 <= top <= 100:
        raise TangError(f"--top must be between 1 and 100, got {top}")
    if not 10 <= poems <= MAX_POEMS:
        raise TangError(f"--poems must be between 10 and {MAX_POEMS}, got {poems}")
    from tangstudio.cli.render import resolve_model_said, working
    from tangstudio.engine.compose.model_ref import load_model

    resolve_model_said(model)  # a wrong name refused before torch loads; a stand-in named
    with working(f"loading {model}") as shown:
        loaded = load_model(model)
        from tangstudio.engine.models.gates import kind_of
        from tangstudio.engine.models.units import rank_units, untrained_twin, val_poems

        if kind_of(loaded.model) is None:
            raise TangError("inspect reads a left-to-right model (rnn, lstm, gru); this one is a bilstm")
        shown.update("reading the val split")
        sample = val_poems(loaded, poems)
        if len(sample) < 10:
            raise TangError("the model's corpus has fewer than 10 val poems here; nothing to measure")
        shown.update(f"reading every unit over {len(sample)} poems")
        report = rank_units(loaded, sample, top=top, untrained=untrained_twin(loaded))
    if as_json:
        from tangstudio.cli.render import print_json

        print_json({"model": str(getattr(loaded, "path", model)), **report.to_dict()})
        return
    show_units(report)


def show_units(report) -> None:
    from rich.table import Table

    from tangstudio.cli.render import console, print_table
    from tangstudio.engine.models.units import CAVEATS

    console.print(
        f"[bold]{report.arch}[/bold] · {report.layers} layer{'s' * (report.layers != 1)} × {report.hidden} units · "
        f"{report.poems} val poems · {report.positions:,} positions"
    )
    console.print(
        "[dim]units: h<layer>:<index> hidden, c<layer>:<index> cell (LSTM), 0-based; r: Pearson correlation; "
        "AUC: 1 or 0 separate perfectly, 0.5 is chance; chance: the best figure with the labels shuffled; "
        "untrained: the best figure of this network before training (a unit must beat it to track)[/dim]"
    )
    for q in report.quantities:
        console.print()
        style = "green" if q.tracked else "yellow"
        console.print(f"[bold]{q.label}[/bold] ({q.samples:,} positions)  [{style}]{q.verdict()}[/{style}]")
        if q.name in CAVEATS:
            console.print(f"[dim]note: {CAVEATS[q.name]}[/dim]")
        table = Table(box=None, header_style="dim", padding=(0, 1), pad_edge=False)
        table.add_column("#", justify="right")
        table.add_column("unit")
        table.add_column(q.stat if q.stat == "r" else "AUC", justify="right")
        for i, unit in enumerate(q.top, 1):
            table.add_row(str(i), unit.unit, f"{unit.value:+.3f}" if q.stat == "r" else f"{unit.value:.3f}")
        print_table(table)
