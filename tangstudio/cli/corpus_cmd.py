"""`tangstudio corpus import|list`: bring other corpora in (all or nothing) and list them."""

from __future__ import annotations

from pathlib import Path

import typer

from tangstudio.cli.app import app, command_group

corpus_app = command_group("Import and list corpora (the bundled Tang corpus is always there).")
app.add_typer(corpus_app, name="corpus")


@corpus_app.command("import")
def import_(
    path: Path = typer.Argument(
        ..., help="A chinese-poetry JSON file, a folder of them, or a UTF-8 text file."
    ),
    name: str = typer.Option(..., "--name", "-n", help="Name to use with --corpus."),
    fmt: str = typer.Option(
        "auto", "--format", help="auto, chinese-poetry or text (one poem per line, optionally title:body)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace an existing corpus of that name (refused if runs were trained on it)."
    ),
    orphan_runs: bool = typer.Option(
        False,
        "--orphan-runs",
        help="With --force: replace it even though runs were trained on it (they may no longer evaluate or resume).",
    ),
    without_lines_of: str | None = typer.Option(
        None,
        "--without-lines-of",
        metavar="CORPUS",
        help="Leave out every poem that shares a line (5+ characters) with CORPUS's val or test poems, "
        "so a model trained on both is never scored on poems it has read (e.g. tang).",
    ),
) -> None:
    """Import a corpus into your tangstudio home; nothing is written unless every file is valid."""
    from tangstudio.cli.render import console
    from tangstudio.engine.corpus.importer import import_corpus

    with console.status(f"Reading {path} …"):
        if orphan_runs and not force:
            from tangstudio.engine.errors import TangError

            raise TangError(
                "--orphan-runs goes with --force: it lets --force replace a corpus runs were trained on"
            )
        from tangstudio.engine.runs.rundir import refuse_replacing_a_used_corpus

        guard = refuse_replacing_a_used_corpus if force and not orphan_runs else None
        result = import_corpus(path, name, fmt, force, without_lines_of, before_replacing=guard)
    console.print(
        f"imported [bold]{result['poems']:,}[/bold] poem{'' if result['poems'] == 1 else 's'} "
        f"({result['usable']:,} usable after cleaning, "
        f"{result['script']}) as [bold]{name}[/bold] → {result['path']}"
    )
    if result["not_chinese"]:
        n = result["not_chinese"]
        console.print(f"left out {n:,} {'entry' if n == 1 else 'entries'} without a Chinese character")
    if result["repeated"]:
        n = result["repeated"]
        console.print(
            f"left out {n:,} {'entry' if n == 1 else 'entries'} repeating an earlier one word for word"
        )
    if result["lost"]:
        n = result["lost"]
        said = (
            f"kept {n:,} poem{'' if n == 1 else 's'} with lost or unreadable characters (□), never trained on"
        )
        console.print(said)
        if n > result["usable"]:  # most of the file: mojibake from a wrong `iconv`, not a damaged source
            console.print(
                "[yellow]warning: most poems hold characters no text of this kind uses: was the file "
                "converted from the right encoding?[/yellow]"
            )
    if without_lines_of is not None:
        console.print(
            f"left out {result['overlapping']:,} poems sharing a line with {without_lines_of}'s val or test poems"
        )
    if force and orphan_runs:
        from tangstudio.engine.runs.rundir import runs_trained_on

        users = runs_trained_on(name)
        if users:  # replaced under runs trained on it, as asked: say what they can still do
            console.print(
                f"[yellow]note: {', '.join(users)} {'was' if len(users) == 1 else 'were'} trained on the corpus "
                f"this replaced; where the new {name}'s vocabulary differs, they can no longer be evaluated "
                "or resumed (generate still reads them)[/yellow]"
            )
    console.print(f"try: tangstudio stats --corpus {name}")


@corpus_app.command("list")
def list_(
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON, as `runs list --json` does."),
) -> None:
    """List the bundled corpus and every imported one."""
    from rich.table import Table

    from tangstudio.cli.render import print_json, print_table
    from tangstudio.engine.corpus.importer import list_imported

    bundled = {
        "name": "tang",
        "poems": 57607,
        "script": "traditional",
        "source": "bundled: chinese-poetry@2.0.1 (MIT)",
    }
    if as_json:
        print_json([bundled, *list_imported()])
        return
    table = Table("name", "poems", "script", "source")
    table.add_row("tang", f"{bundled['poems']:,}", "traditional (converted on load)", str(bundled["source"]))
    for meta in list_imported():
        poems = meta.get("poems")
        source = str(meta.get("source"))
        if meta.get("without_lines_of"):
            source += f" (without {meta.get('left_out')} poems sharing lines with {meta['without_lines_of']}'s val/test)"
        table.add_row(
            str(meta.get("name")),
            f"{poems:,}" if isinstance(poems, int) else str(poems),
            str(meta.get("script")),
            source,
        )
    print_table(table)
