"""`tangstudio eval RUN`: held-out loss, bits/char and perplexity of a run's best checkpoint (or the shipped model)."""

from __future__ import annotations

import typer

from tangstudio.cli.app import app
from tangstudio.cli.options import MODEL_OPTION_HELP, one_model

# The other conditions a model with a plan is scored under (engine/training/plan_data.py).
CONDITION_LABELS = {
    "ppl_untitled": "… untitled (nothing given)",
    "ppl_title": "… with its title only",
    "ppl_other_title": "… with another poem's title",
    "ppl_plan": "… with its plan only",
}


@app.command("eval")
def eval_(
    run: str | None = typer.Argument(
        None,
        help="`default` (the shipped model), a run name, a run directory or a checkpoint directory.",
        show_default=False,
    ),
    model: str | None = typer.Option(None, "--model", "-m", help=MODEL_OPTION_HELP, show_default=False),
    split: str = typer.Option(
        "val",
        "--split",
        help="val, test or train (a val or test poem that is a train poem word for word is a copy, in neither).",
    ),
    device: str = typer.Option(
        "cpu", "--device", help="auto, cpu, cuda or mps; cpu by default, so figures compare across machines."
    ),
    author: str | None = typer.Option(
        None, "--author", help="Only this poet's poems of the split (e.g. 白居易).", show_default=False
    ),
    forms: str | None = typer.Option(
        None,
        "--forms",
        help="Score these forms (all, regulated, or e.g. wujue,qijue). \\[default: the forms it was trained on]",
        show_default=False,
    ),
    as_trained: bool = typer.Option(
        False,
        "--as-trained",
        help="Only the perplexity as trained (each poem's own title and plan), not the four other "
        "conditions: a fifth of the time.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Evaluate a checkpoint: nats/char over body + punctuation + end token, bits/char, perplexity.

    A model that reads titles and plans is scored five ways on the same characters: with its own
    title and keywords (ppl, as trained), with nothing (ppl_untitled: compare this with older
    models and the 4-gram), with its title alone, with another poem's title, and with the plan alone
    (`--as-trained`: the first only).

    Every character of the split goes through the model and its full softmax: the 88,976 regulated
    val characters take about 9 s a way on two cores (`eval default --forms regulated`: about a
    minute in all, 26 s `--as-trained`, loading included). The shipped model is trained on every form,
    whose val split holds 172,423, so `--forms regulated` scores it on the verse it writes in about
    half the time. A bar on stderr follows the batches."""
    from tangstudio.cli.render import console, print_json, print_table, resolve_model_said, working
    from tangstudio.engine.errors import TangError

    run = one_model(run, model, None, "eval")
    # Wrong names are refused before torch and the corpus load (seconds), not after.
    if split not in ("val", "test", "train"):
        raise TangError(f"unknown split {split!r}; choose val, test or train")
    if forms is not None:
        from tangstudio.engine.corpus.forms import parse_forms

        parse_forms(forms)
    resolve_model_said(run)  # a wrong name refused before torch loads; a stand-in named
    with working("loading torch") as shown:
        from tangstudio.engine.training.evaluate import evaluate_checkpoint

        result = evaluate_checkpoint(
            run,
            split=split,
            device=device,
            progress=shown.update,
            author=author,
            forms=forms,
            as_trained=as_trained,
        )
    if as_json:
        print_json(result)
        return
    from rich.table import Table

    pseudo = result["ppl_kind"] == "pseudo"
    # The title is printed on its own line: a table's title wraps at the table's width, which is
    # only as wide as its two columns.
    console.print(
        f"[bold]{result['run']} · {result['arch']} · step {result['step']} · {result['split']} split[/bold]",
        highlight=False,
    )
    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(style="bold", justify="right")
    table.add_column(justify="right")
    trained_on = (
        [("trained on", result["trained_forms"])] if result["trained_forms"] != result["forms"] else []
    )
    unknown = [("read as <unk>", f"{result['unknown_chars']:.2%}")] if result["unknown_chars"] > 0 else []
    for label, value in [
        ("corpus / forms", f"{result['corpus']} / {result['forms']}" + (f" / {author}" if author else "")),
        *trained_on,
        ("poems", f"{result['poems']:,}"),
        ("characters evaluated", f"{result['chars']:,}"),
        *unknown,
        *_measures(result),
    ]:
        table.add_row(label, value)
    print_table(table)
    if pseudo:
        console.print(
            "[dim]BiLSTM: each character predicted from both sides (pseudo-likelihood); "
            "not comparable with a causal model's perplexity.[/dim]"
        )
    elif result.get("ppl_condition") == "planned":
        note = (
            UNTITLED_FIRST_NOTE if "ppl_untitled" in result else f"{AS_TRAINED}."
        )  # --as-trained: no untitled row
        console.print(f"[dim]{note}[/dim]", highlight=False)


def _measures(result: dict) -> list[tuple[str, str]]:
    """Loss, bits and perplexity, then the other readings. The model's own measure leads, read with
    nothing given: the rows headed by the as-trained figure gave each poem a plan taken from the
    poem itself, part of the answer (a student's review); `--json` keeps its keys."""
    import math

    if result.get("ppl_condition") != "planned" or "ppl_untitled" not in result:
        return [
            ("loss (nats/char)", f"{result['loss']:.4f}"),
            ("bits/char", f"{result['bits_per_char']:.4f}"),
            (_headline(result), f"{result['ppl']:.2f}"),
            *[
                (CONDITION_LABELS[key], f"{result[key]:.2f}")
                for key in CONDITION_LABELS
                if key in result and key != f"ppl_{result.get('ppl_condition')}"  # the headline, not twice
            ],
        ]
    untitled = result.get("loss_untitled", math.log(result["ppl_untitled"]))  # an older figures file
    return [
        ("loss (nats/char), untitled", f"{untitled:.4f}"),
        ("bits/char, untitled", f"{untitled / math.log(2):.4f}"),
        ("perplexity, untitled", f"{result['ppl_untitled']:.2f}"),
        *[
            (CONDITION_LABELS[key], f"{result[key]:.2f}")
            for key in CONDITION_LABELS
            if key in result and key != "ppl_untitled"
        ],
        ("… as trained (title and plan)", f"{result['ppl']:.2f}"),
    ]


# `runs list` shows training's untitled figure and this command headlines another: each is named.
AS_TRAINED = "as trained: each poem read after its own title and plan"
UNTITLED_FIRST_NOTE = (
    "untitled: nothing given, the model's own measure (what `runs list` shows, there on training's val "
    "sample); a plan is one keyword per line taken from the poem itself, so the rows that read it are "
    "given part of the answer; as trained: its own title and plan."
)


def _headline(result: dict) -> str:
    """The headline perplexity's label, naming what the model read: a model with titles and plans
    is scored as trained, others (and a `runs list` figure) untitled; a BiLSTM's is pseudo."""
    if result["ppl_kind"] == "pseudo":
        return "pseudo-perplexity"
    return "perplexity, as trained" if result.get("ppl_condition") == "planned" else "perplexity, untitled"
