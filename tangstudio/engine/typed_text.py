"""Text a person gives the program (a poem to check or score, a prefix, an acrostic): the gate it passes.

Both faces hand such text to the engine, which must either work on it or refuse it in one line.
So before any of it is processed: it is bounded in length (a 1 MB "poem" would cost seconds and
gigabytes further in, for no poem is that long), and it may hold no control characters and no
lone surrogates (what Python makes of bytes that are not UTF-8 in argv), which would otherwise
reach the terminal raw in an error message or break printing it. `printable` is the other half:
any message that echoes what a person typed shows control characters as escapes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from tangstudio.engine.errors import TangError

# Longer than any of the 57,607 poems of the bundled corpus (the longest has 2,980 characters);
# scoring 19,200 characters took 317 s and 2.5 GB with the default model, checking 1 MB 13 s.
MAX_POEM_CHARS = 5_000
ALLOWED_CONTROLS = frozenset("\n\r\t")  # rows of a poem typed one line per row
# Format characters that reorder or hide text on a terminal (bidi overrides and isolates).
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unsafe(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category in ("Cc", "Cs") or ch in _BIDI


# In a message, also what splits or hides a line without being a control character (issue 26):
# line and paragraph separators (U+2028, U+2029: a second line for anything that splits lines),
# invisible format characters (U+200B, U+FEFF, joiners) and combining marks (which fuse with the
# character before them, so a quoted "x\u0301" shows as something else).
_HIDDEN = frozenset(("Zl", "Zp", "Cf", "Mn", "Me"))


def _escaped(ch: str) -> bool:
    return _unsafe(ch) or (ord(ch) > 0x7F and unicodedata.category(ch) in _HIDDEN)


def printable(text: str) -> str:
    """`text` with control characters, lone surrogates, bidi overrides, line separators, invisible
    format characters and combining marks written as escapes: what a message quotes stays one
    visible line."""
    if text.isascii() and text.isprintable():
        return text
    if not any(_escaped(ch) for ch in text):
        return text
    out = []
    for ch in text:
        if not _escaped(ch):
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out)


def listed(chars: Iterable[str]) -> str:
    """Characters a message names, each once, in the order they were typed and apart ("h, e, l, o"):
    joined, de-duplicated and sorted they read as another word ('helo', 'ehlo') that the person never
    typed. A space or an invisible character shows as its escape."""
    shown = []
    for ch in dict.fromkeys(chars):
        visible = printable(ch)
        shown.append(visible if visible == ch and not ch.isspace() else repr(ch))
    return ", ".join(shown)


def check_typed(text: str, what: str, limit: int = MAX_POEM_CHARS) -> str:
    """`text` when it is at most `limit` characters of real text, else one line saying why not."""
    if not isinstance(text, str):
        raise TangError(f"{what} must be text, got {type(text).__name__}")
    if len(text) > limit:
        raise TangError(f"{what} is {len(text):,} characters long; at most {limit:,} are accepted")
    for ch in text:
        if unicodedata.category(ch) == "Cs":
            raise TangError(f"{what} is not valid UTF-8 text")
        if _unsafe(ch) and ch not in ALLOWED_CONTROLS:
            raise TangError(f"{what} holds a control character ({printable(ch)}); type only the verse")
    return text


def decode_input(data: bytes, what: str, limit: int = MAX_POEM_CHARS) -> str:
    """Bytes read from stdin or a file as checked text: strict UTF-8 (a BOM is dropped), bounded."""
    if len(data) > limit * 4:  # UTF-8 needs at most 4 bytes a character
        raise TangError(f"{what} is more than {limit:,} characters long; at most {limit:,} are accepted")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TangError(f"{what} is not UTF-8 text (byte {exc.start:,} is 0x{data[exc.start]:02x})") from None
    return check_typed(text, what, limit)
