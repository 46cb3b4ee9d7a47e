"""`tangstudio generate`: compose poems with a trained model, the form, rhyme and tones enforced."""

from __future__ import annotations

import typer

from tangstudio.cli.app import app
from tangstudio.engine import forms
from tangstudio.engine.compose.settings import (
    DEFAULT_CANDIDATES,
    DUIZHANG,
    GUIDANCE,
    LINE_DRAFTS,
    PLANNER,
    REPEAT_PENALTY,
    SEASON,
    TEMPERATURE,
)

MAX_POEMS = 1000
MAX_BEAM = 64


def _candidates_help(default: int) -> str:
    """--candidates in plain words: K drafts, the critic keeps the best, --json shows all K. The
    fallbacks are named only when the default is more than one draft: "[default: 1 (1 with --beam …)]"
    read as if something changed."""
    said = (
        "Write K drafts of each poem and print only the one the critic rates best; --json lists all "
        "K drafts with their scores."
    )
    if default == 1:
        return f"{said} \\[default: 1, a single draft, no critic]"
    return f"{said} \\[default: {default} (1 with --beam, a bilstm, or where no critic ships)]"


@app.command()
def generate(
    ctx: typer.Context,
    model: str = typer.Option(
        "default",
        "--model",
        "-m",
        help="default (the shipped model), a run name, a run directory or a checkpoint directory.",
    ),
    form: str = typer.Option(
        forms.DEFAULT.name, "--form", "-f", help=f"{', '.join(forms.NAMES)}; or 五绝, 七绝, 五律, 七律, 古体."
    ),
    acrostic: str = typer.Option(
        "", "--acrostic", "-a", help="藏头诗: each character opens a line, in order."
    ),
    prefix: str = typer.Option(
        "", "--prefix", "-p", help="Continue from this text (the opening of a line or several lines)."
    ),
    theme: str = typer.Option(
        "",
        "--theme",
        help="藏字: characters every poem must contain somewhere, e.g. 月,秋 (placed by the decoder).",
    ),
    primer: str = typer.Option(
        "", "--primer", help="Text the model reads before the poem to set its mood; not printed."
    ),
    title: str = typer.Option(
        "",
        "--title",
        help="题: the poem's subject, read by the model (with --planner, also the plan's source).",
    ),
    plan: str = typer.Option(
        "",
        "--plan",
        help="A keyword per line, e.g. 山,水,月,归, read by the model (a lean, not forced: --theme places "
        "characters) ('-' leaves a line to the planner; '-' alone, every line).",
    ),
    planner: bool = typer.Option(
        PLANNER,
        "--planner/--no-planner",
        help="With no --plan, let the planner give every line a keyword (from the title, or from nothing). "
        "Off: a title is read alone (measured better; docs/quality.md).",
    ),
    temperature: float = typer.Option(
        TEMPERATURE, "--temperature", "-t", help="Sampling temperature; 0 is greedy."
    ),
    top_k: int = typer.Option(0, "--top-k", help="Sample from the k likeliest characters only (0: off)."),
    top_p: float = typer.Option(
        0.95, "--top-p", help="Sample from the smallest head of the distribution holding this mass."
    ),
    beam: int = typer.Option(0, "--beam", help="Beam search of this width instead of sampling (0: sample)."),
    rhyme: bool = typer.Option(
        True, "--rhyme/--no-rhyme", help="Even lines rhyme in one 平水韵 平 group (fixed forms)."
    ),
    rhyme_group: str = typer.Option(
        "",
        "--rhyme-group",
        help="The 平水韵 平 group to rhyme in, such as 一东 or 七阳. \\[default: the poem's own]",
        show_default=False,
    ),
    tones: str = typer.Option("loose", "--tones", help="平仄 patterns: strict, loose (一三五不论) or off."),
    n: int = typer.Option(5, "-n", "--poems", help="How many poems."),
    seed: int | None = typer.Option(
        None,
        "--seed",
        help="Make the output reproducible (poem #k uses seed + k − 1, so any one can be redrawn alone).",
    ),
    novelty: bool = typer.Option(
        True,
        "--novelty/--allow-copies",
        help="Refuse to complete a line that is a line of the training corpus.",
    ),
    repeat_penalty: float = typer.Option(
        REPEAT_PENALTY,
        "--repeat-penalty",
        help="Make a character already in the poem exp(this) times less likely (0: off; 叠字 are spared, "
        "as is a given character at its own place; an acrostic's characters are never drawn again).",
    ),
    duizhang: float = typer.Option(
        DUIZHANG,
        "--duizhang",
        help="律诗: lines 4 and 6 lean toward characters that pair with lines 3 and 5 (对仗; 0: off).",
    ),
    season: float = typer.Option(
        SEASON,
        "--season",
        help="Once the title or the poem names a season, make another season's words (西风 in spring) "
        "exp(this) times less likely (0: off).",
    ),
    guidance: float = typer.Option(
        GUIDANCE,
        "--guidance",
        help="With --title: read the poem twice, with and without its title, and lean each character "
        "toward what the title adds (log q = log p(·|title) + this × log(p(·|title) / p(·)); 0: off).",
    ),
    candidates: int | None = typer.Option(
        None,
        "--candidates",
        "-k",
        metavar="K",
        help=_candidates_help(DEFAULT_CANDIDATES),
        show_default=False,
    ),
    line_drafts: int | None = typer.Option(
        None,
        "--line-drafts",
        "-L",
        help=f"Draw each line this many times and keep the one the model finds likeliest (1: off). "
        f"\\[default: {LINE_DRAFTS} (1 with --beam)]",
    ),
    show_probs: bool = typer.Option(
        False, "--show-probs", help="Colour each character by its probability and list its top alternatives."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print JSON: per poem the text, checks and every step's top 10 candidates."
    ),
    output: str = typer.Option(
        "text",
        "--format",
        help="text (the default), json (same as --json) or md (Markdown with probabilities).",
    ),
    gates: bool = typer.Option(
        False,
        "--gates",
        help="With JSON: each character's gate values per layer (LSTM f/i/o/‖c‖, GRU r/z, RNN ‖h‖).",
    ),
) -> None:
    """Compose poems: sampled or beam-searched, with the form, acrostic, rhyme and tones as real constraints."""
    from tangstudio.engine.compose.planning.check import parse_plan
    from tangstudio.engine.compose.settings import ComposeSettings
    from tangstudio.engine.errors import TangError

    settings = ComposeSettings(
        form=form,
        acrostic=acrostic,
        prefix=prefix,
        theme=theme,
        primer=primer,
        title=title,
        plan=parse_plan(plan),
        planner=planner,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        rhyme=rhyme,
        rhyme_group=rhyme_group,
        tones=tones,
        seed=seed,
        novelty=novelty,
        repeat_penalty=repeat_penalty,
        duizhang=duizhang,
        season=season,
        guidance=guidance,
        line_drafts=line_drafts if line_drafts is not None else (1 if beam else LINE_DRAFTS),
    )
    if beam and settings.line_drafts > 1:
        raise TangError("--line-drafts samples each line several times and --beam searches: choose one")
    if output not in ("text", "json", "md"):
        raise TangError(f"--format must be text, json or md, got {output!r}")
    _one_format(ctx, as_json, output)
    as_json = as_json or output == "json"
    if gates and not as_json:
        raise TangError("--gates adds the gate values to the JSON: use it with --json or --format json")
    if show_probs and (as_json or output != "text"):  # dropped without a word (a review)
        raise TangError(
            "--show-probs colours the text output; the JSON and Markdown give every character's "
            "probability already: drop one of them"
        )
    if not 1 <= n <= MAX_POEMS:
        raise TangError(f"-n must be between 1 and {MAX_POEMS}, got {n}")
    if not 0 <= beam <= MAX_BEAM:
        raise TangError(f"--beam must be between 0 (sample) and {MAX_BEAM}, got {beam}")
    from tangstudio.engine.compose.craft.best_of import best_of_k, check_candidates, critic_available

    asked_candidates = candidates is not None and candidates > 1  # typed, not the default
    if candidates is None:  # the default: best of K where it can be, else the first draw
        candidates = DEFAULT_CANDIDATES if not beam and critic_available() else 1
    check_candidates(candidates, beam)
    if beam and (settings.title.strip() or settings.plan):
        raise TangError("--beam does not read a title or plan yet; leave out --beam to sample with them")

    from tangstudio.cli.render import resolve_model_said, working
    from tangstudio.engine.compose.model_ref import load_for_composing

    resolve_model_said(model)  # a wrong name refused before torch loads; a stand-in named
    with working(f"loading {model}") as shown:
        from tangstudio.engine.compose.run import compose_stream

        loaded = load_for_composing(model, need_torch=gates)
        shown.update(f"composing {n} poem{'s' if n > 1 else ''}")
        from tangstudio.engine.compose.settings import in_model_script

        settings, converted = in_model_script(settings, loaded.vocab)  # 歸鄉 to a simplified model
        if not loaded.causal:  # a bilstm fills: there is no left-to-right draft to draw again
            _refuse_candidates_for_a_filler(asked_candidates)
            candidates = 1
        notes, poems = compose_stream(loaded, settings, n, beam=beam)
        notes = [converted, *notes] if converted else notes
        poems = best_of_k(poems, candidates, loaded, settings)
    results: list = []
    try:  # each poem is shown as soon as it is finished; Ctrl+C keeps what was shown (exit 130)
        if as_json:
            for _ in _shown_one_by_one(poems, results):  # one JSON document: printed whole, below
                pass
        elif output == "md":
            _stream_markdown(poems, results, notes, settings, model)
        else:
            show_poems(_shown_one_by_one(poems, results), notes, show_probs)
    except KeyboardInterrupt:
        if as_json:  # the poems finished so far, marked as cut short
            _print_json(loaded, model, settings, beam, notes, results, gates, interrupted=True)
        raise typer.Exit(130) from None
    repeated = _greedy_note(settings.temperature, [r.text for r in results])
    if as_json:
        _print_json(
            loaded, model, settings, beam, [*notes, *([repeated] if repeated else [])], results, gates
        )
    elif repeated:
        _print_note_after(repeated, markdown=output == "md")


