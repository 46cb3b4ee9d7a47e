"""Which options the user gave: one answer for every command, from Click's record of each value's source.

On `--resume` only the options the user typed may differ from the stored run (a budget, the log
cadence), so a default must never count as a choice. Click knows where each value came from;
asking it replaces guessing from `None` defaults or from `sys.argv`.
"""

from __future__ import annotations

from collections.abc import Iterable

import typer

# By name: Typer vendors its own copy of Click, whose ParameterSource is another enum class.
TYPED = frozenset({"COMMANDLINE", "ENVIRONMENT"})


def given_options(ctx: typer.Context, names: Iterable[str] | None = None) -> set[str]:
    """The parameters of this command set on the command line (or by an environment variable)."""
    wanted = set(names) if names is not None else set(ctx.params)
    given = set()
    for name in wanted:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name in TYPED:
            given.add(name)
    return given


MODEL_OPTION_HELP = "The same as the argument, as generate and score take it (-m/--model)."


def one_model(argument: str | None, option: str | None, default: str | None, command: str) -> str:
    """The model a command reads, given as its argument or as -m/--model: `eval --model t1` was "No
    such option" while generate and score take only the option (an engineer's review)."""
    from tangstudio.engine.errors import TangError

    if argument is not None and option is not None and argument != option:
        raise TangError(f"two models given, {argument!r} and --model {option!r}: give one")
    chosen = option if option is not None else argument if argument is not None else default
    if chosen is None:
        raise TangError(f"give the model to read: `tangstudio {command} default`, a run name or a folder")
    return chosen
