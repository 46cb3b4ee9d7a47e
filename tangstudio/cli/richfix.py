"""Two fixes to how help is drawn at 80 columns (issue 25, item 14), and Rich's exit on a closed pipe.

1. Rich's word wrap, so a help line holding Chinese is not cut to "…".

`Text.rstrip_end(size)` drops the whitespace a wrapped line carries past `size`, but it measures the
line in characters (`len`) where the size is in terminal cells. A line with wide characters is
shorter in characters than in cells, so its trailing space is kept, the line is one cell too wide,
and a table column (overflow "ellipsis", as Typer's help uses) cuts its last word: at 80 columns
`generate --help` read "藏头诗: each character opens … line". The same method measured in cells
(whitespace is one cell a character, so the crop is still in characters) is applied once, when the
CLI starts; it changes nothing for text without wide characters.

2. Typer (0.28) keeps the single line breaks of a command's docstring after its first paragraph,
so `eval --help` printed the source's 100-column lines re-wrapped at 80: "… compare this with
older" / "models and the 4-gram …". Each such paragraph is unwrapped (its line breaks become
spaces) before Rich wraps it to the terminal, as Typer does for the first paragraph; a paragraph
that starts with Click's "\b" keeps its lines.

3. Below 60 columns Typer's option table has no room: its option column cut --acrostic to
"--acrost…" and --no-planner to "--no-pl…" at 50. There a command's help is a plain list of our
own: the usage and each option's names on lines of their own, each description under its names,
all wrapped in terminal cells (a group's list of commands stays Rich's, which wraps it well).

All are checked by tests/test_cli_narrow.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Callable
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text, _re_whitespace

RICH_HELP_MIN_WIDTH = 60


def _rstrip_end(self: Text, size: int) -> None:
    """Remove whitespace beyond `size` cells at the end of the text."""
    excess = cell_len(self.plain) - size
    if excess > 0:
        whitespace = _re_whitespace.search(self.plain)
        if whitespace is not None:
            self.right_crop(min(len(whitespace.group(0)), excess))


def _fix_linebreaks(paragraphs: list[str], markup_mode: str) -> str:
    """Typer's `_fix_linebreaks`, with each paragraph's single line breaks joined (not Markdown)."""
    if markup_mode == "markdown":
        return "\n\n".join(paragraphs)
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.split("\n")) for p in paragraphs)


def _fix_typer_help() -> None:
    """Put `_fix_linebreaks` into Typer's rich_utils, which is imported here and not at start-up:
    it pulls in rich.markdown (about 0.15 s), and only a help page needs it."""
    try:
        from typer import rich_utils
    except ImportError:  # pragma: no cover - Typer without Rich help
        return
    if hasattr(rich_utils, "_fix_linebreaks"):
        rich_utils._fix_linebreaks = _fix_linebreaks


def _fixing_first(format_help: Callable[..., None], plain: Callable[..., None] | None) -> Callable[..., None]:
    def format_help_fixed(self: Any, ctx: Any, formatter: Any) -> None:
        if plain is not None and _help_width() < RICH_HELP_MIN_WIDTH:
            plain(self, ctx, formatter)
            return
        _fix_typer_help()
        format_help(self, ctx, formatter)

    return format_help_fixed


def _narrow_help(command: Any, ctx: Any, formatter: Any) -> None:
    """A command's help for a narrow terminal: each option's names on a line of their own and its
    description under them, wrapped in terminal cells (Click's plain help counts characters, so
    a line holding Chinese ran past the edge)."""
    width = _help_width()
    usage = f"Usage: {ctx.command_path} {' '.join(command.collect_usage_pieces(ctx))}"
    lines = [*_wrapped(usage, width, indent=0, hang=2), ""]
    for paragraph in _fix_linebreaks((command.help or "").split("\n\n"), "rich").split("\n\n"):
        lines += [*_wrapped(paragraph.replace("\b", "").strip(), width, indent=2), ""]
    for title, wanted in (("Arguments:", False), ("Options:", True)):
        records = [
            r
            for param in command.get_params(ctx)
            if (param.param_type_name == "option") == wanted and (r := _help_record(param, ctx)) is not None
        ]
        if records:
            lines.append(title)
            for names, text in records:
                lines += [*_wrapped(names, width, indent=2), *_wrapped(text, width, indent=6)]
            lines.append("")
    formatter.write("\n".join(lines))


def _help_record(param: Any, ctx: Any) -> tuple[str, str] | None:
    """(names, description) as Click writes them; an argument by its name and Typer's help."""
    if param.param_type_name == "option":
        return None if param.hidden else param.get_help_record(ctx)
    help_text = (getattr(param, "help", None) or "") + ("  [required]" if param.required else "")
    return None if getattr(param, "hidden", False) else (param.name, help_text.strip())


def _wrapped(text: str, width: int, indent: int, hang: int = 0) -> list[str]:
    """`text` wrapped in terminal cells to `width`, every line indented by `indent` and the lines
    after the first by `hang` more (a usage line's continuation)."""
    if not text:
        return []
    room = max(width - indent - hang, 8)
    lines = [line.plain.rstrip() for line in Text(text).wrap(Console(width=room), room)]
    return [" " * (indent + (hang if k else 0)) + line for k, line in enumerate(lines)]


def _help_width() -> int:
    """The width Rich would draw help at: COLUMNS when set, else the terminal's (80 in a pipe)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        return shutil.get_terminal_size((80, 24)).columns


def _on_broken_pipe(self: Console) -> None:
    """Rich's own, with the exit code of every other command whose reader left (141, SIGPIPE):
    `tangstudio --help | head -1` exited 1, which reads as a failure to a script."""
    self.quiet = True
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(128 + signal.SIGPIPE)


def apply() -> None:
    Text.rstrip_end = _rstrip_end  # type: ignore[method-assign]
    Console.on_broken_pipe = _on_broken_pipe  # type: ignore[method-assign]
    from typer import core

    for command_class in (core.TyperCommand, core.TyperGroup):
        # A command's options go plain when narrow; a group's list of commands wraps well in Rich,
        # and Click's would cut each description to "...".
        plain = _narrow_help if command_class is core.TyperCommand else None
        command_class.format_help = _fixing_first(command_class.format_help, plain)  # type: ignore[method-assign]