def _refuse_candidates_for_a_filler(asked: bool) -> None:
    """A bilstm has no drafts for the critic to rank, so a typed `-k 3` was dropped without a word;
    refused as --beam, --gates and --title are. The default K stands down silently: it was not asked."""
    from tangstudio.engine.errors import TangError

    if asked:
        raise TangError(
            "--candidates ranks left-to-right drafts and a bilstm fills its grid from both sides: "
            "leave --candidates out (or use a rnn, lstm or gru model)"
        )


def _greedy_note(temperature: float, texts: list[str]) -> str | None:
    """Greedy decoding takes the likeliest character at every step, so `-t 0 -n 5` printed one poem
    five times without a word. Said only when the poems really are alike: with the planner (or a
    theme placed by the seed) each poem's seed still changes its keywords, and so its poem."""
    if temperature != 0 or len(texts) < 2 or len(set(texts)) > 1:
        return None
    return "greedy decoding (-t 0) writes the same poem each time: raise -t to vary them"


def _print_note_after(note: str, markdown: bool) -> None:
    """A note about the poems already printed: dim in the terminal, a comment in Markdown."""
    if markdown:
        typer.echo(f"\n<!-- {note} -->")
        return
    from tangstudio.cli.render import console

    console.print(f"[dim]{note}[/dim]", highlight=False)


