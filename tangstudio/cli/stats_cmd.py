"""`tangstudio stats`: corpus statistics as Rich tables and bar charts, or JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from tangstudio.cli.app import app

if TYPE_CHECKING:
    from tangstudio.engine.corpus.stats import CorpusStats


@app.command()
def stats(
    corpus: str = typer.Option(
        "tang", "--corpus", "-c", help="The bundled 'tang' or an imported corpus name."
    ),
    script: str = typer.Option("simplified", "--script", "-s", help="simplified or traditional."),
    forms: str = typer.Option("all", "--forms", "-f", help="all, regulated, or a list such as wujue,qijue."),
    include_lost: bool = typer.Option(
        False, "--include-lost", help="Count poems with □ (lost characters) too."
    ),
    author: str | None = typer.Option(
        None, "--author", help="One poet's poems only (e.g. 白居易).", show_default=False
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
) -> None:
    """Corpus statistics: poems, characters, vocabulary, forms, line lengths, top characters and authors, splits, cleaning."""
    from tangstudio.cli.render import print_json, working
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.stats import corpus_stats

    with working(f"loading corpus {corpus}") as shown:
        loaded = load_corpus(corpus, script)
        shown.update("counting")
        data = corpus_stats(loaded, forms, include_lost=include_lost, author=author)
    if as_json:
        print_json(data)
        return
    show_stats(data)


def show_stats(data: CorpusStats) -> None:
    from rich.columns import Columns
    from rich.table import Table

    from tangstudio.bars import bar_table, cleaning_rows, line_length_rows, no_authors
    from tangstudio.cli.render import console
    from tangstudio.engine.corpus.forms import form_name

    summary = Table(
        title=f"{data['corpus']} · {data['script']} · forms: {data['forms_filter']}",
        title_justify="left",
        show_header=False,
        box=None,
        padding=(0, 1),
    )
    summary.add_column(style="bold", justify="right")
    summary.add_column(justify="right")
    for label, value in [
        *([("poet", data["author"])] if data.get("author") else []),
        ("poems in source", f"{data['raw_poems']:,}"),
        ("poems (cleaned, selected)", f"{data['poems']:,}"),
        ("characters (with punctuation)", f"{data['characters']:,}"),
        ("hanzi", f"{data['hanzi']:,}"),
        ("distinct hanzi", f"{data['distinct_chars']:,}"),
        ("vocabulary (train split)", f"{data['vocab_size']:,}"),
        *[(f"coverage of top {k[4:]}", f"{v:.2%}") for k, v in data["coverage"].items()],
    ]:
        summary.add_row(label, value)
    console.print(summary)
    console.print()
    forms = bar_table(
        "Poems per form (whole corpus)",
        [(f"{form_name(f, data['script'])} {f}", n) for f, n in data["forms"].items()],
    )
    splits = bar_table("Splits", list(data["splits"].items()))
    cleaning = bar_table("Cleaning (poems touched)", cleaning_rows(data["cleaning"]), width=20)
    console.print(Columns([forms, splits]))
    console.print()
    shown = line_length_rows(data["line_lengths"], longest=12)
    console.print(Columns([bar_table("Line lengths (clauses)", shown, width=24), cleaning]))
    console.print()
    chars = bar_table("Top 20 characters", [(c, n) for c, n in data["top_chars"]], width=20)
    authors = bar_table(
        "Top 20 authors", [(a, n) for a, n in data["top_authors"]], width=20, empty=no_authors(data["poems"])
    )
    console.print(Columns([chars, authors]))
    console.print(f"[dim]source: {data['source']}[/dim]")
