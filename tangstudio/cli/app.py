"""The Typer application object and the no-subcommand behaviour (launch the studio).

Command modules register themselves on `app` when `tangstudio.cli` imports them. Keep every
module-level import here and in the command modules cheap: `tangstudio --help` must not import
torch or Textual; heavy imports go inside the command functions.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from tangstudio.cli import richfix
from tangstudio.cli.stopping import OutputGone, gone_exit_code, output_gone

richfix.apply()  # Rich's wrap measured a trailing space in characters: help lines lost a word to "…"


class _Group(TyperGroup):
    """The root group: a command whose output vanished (`generate | head -1`) raises `OutputGone`
    past Typer, which would otherwise end it with a silent exit 1; `main()` gives it 141."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if output_gone(exc):
                raise OutputGone(gone_exit_code(exc)) from exc
            raise


app = typer.Typer(
    name="tangstudio",
    cls=_Group,
    help="Train small recurrent networks on the Complete Tang Poems and compose classical Chinese verse.\n\n"
    "Run with no command to open the studio.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def command_group(help_text: str) -> typer.Typer:
    """A group of subcommands (`runs`, `lab`, `corpus`) that, named alone, prints its help and
    exits 0: Click's `no_args_is_help` exits 2, which reads as a usage error to a script."""
    group = typer.Typer(help=help_text, invoke_without_command=True)

    @group.callback()
    def _help_when_alone(ctx: typer.Context) -> None:
        if ctx.invoked_subcommand is None:
            text = ctx.get_help()  # Typer's rich help prints itself and returns ""
            if text:
                typer.echo(text)
            raise typer.Exit()

    return group


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    home: str | None = typer.Option(
        None,
        "--home",
        envvar="TANGSTUDIO_HOME",
        help="Folder for runs, imported corpora and models (default: the platform's user data folder).",
        show_default=False,
    ),
    run: str | None = typer.Option(None, "--run", help="Open the studio on this run."),
    version: bool = typer.Option(
        False, "--version", help="Print the version, the shipped models and their sha256, and exit."
    ),
) -> None:
    if home is None and os.environ.get("TANGSTUDIO_HOME") == "":
        # click reads an empty variable as unset: `TANGSTUDIO_HOME=$WORK tangstudio train` with WORK
        # unset trained in the platform's home, where `--home ""` is refused (a reliability review)
        from tangstudio.engine.errors import TangError

        raise TangError(
            "TANGSTUDIO_HOME is set but empty (an unset variable?): give it a folder, or unset it"
        )
    if home is not None:
        if not home.strip():  # `--home "$H"` with H unset meant the current folder
            from tangstudio.engine.errors import TangError

            source = ctx.get_parameter_source("home")  # Typer's own click: compared by name
            if source is not None and source.name == "ENVIRONMENT":  # TANGSTUDIO_HOME=" "
                raise TangError(
                    "TANGSTUDIO_HOME is blank (an unset variable?): give it a folder, or unset it"
                )
            raise TangError("--home is empty (an unset variable?): give a folder")
        os.environ["TANGSTUDIO_HOME"] = str(Path(home).expanduser())
    if version:
        from tangstudio.engine.version import version_lines

        typer.echo("\n".join(version_lines()))
        raise typer.Exit()
    if home is not None:
        from tangstudio.engine import paths

        paths.home()  # a file or a broken link as the home: every command refuses it alike, at once
    if ctx.invoked_subcommand is None:
        from tangstudio.cli.launch import launch_studio

        launch_studio(run=run)


POEM_HELP = "The poem, e.g. 床前明月光，疑是地上霜。举头望明月，低头思故乡。 (or one line per row), or - to read it from stdin."


def read_poem(argument: str) -> str:
    """`-` reads the poem from stdin, so a file of verse can be piped in (`tangstudio check - < poem.txt`).

    Either way the text passes `typed_text`'s gate: strict UTF-8, no control characters, and at
    most MAX_POEM_CHARS characters (stdin is read only that far), or one line saying why not.
    """
    from tangstudio.engine.typed_text import MAX_POEM_CHARS, check_typed, decode_input

    if argument == "-":
        return decode_input(sys.stdin.buffer.read(MAX_POEM_CHARS * 4 + 1), "the poem on stdin")
    return check_typed(argument, "the poem")