def _one_format(ctx: typer.Context, as_json: bool, output: str) -> None:
    """`--json --format md` used to print JSON without a word: two formats asked at once is a
    mistake to name, not one to settle silently. `--json --format json` asks for one."""
    from tangstudio.cli.options import given_options
    from tangstudio.engine.errors import TangError

    if as_json and output != "json" and given_options(ctx, ["output"]):
        raise TangError(f"--json and --format {output} ask for two output formats: give one of them")


def _shown_one_by_one(poems, results: list):
    """The poems as they come, each kept in `results` (and past the test hook `poem`) once shown."""
    from tangstudio.engine.atomic import fault_point

    for r in poems:
        if results:
            fault_point("poem")  # between two poems: where a test presses Ctrl+C
        results.append(r)
        yield r


def _stream_markdown(poems, results: list, notes: list[str], settings, model: str) -> None:
    """The parts `--format md` prints, joined by newlines as before, each poem as it is finished."""
    from tangstudio.engine.compose.export import poem_markdown

    parts = (f"<!-- {note} -->" for note in notes)
    for k, part in enumerate(parts):
        typer.echo(("\n" if k else "") + part, nl=False)
    for k, r in enumerate(_shown_one_by_one(poems, results), 1):
        text = poem_markdown(
            r.text, r.steps, {**settings.to_dict(), "seed": r.seed}, model=model, check=r.check, title=f"#{k}"
        )
        typer.echo(("\n" if notes or k > 1 else "") + text, nl=False)


def _print_json(
    loaded, model: str, settings, beam: int, notes, results, gates: bool, interrupted=False
) -> None:
    from tangstudio.cli.render import print_json
    from tangstudio.engine.errors import TangError

    poems = [r.to_dict() for r in results]
    if gates:
        from tangstudio.engine.compose.generator import read_ids
        from tangstudio.engine.compose.tables import tables_for
        from tangstudio.engine.models.gates import kind_of, poem_gates

        if kind_of(loaded.model) is None:
            raise TangError("--gates reads a left-to-right model (rnn, lstm, gru); this one is a bilstm")
        tables = tables_for(loaded.vocab)
        for poem, r in zip(poems, results):
            # as the model read it while writing: the primer, the title and each line's keyword too
            read = read_ids(r.text, r.form, r.title, r.plan, settings, tables)
            rows = poem_gates(loaded, r.text, r.form, read)
            poem["gates"] = [{"char": c, "layers": row} for c, row in zip(r.text, rows)]
    document = {
        "model": str(getattr(loaded, "path", model)),
        "settings": settings.to_dict(),
        "beam": beam,
        "notes": notes,
        "poems": poems,
    }
    print_json({**document, "interrupted": True} if interrupted else document)


