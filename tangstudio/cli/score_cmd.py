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
        "auto", "--form", "-f", help="auto (from the shape), wujue, qijue, wulv, qilv or free (or 七绝 ...)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of the table."),
    gates: bool = typer.Option(
        False,
        "--gates",
        help="Add each character's gate values per layer (LSTM f/i/o/‖c‖, GRU r/z, RNN ‖h‖).",
    ),
) -> None:
    """Per-character probability, surprisal and rank of a poem under a model, and its perplexity."""

    from tangstudio.cli.render import resolve_model_said, working
    from tangstudio.engine import forms
    from tangstudio.engine.compose.fast_model import FastLoaded, score_fast
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.errors import TangError

    if form != "auto" and forms.find(form) is None:
        raise TangError(f"unknown form {form!r}; choose auto, {', '.join(forms.NAMES)}")
    form = form if form == "auto" else forms.canonical(form)
    poem = read_poem(poem)
    from tangstudio.engine.hanzi import LOST, is_han

    if not any(is_han(ch) or ch == LOST for ch in poem):  # '，，，，' was scored, exit 0 (a review)
        raise TangError("empty poem: give its lines, e.g. 床前明月光，疑是地上霜。举头望明月，低头思故乡。")
    if form != "auto":  # a form the poem's shape cannot have is refused, as `check --form` does
        from tangstudio.engine.prosody.checker import resolve_form, split_lines

        resolve_form(split_lines(poem), form)
    resolve_model_said(model)  # a wrong name refused before torch loads; a stand-in named
    with working(f"loading {model}") as shown:
        rows = None
        loaded = load_for_composing(model, need_torch=gates)
        from tangstudio.engine.corpus.script import in_vocab_script

        typed, poem = poem, in_vocab_script(poem, loaded.vocab)  # 國破山河在 to a simplified model
        if poem != typed:
            from tangstudio.cli.render import err_console

            err_console.print(
                f"[dim]read in the model's {loaded.vocab.script} script: {poem}[/dim]", soft_wrap=True
            )
        if isinstance(loaded, FastLoaded):  # a fused rnn/lstm/gru: numpy, torch never imported
            shown.update("scoring")
            result = score_fast(loaded, poem, None if form == "auto" else form)
        else:
            from tangstudio.engine.compose.score import score_poem

            shown.update("scoring")
            result = score_poem(loaded, poem, None if form == "auto" else form)
        if gates:
            from tangstudio.engine.models.gates import kind_of, poem_gates

            if kind_of(loaded.model) is None:
                raise TangError("--gates reads a left-to-right model (rnn, lstm, gru); this one is a bilstm")
            shown.update("reading the gates")
            rows = poem_gates(loaded, result.text, result.form)
    if as_json:
        from tangstudio.cli.render import print_json

        # which model scored it: one poem scored under several could not be told apart (a review)
        data = {"model": str(getattr(loaded, "path", model)), **result.to_dict()}
        if rows is not None:
            data["gates"] = [{"char": c, "layers": row} for c, row in zip(result.text, rows)]
        print_json(data)
        return
    show_score(result)
    if rows is not None:
        show_gates(result.text, rows)


def show_gates(text: str, rows: list[list[dict[str, float]]]) -> None:
    """One row per character: every layer's gate values (means over its units) and state norm."""
    from rich.table import Table

    from tangstudio.cli.render import console, print_table

    if not rows:
        return
    table = Table(box=None, header_style="dim", padding=(0, 1), pad_edge=False, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("char")
    for layer, values in enumerate(rows[0]):  # from 0, as inspect and the pins number layers (h0:271)
        for name in values:
            table.add_column(f"L{layer} {name}", justify="right", no_wrap=True)
    for i, (char, row) in enumerate(zip(text, rows), 1):
        cells = [
            f"{v:.2f}" if not name.startswith("‖") else f"{v:.1f}"
            for layer in row
            for name, v in layer.items()
        ]
        table.add_row(str(i), char, *cells)
    console.print()
    console.print(
        "[dim]gates: the mean over each layer's units after reading the character; layers from 0, as inspect "
        "and the studio's pins name them (h0:5 is unit 5 of layer 0)[/dim]"
    )
    print_table(table)


def _shown(char: str) -> str:
    """The end token as a word: `<eos>` took five columns in a table sized for one character."""
    return "end" if char == "<eos>" else char


def show_score(result) -> None:
    from rich.table import Table
    from rich.text import Text

    from tangstudio.cli.render import console, print_table, prob_style

    line = Text("  ")
    for c in result.chars:
        if c.char != "<eos>":
            line.append(c.char, style=prob_style(c.prob) if c.known else "magenta underline")
    console.print(line)
    if result.unknown:
        from tangstudio.engine.compose.score_result import UNKNOWN

        known = sum(c.known for c in result.chars)
        console.print(
            f"[magenta]{''.join(result.unknown)}: {UNKNOWN}; scored around (the model reads <unk> "
            f"there), the perplexity is over the other {known} positions[/magenta]",
            highlight=False,
        )
    # Every probability with three decimals (a tiny one reads 0.000; its bits say how tiny), so the
    # columns line up and the row fits 80 columns without wrapping the top 5.
    table = Table(box=None, header_style="dim", padding=(0, 1), pad_edge=False)
    for col in ("#", "char", "p", "bits", "rank"):
        table.add_column(col, justify="left" if col == "char" else "right", no_wrap=True, min_width=len(col))
    # wrapped where the terminal is too narrow for it: it gives way first, and the numbers stay whole
    # (at 60 columns every p read "0." and the # column went: a fuzzing review)
    table.add_column("the model's top 5")
    for i, c in enumerate(result.chars, 1):
        alts = "  ".join(f"{_shown(a)} {p:.3f}" for a, p in c.alternatives)
        if not c.known:  # a typo: no probability of its own, the model's guesses still shown
            table.add_row(
                str(i),
                Text(c.char, style="magenta"),
                "–",
                "–",
                "–",
                Text(alts, style="magenta"),  # as wide as any row's: the narrow columns keep their width
            )
            continue
        table.add_row(
            str(i),
            Text(_shown(c.char), style=prob_style(c.prob)),
            f"{c.prob:.3f}",
            f"{c.surprisal_bits:.2f}",
            str(c.rank),
            alts,
        )
    print_table(table)
    console.print(
        "[dim]p: the character's probability under the model · bits: its surprisal, −log₂ p · "
        "rank: its place among the model's guesses[/dim]"
    )
    kind = (
        "pseudo-perplexity (each character given all the others)"
        if result.ppl_kind == "pseudo"
        else "perplexity"
    )
    console.print(
        f"[bold]{kind}[/bold] {result.perplexity:.2f} · {result.bits_per_char:.3f} bits per character · form {result.form}"
    )
