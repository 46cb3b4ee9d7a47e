"""`tangstudio score POEM`: how probable each character of a given poem is under a model."""

from __future__ import annotations

import typer

from tangstudio.cli.app import POEM_HELP, app, read_poem


@app.command()
def score(
    poem: str = typer.Argument(..., help=POEM_HELP),
    model: str = typer.Option(
        "default", "--model", "-m", help="default, a run name, a run directory or a checkpoint directory."
    ),
    form: str = typer.Option(
        "auto", "--form", "-f", help="auto (from the shape), wujue, qijue, wulv, qilv or free."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of the table."),
) -> None:
    """Per-character probability, surprisal and rank of a poem under a model, and its perplexity."""
    from tangstudio.engine.compose.model_ref import load_model
    from tangstudio.engine.compose.score import score_poem
    from tangstudio.engine.compose.settings import FORMS
    from tangstudio.engine.errors import TangError

    if form != "auto" and form not in (*FORMS, "other"):
        raise TangError(f"unknown form {form!r}; choose auto, {', '.join(FORMS)}")
    poem = read_poem(poem)
    loaded = load_model(model)
    result = score_poem(loaded, poem, None if form == "auto" else form)
    if as_json:
        from tangstudio.cli.render import print_json

        print_json(result.to_dict())
        return
    show_score(result)


def show_score(result) -> None:
    from rich.table import Table
    from rich.text import Text

    from tangstudio.cli.generate_cmd import _fmt, _prob_style
    from tangstudio.cli.render import console

    line = Text("  ")
    for c in result.chars:
        if c.char != "<eos>":
            line.append(c.char, style=_prob_style(c.prob))
    console.print(line)
    table = Table(box=None, header_style="dim", padding=(0, 1))
    for col in ("#", "char", "p", "bits", "rank", "the model's top 5"):
        table.add_column(col, justify="left" if col in ("char", "the model's top 5") else "right")
    for i, c in enumerate(result.chars, 1):
        alts = "  ".join(f"{a} {_fmt(p)}" for a, p in c.alternatives)
        table.add_row(
            str(i),
            Text(c.char, style=_prob_style(c.prob)),
            f"{c.prob:.4f}",
            f"{c.surprisal_bits:.2f}",
            str(c.rank),
            alts,
        )
    console.print(table)
    kind = (
        "pseudo-perplexity (each character given all the others)"
        if result.ppl_kind == "pseudo"
        else "perplexity"
    )
    console.print(
        f"[bold]{kind}[/bold] {result.perplexity:.2f} · {result.bits_per_char:.3f} bits per character · form {result.form}"
    )
