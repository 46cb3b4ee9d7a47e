"""The standard 平仄 patterns of 绝句 and 律诗, and what a decoder may put at each position.

Every regulated line is one of four five-character shapes; a seven-character line puts two
characters of the opposite tone in front of one of them:

    仄仄平平仄   平平仄仄平   平平平仄仄   仄仄仄平平     (5)
    平平仄仄平平仄 仄仄平平仄仄平 仄仄平平平仄仄 平平仄仄仄平平 (7)

A line is fixed by two things: the tone of its 2nd character and the tone of its last. Lines then
follow two rules — 对: line 2 of a couplet takes the opposite 2nd tone of line 1; 粘: the first line
of the next couplet takes the same 2nd tone as the line before it — and every even line ends on
平 (the rhyme), every odd line on 仄 except a first line that rhymes. So a poem's pattern has only
two choices: 平起/仄起 (the 2nd tone of line 1) and whether line 1 rhymes: four variants.

The loose rule 一三五不论，二四六分明 frees the odd positions except the last; those positions are
marked 中 ("either") in the loose patterns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tangstudio.engine import forms
from tangstudio.engine.forms import PING, ZE, line_pattern

__all__ = [
    "EITHER",
    "PING",
    "ZE",
    "Variant",
    "allowed_tones",
    "consistent",
    "fits",
    "free_positions",
    "line_pattern",
    "loosen",
    "patterns",
    "shape",
    "variant",
    "variants",
]

EITHER = "中"


def free_positions(length: int) -> frozenset[int]:
    """0-based positions the loose rule leaves free: 1st and 3rd (and 5th) but never the last."""
    return frozenset(i for i in range(0, length - 1, 2))


def loosen(pattern: str) -> str:
    free = free_positions(len(pattern))
    return "".join(EITHER if i in free else t for i, t in enumerate(pattern))


@dataclass(frozen=True, slots=True)
class Variant:
    form: str
    start: str  # 平 (平起) or 仄 (仄起): the tone of line 1's 2nd character
    first_line_rhymes: bool
    lines: tuple[str, ...]  # strict line patterns such as "仄仄平平仄"
    # The same lines with the loose rule's free places as 中: made once, since the decoder reads them
    # at every character (a property here cost more than the model's step).
    loose_lines: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "loose_lines", tuple(loosen(p) for p in self.lines))

    @property
    def name(self) -> str:
        return f"{self.start}起首句{'入' if self.first_line_rhymes else '不入'}韵"


def shape(form: str) -> tuple[int, int]:
    """(lines, characters per line) of a regulated form; TangError for the free form or an unknown name."""
    return forms.get(form).shape()


def variant(form: str, start: str, first_line_rhymes: bool) -> Variant:
    found = forms.get(form)
    return Variant(found.name, start, first_line_rhymes, found.tone_pattern(start, first_line_rhymes))


def variants(form: str, first_line_rhymes: bool | None = None) -> list[Variant]:
    """平起 before 仄起, unrhymed first line before rhymed; `first_line_rhymes` picks one half."""
    rhymes = (False, True) if first_line_rhymes is None else (first_line_rhymes,)
    return [variant(form, start, r) for start in (PING, ZE) for r in rhymes]


def patterns(form: str, first_line_rhymes: bool | None = None, loose: bool = False) -> list[list[str]]:
    """The pattern variants of a form as lists of line strings ("仄仄平平仄", or "中仄中平仄" loose).

    With `first_line_rhymes` given: [平起, 仄起]; without: all four, in `variants` order.
    """
    return [list(v.loose_lines if loose else v.lines) for v in variants(form, first_line_rhymes)]


def fits(expected: str, tones: frozenset[str]) -> bool:
    """A character fits a pattern position if any of its readings does; unknown characters fit."""
    return expected == EITHER or not tones or expected in tones


def allowed_tones(candidates: Sequence[Sequence[str]], line: int, position: int) -> frozenset[str]:
    """Tones allowed at (line, position) by any of the still-possible patterns (0-based indices)."""
    out: set[str] = set()
    for lines in candidates:
        mark = lines[line][position]
        out |= {PING, ZE} if mark == EITHER else {mark}
    return frozenset(out)


def consistent(
    candidates: Sequence[Sequence[str]], written: Sequence[Sequence[frozenset[str]]]
) -> list[list[str]]:
    """The patterns that the tones written so far (per line, per character) still fit.

    A decoder keeps this list as it goes: after each character, drop the patterns it broke, then ask
    `allowed_tones` for the next position.
    """
    return [
        list(lines)
        for lines in candidates
        if all(fits(lines[i][j], t) for i, line in enumerate(written) for j, t in enumerate(line))
    ]
