"""Simplified/traditional conversion through OpenCC.

Converting 57k poems one call at a time costs seconds; joining them with control characters that
OpenCC leaves alone and converting once costs a few hundred milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tangstudio.engine.errors import TangError
from tangstudio.engine.typed_text import listed

if TYPE_CHECKING:
    import opencc

SCRIPTS = ("simplified", "traditional")
_CONFIG = {("traditional", "simplified"): "t2s", ("simplified", "traditional"): "s2t"}


def other_script(script: str) -> str:
    return next(s for s in SCRIPTS if s != script)


def check_script(script: str) -> str:
    if script not in SCRIPTS:
        raise TangError(f"unknown script {script!r}; choose simplified or traditional")
    return script


def refuse_unknown(text: str, vocab: Any, what: str) -> None:
    """Characters missing from `vocab`: one line naming them, and the fix if a script change helps.

    Torch-free, so both constraints.check_chars and the numpy scorer (fast_model) use it.
    """
    unknown = vocab.unknown_chars(text)
    if not unknown:
        return
    raise TangError(
        f"{what} has characters not in the model's vocabulary: {listed(unknown)}{script_hint(text, vocab)}"
    )


def in_vocab_script(text: str, vocab: Any) -> str:
    """`text` in the vocabulary's script where that mends it (風 typed to a simplified model: 风):
    converted when the other script's spelling leaves fewer of its Chinese characters unknown and
    adds none (a poem on two lines, "風,秋" or a rare 龘 beside it stayed unconverted when every
    character had to be known); otherwise as it is, for the caller to refuse with `refuse_unknown`'s hint."""
    from tangstudio.engine.hanzi import is_han

    def unknown(t: str) -> set[str]:
        return {c for c in vocab.unknown_chars(t) if is_han(c)}

    missing = unknown(text) if text else set()
    if not missing:
        return text
    converted = convert(text, other_script(vocab.script), vocab.script)
    if len(converted) == len(text):  # only the unknown characters change: 咸 known stays 咸, not 鹹
        converted = "".join(new if old in missing else old for old, new in zip(text, converted))
    still = unknown(converted)
    return converted if len(still) < len(missing) and still <= missing else text


def script_hint(text: str, vocab: Any) -> str:
    """ "; the model writes simplified characters: try '风'" when the other script's spelling of
    `text` is all in `vocab` (typed 風 to a simplified model is a script slip, not a gap); the
    characters it mends when it mends only some; else ""."""
    other = other_script(vocab.script)
    converted = convert(text, other, vocab.script)
    if converted != text and not vocab.unknown_chars(converted):
        return f"; the model writes {vocab.script} characters: try {converted!r}"
    # Some of them only (鬱 beside a 龘 no script has): name the ones a change of script mends.
    mended = [(c, convert(c, other, vocab.script)) for c in vocab.unknown_chars(text)]
    mended = [(c, m) for c, m in mended if m != c and not vocab.unknown_chars(m)]
    if mended:
        said = ", ".join(f"{c} is {m!r}" for c, m in mended)
        return f"; the model writes {vocab.script} characters, where {said}"
    return ""


@lru_cache(maxsize=4)
def _converter(config: str) -> opencc.OpenCC:
    import opencc

    return opencc.OpenCC(config)


def convert(text: str, source: str, target: str) -> str:
    if source == target:
        return text
    converted: str = _converter(_CONFIG[(source, target)]).convert(text)
    return converted


def labels_in(script: str, kept: str = "") -> Callable[[str], str]:
    """The tables' words (五言律诗, 一东, 对仗 …) in `script`, the characters of `kept` (the poem's
    own) left as they are: what `check` and the studio say about a traditional poem."""
    return lambda text: convert_around(text, kept, "simplified", script)


def convert_around(text: str, kept: str, source: str, target: str) -> str:
    """`text` converted except the characters in `kept`, left as they are: a note about a poem in
    traditional script names its characters (東 is 一东) beside the tables' words, and converting
    the poem's own 里 or 后 (鄉里, 皇后) would make them 裏 and 後."""
    if source == target:
        return text
    runs, start = [], 0
    for i, char in enumerate(text):
        if char in kept:
            runs += [convert(text[start:i], source, target), char]
            start = i + 1
    return "".join([*runs, convert(text[start:], source, target)])


def convert_many(texts: list[str], source: str, target: str) -> list[str]:
    if source == target or not texts:
        return list(texts)
    joined = "\x1d".join(texts)
    out = convert(joined, source, target).split("\x1d")
    if len(out) != len(texts):  # never expected; fall back rather than misalign poems
        return [convert(t, source, target) for t in texts]
    return out


def guess_script(sample: str) -> str:
    """`simplified` when OpenCC's t2s leaves the text as it is."""
    return "simplified" if convert(sample, "traditional", "simplified") == sample else "traditional"
