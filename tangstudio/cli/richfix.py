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

Both are checked at COLUMNS=80 by tests/test_cli_narrow.py.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text, _re_whitespace


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


def _fixing_first(format_help: Callable[..., None]) -> Callable[..., None]:
    def format_help_fixed(self: Any, ctx: Any, formatter: Any) -> None:
        _fix_typer_help()
        format_help(self, ctx, formatter)

    return format_help_fixed


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
        command_class.format_help = _fixing_first(command_class.format_help)  # type: ignore[method-assign]
