"""One fix to Rich's word wrap, so a help line holding Chinese is not cut to "…" (issue 25, item 14).

`Text.rstrip_end(size)` drops the whitespace a wrapped line carries past `size`, but it measures the
line in characters (`len`) where the size is in terminal cells. A line with wide characters is
shorter in characters than in cells, so its trailing space is kept, the line is one cell too wide,
and a table column (overflow "ellipsis", as Typer's help uses) cuts its last word: at 80 columns
`generate --help` read "藏头诗: each character opens … line". The same method measured in cells
(whitespace is one cell a character, so the crop is still in characters) is applied once, when the
CLI starts; it changes nothing for text without wide characters. Checked at COLUMNS=80 by
tests/test_cli_narrow.py.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text, _re_whitespace


def _rstrip_end(self: Text, size: int) -> None:
    """Remove whitespace beyond `size` cells at the end of the text."""
    excess = cell_len(self.plain) - size
    if excess > 0:
        whitespace = _re_whitespace.search(self.plain)
        if whitespace is not None:
            self.right_crop(min(len(whitespace.group(0)), excess))


def apply() -> None:
    Text.rstrip_end = _rstrip_end  # type: ignore[method-assign]
