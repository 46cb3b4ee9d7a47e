"""Prosody: 平仄 tones and 平水韵 rhyme groups of characters, and a checker for regulated verse.

Everything runs offline from committed tables (data/: the readings and the simplified forms built by
scripts/build_prosody.py, the corpus's rhyme and line-end usage by scripts/build_rhyme_usage.py),
loaded on first use. The public API, used by the CLI, the studio and the composer:

    tones("看") -> frozenset({"平", "仄"})          rhyme_groups("东") -> frozenset({"一东"})
    end_tones("间") -> frozenset({"平"})            (heard at a line end: build_rhyme_usage.py)
    inner_tones("不") -> frozenset({"仄"})          (heard inside a line: build_inner_tones.py)
    group_tone("一东") -> "平"                      group_label("一先") -> "下平一先"
    check_poem(text, form="auto", script="simplified") -> CheckResult (with .to_dict())
    patterns(form, first_line_rhymes=False, loose=False) -> [["平平平仄仄", ...], [...]]
    allowed_tones(candidates, line, position), fits(expected, tones), consistent(candidates, written_tones)
"""

from tangstudio.engine.prosody.checker import (
    CharResult,
    CheckResult,
    LineResult,
    check_poem,
    line_faults,
    split_lines,
)
from tangstudio.engine.prosody.groups import GROUPS, PING_GROUPS, group_class, group_label, group_tone
from tangstudio.engine.prosody.patterns import (
    EITHER,
    PING,
    ZE,
    Variant,
    allowed_tones,
    consistent,
    fits,
    line_pattern,
    loosen,
    patterns,
    variants,
)
from tangstudio.engine.prosody.tables import end_tones, inner_tones, readings, rhyme_groups, tones

__all__ = [
    "EITHER",
    "GROUPS",
    "PING",
    "PING_GROUPS",
    "ZE",
    "CharResult",
    "CheckResult",
    "LineResult",
    "Variant",
    "allowed_tones",
    "check_poem",
    "consistent",
    "end_tones",
    "fits",
    "group_class",
    "group_label",
    "group_tone",
    "inner_tones",
    "line_faults",
    "line_pattern",
    "loosen",
    "patterns",
    "readings",
    "rhyme_groups",
    "split_lines",
    "tones",
    "variants",
]