def _fmt(p: float) -> str:
    return f"{p:.2f}" if p >= 0.01 else f"{p:.4f}"


def show_poems(results, notes: list[str], show_probs: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    from tangstudio.cli.render import console, err_console, print_table, prob_style
    from tangstudio.engine.corpus.forms import form_name
    from tangstudio.engine.corpus.poem import split_clauses
    from tangstudio.engine.corpus.script import convert
    from tangstudio.engine.hanzi import LINE_MARKS, is_han
    from tangstudio.engine.prosody.checker import fault_name

    for note in notes:  # about the settings, not the poems: a pipe gets only the poems (README)
        err_console.print(f"[dim]{note}[/dim]")
    for k, r in enumerate(results, 1):
        script = (r.check or {}).get("script", "simplified")  # the labels in the poem's script
        head = Text(f"#{k} {form_name(r.form, script)}", style="bold")
        if r.check:
            c = r.check
            head.append(convert(f"  韵 {r.rhyme_group or '—'}", "simplified", script), style="cyan")
            for label, ok in (
                ("form", c["form_ok"]),
                ("rhyme", c["rhyme_ok"]),
                ("tones", c["tones_loose_ok"]),
                ("strict", c["tones_strict_ok"]),
            ):
                head.append(f"  {label} {'✓' if ok else '✗'}", style="green" if ok else "red")
            for fault in sorted({name for w in c.get("warnings", []) if (name := fault_name(w))}):
                head.append(
                    f"  {fault} ✗", style="bold red"
                )  # a fault of 律 beside a tones ✓ (a poet's review)
        if r.critic is not None:
            from tangstudio.engine.compose.craft.best_of import of_k

            head.append(f"  critic {r.critic['critic']:.2f}/5 (best of {of_k(r.drafts)})", style="magenta")
        console.print(head)
        if r.longest_shared is not None:  # its own line: beside the checks it wrapped at 80 columns
            # its Chinese characters counted, not its mark: "花向日开。 (5 characters)" read as a whole line
            han = sum(map(is_han, r.longest_shared or ""))
            span = (
                f"{r.longest_shared} ({han} character{'s' if han != 1 else ''})" if r.longest_shared else "—"
            )
            console.print(Text(f"  longest span also in the corpus: {span}", style="dim"))
        if r.title or any(r.plan):
            title, outline = (convert(label, "simplified", script) for label in ("题", "纲"))  # 題, 綱
            plan = f"  {outline} " + " · ".join(k or "—" for k in r.plan) if any(r.plan) else ""
            console.print(Text(f"  {title} {r.title or '—'}{plan}", style="dim"))
        if show_probs:
            line = Text("  ")
            for s in r.steps:
                if s.chosen == "<eos>":
                    continue
                line.append(s.chosen, style="dim" if s.forced else prob_style(s.chosen_prob))
                if s.chosen in LINE_MARKS:  # a line a row, as without --show-probs
                    console.print(line)
                    line = Text("  ")
            if line.plain.strip():
                console.print(line)
            table = Table(box=None, show_header=True, header_style="dim", padding=(0, 1))
            for col in ("#", "char", "p", "model p", "alternatives"):
                table.add_column(col, justify="right" if col in ("#", "p", "model p") else "left")
            for s in r.steps:
                if s.forced:
                    continue
                alts = "  ".join(f"{c} {_fmt(p)}" for c, p in s.candidates[:6] if c != s.chosen)
                table.add_row(
                    str(s.position + 1),
                    Text(s.chosen, style=prob_style(s.chosen_prob)),
                    f"{s.chosen_prob:.3f}",
                    f"{s.model_prob:.3f}",
                    alts,
                )
            print_table(table)
            console.print(
                "[dim]p: the probability the character was drawn with (temperature, top-k/top-p and "
                "the form's rules applied) · model p: the model's own probability of it[/dim]"
            )
        else:
            for clause in split_clauses(r.text):
                console.print(f"  {clause}")
        for line in r.copied_lines:
            console.print(f"  [yellow]copied from the corpus: {line}[/yellow]")
        for b in r.backoffs:
            console.print(f"  [yellow]relaxed: {b}[/yellow]")
        console.print()
