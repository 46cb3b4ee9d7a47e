"""The regulated-verse checker: what holds and what is broken, line by line and character by character.

Rules checked, for 绝句 and 律诗:
- shape: 4 or 8 lines of 5 or 7 characters (an explicit form with the wrong shape is bad input);
- rhyme: the even lines end on 平 characters sharing one 平水韵 group; line 1 may rhyme too;
- tones: the poem fits one of the four pattern variants (`patterns.py`), loosely (一三五不论) or
  strictly (every position as in the standard line); a 平平平仄仄 line may take its accepted form
  平平仄平仄 (仄仄平平仄平仄 in seven characters);
- warnings: 孤平 (a rhyming line whose last five characters hold a single 平 before the rhyme, not
  next to it: 仄平仄仄平), 三平尾 (a line ending on three 平 characters), and a 仄 line end on a
  character the Tang poets end lines on as 平 (间, 中: prosody.end_tones), which a reader hears 平.

A character with readings in both tone classes counts as either; one with no known reading fits
anything and is reported as unknown, so a gap in the tables never looks like a broken rule.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from tangstudio.engine import forms
from tangstudio.engine.errors import TangError
from tangstudio.engine.hanzi import CLAUSE_END, LOST, is_han
from tangstudio.engine.prosody.groups import GROUPS, group_tone
from tangstudio.engine.prosody.patterns import (
    EITHER,
    PING,
    ZE,
    Variant,
    fits,
    free_positions,
    line_pattern,
    variants,
)
from tangstudio.engine.prosody.tables import (
    end_tones,
    judged_tones,
    neighbours,
    rhyme_groups,
    rhyming_groups,
    tones,
)

__all__ = [
    "LOST",
    "CharResult",
    "CheckResult",
    "LineResult",
    "check_poem",
    "is_han",
    "resolve_form",
    "split_lines",
]

# Clause breaks: the corpus's full-width marks, their ASCII look-alikes, and white space.
_BREAK = re.compile(f"[{CLAUSE_END}.,;:!?\\s]+")
_QUOTES = str.maketrans("", "", "「」『』“”‘’《》\"'（）()")
_GROUP_ORDER = {g: i for i, g in enumerate(GROUPS)}


def split_lines(text: str) -> list[str]:
    """Lines of a poem typed any reasonable way: full-width or ASCII punctuation, or one per line."""
    lines = [line for line in _BREAK.split(text.translate(_QUOTES)) if line]
    if not lines:
        raise TangError("empty poem: give its lines, e.g. 床前明月光，疑是地上霜。举头望明月，低头思故乡。")
    for line in lines:
        for ch in line:
            if not (
                is_han(ch) or ch == LOST or 0xE000 <= ord(ch) <= 0xF8FF
            ):  # PUA: rare hanzi in old corpora
                raise TangError(
                    f"not Chinese: {ch!r} in {line!r}; a poem is Chinese characters and punctuation"
                )
    return lines


def resolve_form(lines: list[str], form: str) -> str:
    """`auto` names the form by shape (`free` if none fits); an explicit form must fit its shape.

    Any spelling the registry reads is taken (`other`, `七绝`, `七言绝句`); the name returned is its own.
    """
    lengths = [len(line) for line in lines]
    if form == "auto":
        return forms.by_shape(lengths).name
    found = forms.find(form)
    if found is None:
        raise TangError(f"unknown form {form!r}; choose auto, {', '.join(forms.NAMES)}")
    if found.regulated and not found.fits(lengths):
        got = ", ".join(map(str, lengths))
        raise TangError(
            f"{found.name} needs {found.lines} lines of {found.chars} characters; got {len(lines)} "
            f"line{'' if len(lines) == 1 else 's'} of {got}"
        )
    return found.name


@dataclass
class CharResult:
    char: str
    tones: list[str]  # sorted, e.g. ["仄", "平"]; empty if unknown
    expected: str | None = None  # 平 / 仄 of the strict pattern; None outside regulated forms
    free: bool = False  # the loose rule leaves this position free
    ok: bool = True  # fits the strict pattern (or is unknown)
    kind: str | None = (
        None  # None | "tone" (breaks the loose rule) | "strict" (only the strict one) | "unknown"
    )

    @property
    def mark(self) -> str:
        """One full-width cell: 平, 仄, 中 (both readings) or ？ (unknown)."""
        return {1: self.tones[0] if self.tones else "？", 2: EITHER}.get(len(self.tones), "？")


@dataclass
class LineResult:
    text: str
    chars: list[CharResult]
    pattern: str | None = None  # strict pattern of the chosen variant
    loose_pattern: str | None = None
    groups: list[str] = field(default_factory=list)  # 平水韵 groups of the last character
    rhyme_position: bool = False  # an even line, or line 1 of a variant whose first line rhymes
    rhymes: bool | None = None  # ends in the poem's rhyme group (None where no rhyme is due)
    warnings: list[str] = field(default_factory=list)  # "孤平", "三平尾"
    # places that fit only in a reading no poet gives there (不 read 平): not strict, as the poem's
    # verdict says (a review found every line strict_ok beside a poem's strict ✗)
    heard_off: int = 0

    @property
    def loose_ok(self) -> bool:
        return all(c.kind != "tone" for c in self.chars)

    @property
    def strict_ok(self) -> bool:
        return all(c.ok for c in self.chars) and not self.heard_off


@dataclass
class CheckResult:
    text: str
    form: str
    script: str
    lines: list[LineResult]
    form_ok: bool
    rhyme_ok: bool
    rhyme_group: str | None
    first_line_rhymes: bool
    tones_loose_ok: bool
    tones_strict_ok: bool
    variant: str | None  # e.g. "仄起首句不入韵"; "平起首句出韵": the 入韵 pattern, line 1 off the rhyme
    warnings: list[str]  # human-readable, e.g. "line 3: 孤平"
    # With no 平 rhyme: the 仄 group every even line ends in, if one does (a 仄韵 poem such as 柳宗元's
    # 江雪 rhymes, but on 仄, which regulated verse does not: rhyme_ok stays False).
    ze_rhyme: str | None = None

    @property
    def ok(self) -> bool:
        return self.form_ok and self.rhyme_ok and self.tones_loose_ok

    @property
    def faults(self) -> list[str]:
        """孤平, 三平尾 and 重韵, faults of 律 in their own right (a poet's review): "line 2: 孤平",
        "重韵: 「长」 ends lines 1 and 4". They do not change `ok` (the 二四六 rule), and `check` and
        `generate` name them in their verdict lines."""
        return [w for w in self.warnings if fault_name(w)]

    @property
    def broken(self) -> list[str]:
        """Each place the 二四六 rule breaks, in words: "line 4, character 4: 古 is 仄, the pattern
        wants 平" (what `check` lists without colour)."""
        return [
            f"line {i}, character {j}: {c.char} is {'/'.join(c.tones)}, the pattern wants {c.expected}"
            for i, line in enumerate(self.lines, 1)
            for j, c in enumerate(line.chars, 1)
            if c.kind == "tone"
        ]

    @property
    def reasons(self) -> list[str]:
        """Why `ok` is False, in words (none when it is True): `check --json` said ok false with only
        the faults beside it, which do not include a broken tone (an engineer's review)."""
        if self.ok:
            return []
        if not self.form_ok:
            return [w for w in self.warnings[:1]] or ["not a regulated form: only regulated verse passes"]
        out = list(self.broken) + [w for w in self.warnings if "失粘" in w or "失对" in w]
        if not self.rhyme_ok:
            out += [w for w in self.warnings if "出韵" in w and "首句" not in w] or [
                "the even lines do not rhyme in one 平 group"
            ]
        if self.ze_rhyme:
            out.append(f"it rhymes on 仄 ({self.ze_rhyme}): regulated verse rhymes on 平")
        return out

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data: asdict's nesting, plus each line's and character's marks."""
        data = asdict(self)
        for line, raw in zip(self.lines, data["lines"]):
            raw["loose_ok"], raw["strict_ok"] = line.loose_ok, line.strict_ok
            for ch, raw_ch in zip(line.chars, raw["chars"]):
                raw_ch["mark"] = ch.mark
        data["ok"] = self.ok
        data["reasons"] = self.reasons
        data["faults"] = self.faults
        return data


# faults of 律 named beside the 二四六 verdict, not in it; 首句出韵 too, which `generate` showed as
# "rhyme ✓" when a prefix made it (a poet's review)
FAULTS = ("孤平", "三平尾", "重韵", "首句出韵")


def fault_name(warning: str) -> str | None:
    """The fault of FAULTS a warning names ("line 2: 孤平", "重韵: 「长」 ends lines 1 and 4"), else
    None: one reading of the warnings for `faults`, `check`'s verdict line and `generate`'s header."""
    if warning.startswith("重韵"):
        return "重韵"
    if warning.startswith("line 1: 首句出韵"):  # "line 1: 首句出韵 — it ends on 平 …"
        return "首句出韵"
    named = warning.rsplit(": ", 1)[-1]
    return named if named in FAULTS else None


def _sorted_groups(groups: Iterable[str]) -> list[str]:
    return sorted(groups, key=_GROUP_ORDER.__getitem__)


def _choose_rhyme(ends: list[frozenset[str]], first: frozenset[str]) -> tuple[str | None, int]:
    """The 平 group shared by most even-line endings. Ties: line 1's group, then the group the
    earliest even line sets (登鹳雀楼 with 楼 changed to 台 rhymes in 流's 十一尤, and line 4 is the
    one out of it, not line 2), then table order."""
    counts = Counter(g for groups in ends for g in groups if group_tone(g) == PING)
    if not counts:
        return None, 0
    best = max(counts.values())
    tied = _sorted_groups(g for g, n in counts.items() if n == best)
    for preferred in (first, *ends):
        found = next((g for g in tied if g in preferred), None)
        if found is not None:
            return found, best
    return tied[0], best


# The one accepted variant of a regulated line (特定格式, "特拗"): 平平平仄仄 may be written
# 平平仄平仄, the 3rd and 4th tones swapped, provided its 1st is 平 (杜甫 何时倚虚幌, 孟浩然
# 移舟泊烟渚); in a seven-character line, 仄仄平平仄平仄 with its 3rd 平. It is a 律句, not a
# fault: the handbooks (王力《汉语诗律学》) count it with the standard lines.
_SWAPPED = {"平平平仄仄": "平平仄平仄"}


def _breaks(pattern: str, line: list[frozenset[str]], free: frozenset[int]) -> tuple[int, int]:
    strict = [j for j, (expected, t) in enumerate(zip(pattern, line)) if not fits(expected, t)]
    return sum(j not in free for j in strict), len(strict)


def _judged(
    pattern: str, line: list[frozenset[str]], heard: list[frozenset[str]] | None = None
) -> tuple[str, frozenset[int]]:
    """The pattern a line is judged by, with the positions the loose rule frees: the standard one,
    or its 平平仄平仄 form when the line fits that better (its core then has no free place).

    "Better": fewer loose breaks with every reading (the verdict), then as a reader hears it
    (`heard`: prosody.inner_tones), then fewer strict breaks. 何人去不得 passes either way and is
    read 平平平仄仄 with 去 free and 不 仄, not the swapped form only 不 read 平 would give it."""
    free = free_positions(len(pattern))
    head, core = pattern[:-5], pattern[-5:]
    if core not in _SWAPPED:
        return pattern, free
    swapped = head + _SWAPPED[core]
    swapped_free = frozenset(free - set(range(len(head), len(pattern))))
    ear = heard if heard is not None else line

    def fit(p: str, f: frozenset[int]) -> tuple[int, int, int]:
        loose, strict = _breaks(p, line, f)
        return loose, _breaks(p, ear, f)[0], strict

    return (swapped, swapped_free) if fit(swapped, swapped_free) < fit(pattern, free) else (pattern, free)


def _score(
    variant: Variant,
    char_tones: list[list[frozenset[str]]],
    first_rhymes: bool,
    heard: list[list[frozenset[str]]] | None = None,
) -> tuple[int, int, int]:
    loose = strict = 0
    for k, (pattern, line) in enumerate(zip(variant.lines, char_tones)):
        judged, free = _judged(pattern, line, heard[k] if heard is not None else None)
        line_loose, line_strict = _breaks(judged, line, free)
        loose += line_loose
        strict += line_strict
    return loose, strict, int(variant.first_line_rhymes != first_rhymes)


def _preference(score: tuple[int, int, int]) -> tuple[int, int, int]:
    loose, strict, first_line_mismatch = score
    return loose, first_line_mismatch, strict


def _variant_name(chosen: Variant | None, off_first: bool, borrowed: bool, rhyme: str | None) -> str | None:
    """The pattern's name, saying what line 1 really does: 入韵, 不入韵, 借邻韵 or 出韵. 平起 or 仄起
    is the start of the pattern line 1 is judged by, shown under it: named by line 1's heard 2nd
    character instead, 故人西辞黄鹤楼 (人 平, judged 仄仄平平仄仄平 with 人 ✗) read "平起" above "人 is
    平, the pattern wants 仄" (a poet's review). 登高 with its couplets swapped, named 平起 though 急 is
    仄 (an earlier review), is judged couplet by couplet now (`_relaid`), line 1 by 仄起."""
    if chosen is None:
        return None
    start = chosen.start
    if borrowed:
        return f"{start}起首句借邻韵"
    if off_first:
        return f"{start}起首句出韵" if rhyme is not None else f"{start}起"
    return f"{start}起{chosen.name.removeprefix(chosen.start + '起')}"


def _repeated_rhymes(lines: list[str], results: list[LineResult]) -> list[str]:
    """重韵: one character rhyming twice (光 ending lines 2 and 4), a fault of regulated verse."""
    ends: dict[str, list[int]] = {}
    for i, (line, result) in enumerate(zip(lines, results)):
        if result.rhyme_position and line[-1] != LOST:
            ends.setdefault(line[-1], []).append(i + 1)
    return [
        f"重韵: 「{char}」 ends lines {', '.join(map(str, at[:-1]))} and {at[-1]}"
        for char, at in ends.items()
        if len(at) > 1
    ]


def _rare_readings_inside(
    line: str,
    line_tones: list[frozenset[str]],
    heard: list[frozenset[str]],
    pattern: str,
    free: frozenset[int],
) -> list[tuple[int, str]]:
    """Where a line passes only in a reading the poets almost never give a character inside a
    line (不 as 平 fǒu, 吟 as 仄: prosody.inner_tones), as a reader hears the line (`heard`): the
    verdict keeps the reading (it exists), the warning says what a reader hears."""
    return [
        (j, _unheard(ch, pattern[j], heard[j]))
        for j, (ch, t) in enumerate(zip(line[:-1], line_tones))
        if j not in free and len(t) > 1 and pattern[j] not in heard[j]
    ]


def _unheard(ch: str, wanted: str, heard: frozenset[str]) -> str:
    return (
        f"「{ch}」 read {wanted} here, but the Tang poets use it inside a line as {'/'.join(sorted(heard))}"
    )


def _rescued(
    i: int, patterns: tuple[str, ...], heard: list[list[frozenset[str]]], lines: list[str]
) -> str | None:
    """对句相救, the one 拗救 across a couplet: a first line of 仄仄平平仄 shape (平平仄仄平平仄 in seven)
    whose 4th (6th) character is 仄 as heard, 仄仄平仄仄 or 仄仄仄仄仄, answered by 平 at the 3rd (5th)
    place of its second line, 平平平仄平 (王力《汉语诗律学》). 杜牧's 南朝四百八十寺，多少楼台烟雨中
    got a bare ✗ at 十 (a poet's review). The message, or None where line i is no such line."""
    if i % 2 or i + 1 >= len(lines):
        return None
    first, second = patterns[i], patterns[i + 1]
    if first[-5:] != "仄仄平平仄" or second[-5:] != "平平仄仄平":
        return None
    if heard[i][-2] != frozenset({ZE}) or PING not in heard[i + 1][-3]:
        return None
    n = len(lines[i])
    return (
        f"拗救 — 「{lines[i][-2]}」 is 仄 at character {n - 1}, where 平 is due, and line {i + 2}'s "
        f"「{lines[i + 1][-3]}」, 平 at character {n - 2}, answers it (对句相救)"
    )


def line_faults(line: list[frozenset[str]], rhyming: bool) -> list[str]:
    """孤平 and 三平尾, flagged only when no choice among the given readings avoids them. `check`
    gives each character as heard inside a line (空 平, 不 仄: tables.inner_tones), so 白云千载空悠悠
    is 三平尾, as every handbook says, where every reading of 空 (kòng 仄 too) had hidden it (a
    poet's review); the composer asks it too, before it ends a line on 平 (constraints._fault_guard)."""
    out = []
    core = line[-5:]
    if rhyming:
        can_ping = [i for i, t in enumerate(core[:4]) if PING in t or not t]
        if len(can_ping) == 1 and can_ping[0] != 3:
            out.append("孤平")
    # At a 平 rhyme the last character is heard in its 平 reading (更上千层看: kān), so only the
    # two before it need to be 平 alone.
    tail = [*line[-3:-1], frozenset({PING}) if rhyming and PING in line[-1] else line[-1]]
    if len(line) >= 3 and all(t == {PING} for t in tail):
        out.append("三平尾")
    return out


def _unstuck(lines: list[str], heard: list[list[frozenset[str]]]) -> list[tuple[int, str]]:
    """失对 and 失粘, named where they are. A couplet's second line opposes its first at the 2nd
    character (对), and the next couplet's first line sticks to the line before it (粘). Where they
    do not, no one pattern fits the poem and the breaks fall on the lines after it (渭城曲's line 4
    read as broken, though it answers line 3 rightly). A line that 失对 is named, not the next line
    that sticks to it (白日依山尽，远树隔烟流: line 2 broke, line 3 did not; a poet's review). Only
    characters of one reading as heard decide."""
    found, opposed = [], True
    for i in range(1, len(lines)):
        before, now = heard[i - 1][1], heard[i][1]
        if len(before) != 1 or len(now) != 1:
            opposed = True
            continue
        tone, prior = next(iter(now)), next(iter(before))
        if i % 2 == 1:  # a couplet's second line
            opposed = tone != prior
            if not opposed:
                found.append(
                    (
                        i,
                        f"line {i + 1}: 失对 — its 2nd character {lines[i][1]} is {tone}, as line {i}'s "
                        f"{lines[i - 1][1]} is: a couplet's second line opposes its first",
                    )
                )
        elif tone != prior and opposed:
            found.append(
                (
                    i,
                    f"line {i + 1}: 失粘 — its 2nd character {lines[i][1]} is {tone}, but line {i}'s "
                    f"{lines[i - 1][1]} is {prior}: a couplet's first line sticks to the line before it",
                )
            )
    return found


def _relaid(
    chosen: Variant,
    char_tones: list[list[frozenset[str]]],
    heard: list[list[frozenset[str]]],
    unstuck: set[int],
) -> Variant:
    """The patterns a poem that 失粘 or 失对 is judged by: line 1 by the chosen pattern or its own 2nd
    character, whichever fits it better, each later line by 对 and 粘 from the line before it; a line
    named for breaking them, and the line after it, may start afresh from its own 2nd character
    where that fits it better (`check_poem` keeps the whole only where it marks no more places). One pattern for the whole poem measured
    correct lines against the wrong shape: 江上秋风起 got two ✗ when line 3 was the one that 失粘,
    and 渭城曲 five (a poet's review). A line one character off its chain (碧山东流至北回, 山 for 水)
    keeps the chain's pattern: the ✗ then falls on that character. The fault is named once, by
    `_unstuck`."""
    length = len(chosen.lines[0])

    def own(i: int) -> list[str]:  # the line's own 2nd tones as heard (both, for 为 or 看)
        return sorted(heard[i][1]) if len(heard[i]) > 1 else []

    def fit(i: int, second: str) -> tuple[int, int, int]:
        pattern, free = _judged(line_pattern(length, second, chosen.lines[i][-1]), char_tones[i], heard[i])
        loose, strict = _breaks(pattern, char_tones[i], free)
        return loose, _breaks(pattern, heard[i], free)[0], strict

    # The line after a named one may start afresh too: after a 失对 (远树隔烟流) the poem may go back
    # to its first chain (欲穷千里目), which `_unstuck` does not name; chained from the broken line,
    # its correct lines were ✗ (a review). Ties keep the chain.
    afresh = unstuck | {i + 1 for i in unstuck}
    seconds = [min([chosen.start, *own(0)], key=lambda second: fit(0, second))]
    for i in range(1, len(chosen.lines)):
        chained = seconds[-1] if i % 2 == 0 else (PING if seconds[-1] == ZE else ZE)
        seconds.append(min([chained, *(own(i) if i in afresh else [])], key=lambda second: fit(i, second)))
    lines = tuple(line_pattern(length, second, p[-1]) for second, p in zip(seconds, chosen.lines))
    return Variant(chosen.form, seconds[0], chosen.first_line_rhymes, lines)


_TITLE = re.compile(r"^\s*《([^》]+)》")


def _title_set_aside(text: str) -> tuple[list[str], list[str]]:
    """What a person pasted above the poem (its title, an author), and the poem's lines: 《登鹳雀楼》
    before the first line (a title with · in it too), then a first line of another length above 4 or
    8 lines of one regulated length. Read as a line, it made the poem free verse (a poet's review).
    Only for a person's text (`check`): a composed 古体 of that shape keeps its first line."""
    aside = []
    quoted = _TITLE.match(text)
    if quoted:
        aside.append(quoted.group(1).strip())
        text = text[quoted.end() :]
    lines = split_lines(text)
    body = lines[1:]
    regular = len(body) in (4, 8) and len({len(line) for line in body}) == 1 and len(body[0]) in (5, 7)
    if regular and len(lines[0]) != len(body[0]):
        aside.append(lines[0])
        lines = body
    return aside, lines


def _unpunctuated_shape(lines: list[str], form: str) -> list[str] | None:
    """A poem typed without a mark (床前明月光疑是地上霜…, 20 characters) as the lines of the one
    regulated form of that length (20: 五绝, 28: 七绝, 40: 五律, 56: 七律), where `form` allows it;
    it was "1 lines of 20 characters", free verse (a poet's review). None when the text has breaks."""
    if len(lines) != 1:
        return None
    fits = [f for f in forms.REGULATED if f.shape()[0] * f.shape()[1] == len(lines[0])]
    if len(fits) != 1 or (form != "auto" and forms.find(form) is not fits[0]):
        return None
    width = fits[0].shape()[1]
    return [lines[0][k : k + width] for k in range(0, len(lines[0]), width)]


def _unregulated_warning(lines: list[str]) -> str:
    """Why the tones went unchecked. A poem of a regulated shape checked as free verse (`--form
    free`) is not "not a regulated form": it was asked to be read as free verse, so say that."""
    shaped = forms.by_shape([len(line) for line in lines])
    if shaped.regulated:
        return f"the shape of a {shaped.zh} ({shaped.name}), checked as free verse: tones not checked"
    shape = ", ".join(str(len(line)) for line in lines)
    count = f"{len(lines)} line{'' if len(lines) == 1 else 's'}"
    return f"not a regulated form ({count} of {shape} characters): tones not checked"


def check_poem(
    text: str, form: str = "auto", script: str = "simplified", titles: bool = False
) -> CheckResult:
    """Check a poem; `form` is auto or any name of `engine.forms` (free for verse of no fixed shape).

    Raises TangError for bad input: no lines, characters that are not Chinese, an unknown form, or
    a shape that does not fit an explicit form. With form="auto" a poem of any shape is annotated
    (form "free", form_ok False) rather than rejected, which suits callers checking generated text.
    `titles`: set aside a title (and author) pasted above the lines, as a person's text may have.
    """
    from tangstudio.engine.corpus.script import check_script

    check_script(script)
    aside, lines = _title_set_aside(text) if titles and form != "free" else ([], split_lines(text))
    unbroken = _unpunctuated_shape(lines, form)
    if unbroken is not None:
        lines = unbroken
    form = resolve_form(lines, form)
    char_tones = [[tones(ch, script) if ch != LOST else frozenset() for ch in line] for line in lines]
    # as a reader hears each character inside its line (不 仄): what picks the pattern a line is read by
    # (a character whose rarer reading is another word keeps both: judged_tones; 多难时 read nán
    # was 三平尾, and 时难年荒 a 失对, though the checker accepted nàn there: a review)
    heard = [
        [
            judged_tones(ch, script) if j < len(line) - 1 and t else t
            for j, (ch, t) in enumerate(zip(line, ts))
        ]
        for line, ts in zip(lines, char_tones)
    ]
    # At a line end only the readings poets rhymed on count (還 is not a 一先 rhyme): tables.rhyming_groups.
    end_groups = [rhyming_groups(line[-1], script) for line in lines]
    regulated = forms.is_regulated(form)

    even = range(1, len(lines), 2)
    rhyme_group, _ = _choose_rhyme([end_groups[i] for i in even], end_groups[0])
    ze_rhyme = None if rhyme_group is not None else _ze_rhyme([lines[i][-1] for i in even], script)
    # An even line rhymes if its last character is in the group, or is unknown (no verdict).
    rhyme_ok = len(even) > 0 and all(rhyme_group in end_groups[i] or not char_tones[i][-1] for i in even)
    first_rhymes = rhyme_group is not None and rhyme_group in end_groups[0]

    chosen: Variant | None = None
    loose_bad = strict_bad = 0
    unstuck: list[tuple[int, str]] = []
    if regulated:
        # Fewest loose breaks first, then the variant that agrees with whether line 1 rhymes, then
        # fewest strict ones: a line 1 ending on a 中 character (否: 平 尤 or 仄 有) that does not
        # rhyme is 首句不入韵 even if the 入韵 pattern fits a free place better.
        # 孤雁入群: a line 1 heard 平 at its end (空, as the Tang poets end lines on it) in a group next
        # to the rhyme's borrows it; read 仄 (kòng) to make 首句不入韵 it was a reading no poet hears
        # there (山深雪满空，古寺远闻钟: a poet's review).
        borrowing = (
            not first_rhymes
            and rhyme_group is not None
            and end_tones(lines[0][-1], script) == {PING}
            and bool(end_groups[0] & neighbours(rhyme_group))
        )
        wanted = first_rhymes or borrowing
        chosen = min(variants(form), key=lambda v: _preference(_score(v, char_tones, wanted, heard)))
        loose_bad, strict_bad, _ = _score(chosen, char_tones, wanted, heard)
        if loose_bad and ze_rhyme is None:  # where one pattern fails, say where couplets stop sticking (失粘)
            unstuck = _unstuck(lines, heard)
            if unstuck:
                relaid = _relaid(chosen, char_tones, heard, {i for i, _ in unstuck})
                score = _score(relaid, char_tones, wanted, heard)
                # Only where it marks fewer places: a relay through a line of two readings (一尚不可得)
                # can run the lines after it off their chain, which no fault names (a review).
                if score[:2] <= (loose_bad, strict_bad):
                    chosen, (loose_bad, strict_bad) = relaid, score[:2]
                loose_bad, strict_bad = loose_bad + len(unstuck), strict_bad + len(unstuck)

    # A pattern whose line 1 ends on 平 is the 首句入韵 one; if line 1 then is not in the rhyme, the
    # name must not say it rhymes: 借邻韵 when it ends in a neighbouring group (a licence), else
    # 出韵 (out of the rhyme) with a warning naming both groups; with no rhyme at all, no claim.
    # A 仄-rhymed poem is judged by no 平 pattern: a line 1 ending 平 there (空山不见人) is simply
    # 仄韵首句不入韵, not a first line out of the rhyme (a poet's review saw ✗ 十一真 beside that name).
    off_first = chosen is not None and chosen.first_line_rhymes and not first_rhymes and ze_rhyme is None
    borrowed = off_first and rhyme_group is not None and bool(end_groups[0] & neighbours(rhyme_group))
    off_first = off_first and not borrowed
    # A 仄-rhymed poem's line 1 rhymes when it ends in that 仄 group (江雪's 绝, 九屑): marked so in its
    # row, as the name 仄韵首句入韵 says, and counted for 重韵 (a review found it named, never marked).
    ze_groups = frozenset(ze_rhyme.split("/")) if ze_rhyme else frozenset()
    ze_first = bool(ze_groups & rhyme_groups(lines[0][-1], script)) if ze_groups else False
    results: list[LineResult] = []
    warnings: list[str] = []
    heard_off = 0
    rescued = 0  # places a 拗救 answers: breaks of the strict pattern only
    if off_first and rhyme_group is not None and end_groups[0]:
        groups_heard = "/".join(_sorted_groups(end_groups[0]))
        warnings.append(
            f"line 1: 首句出韵 — it ends on 平 as a rhyming first line does, but {lines[0][-1]} is {groups_heard}, not {rhyme_group}"
        )
    for i, (line, line_tones) in enumerate(zip(lines, char_tones)):
        # A 仄-rhymed quatrain (江雪, 春晓) is 古绝: no 平韵 pattern is held against it, where every
        # even line's end was "仄, the pattern wants 平" (a poet's review); its tones are not judged.
        judged = chosen if ze_rhyme is None else None
        pattern, free = _judged(judged.lines[i], line_tones, heard[i]) if judged else (None, frozenset())
        chars = []
        free_heard_off = 0
        free_notes: list[str] = []
        for j, (ch, t) in enumerate(zip(line, line_tones)):
            c = CharResult(ch, sorted(t), expected=pattern[j] if pattern else None, free=j in free)
            if not t:
                c.kind = "unknown"
            elif pattern and pattern[j] not in t:
                c.ok = False
                c.kind = "strict" if j in free else "tone"
            elif pattern and j in free and j < len(line) - 1 and t and pattern[j] not in heard[i][j]:
                # a free place meets the strict pattern only in a reading no poet gives there (不知 read
                # 平 fǒu): as heard, it breaks the strict pattern, as 未知 does (a poet's review)
                c.ok = False
                c.kind = "strict"
                free_heard_off += 1
                # said, or a yellow 中 where 平 is due read as no fault (a review)
                free_notes.append(_unheard(ch, pattern[j], heard[i][j]) + " (strict)")
            chars.append(c)
        rhyme_position = i % 2 == 1 or (i == 0 and (first_rhymes or off_first or ze_first))
        lr = LineResult(
            line,
            chars,
            pattern,
            "".join(EITHER if j in free else t for j, t in enumerate(pattern)) if pattern else None,
            _sorted_groups(end_groups[i]),
            rhyme_position,
        )
        if rhyme_position and regulated and ze_rhyme is not None:  # 江雪's 灭 and 雪 rhyme, in 九屑
            lr.rhymes = bool(rhyme_groups(line[-1], script) & ze_groups)
        elif rhyme_position and regulated:  # free verse may change its rhyme (换韵): no ✗ there
            lr.rhymes = rhyme_group in end_groups[i] or not line_tones[-1]
            if i > 0 and not lr.rhymes and rhyme_group is not None:
                groups_heard = "/".join(_sorted_groups(end_groups[i])) or "in no rhyme group"
                warnings.append(f"line {i + 1}: 出韵 — {line[-1]} is {groups_heard}, not {rhyme_group}")
        # A 仄-rhymed poem (江雪, 春晓) is not 律: the 平韵 patterns' line-end and 孤平 notes would be
        # false there (中 ending an unrhymed line of 寻隐者不遇 is right, not "read 仄 at a 仄 end").
        if regulated and pattern is not None and ze_rhyme is None:
            lr.warnings = line_faults(heard[i], rhyming=pattern[-1] == PING)
            head = len(line) - 5  # the swapped form's 1st 平, a place the loose rule frees elsewhere
            if pattern[head:] == _SWAPPED["平平平仄仄"] and chars[head].kind == "tone":
                lr.warnings.append(  # 故人具鸡黍 was ✗ under "breaks 二四六分明", at its 1st (a poet's review)
                    f"拗 — the 特拗 line {pattern} needs 平 at character {head + 1}, and 「{line[head]}」 is 仄"
                )
            if pattern[-1] == ZE and len(line_tones[-1]) > 1 and end_tones(line[-1], script) == {PING}:
                lr.warnings.append(
                    f"「{line[-1]}」 read 仄 at a 仄 line end, but the Tang poets end lines on it as 平"
                )
            rescue = _rescued(i, judged.lines, heard, lines) if judged is not None else None
            if rescue is not None:
                lr.warnings.append(rescue)
                if chars[-2].kind == "tone":  # the loose rule forgives it; the strict pattern does not
                    chars[-2].kind = "strict"
                    rescued += 1
            if not any(c.kind == "tone" for c in chars):  # a line already broken says enough
                rare = _rare_readings_inside(line, line_tones, heard[i], pattern, free)
                # the place a 拗救 answers is said there (不 of 向晚意不适 is 仄, rescued by 登)
                lr.warnings += [w for j, w in rare if not (rescue and j == len(line) - 2)]
                # passes only in a reading no one hears there: not strict (a poet's review)
                lr.heard_off += len(rare)
                heard_off += len(rare)
            lr.heard_off += free_heard_off
            heard_off += free_heard_off
            lr.warnings += free_notes
        warnings += [f"line {i + 1}: {w}" for w in lr.warnings]
        unknown = [c.char for c in chars if c.kind == "unknown" and c.char != LOST]
        if unknown:
            warnings.append(f"line {i + 1}: no reading known for {''.join(unknown)}")
        if LOST in line:
            warnings.append(f"line {i + 1}: a lost character (□): its tone and rhyme are not judged")
        if rhyme_position and lr.rhymes and not line_tones[-1] and line[-1] != LOST:
            warnings.append(f"line {i + 1}: the rhyme is not judged: 「{line[-1]}」 has no known reading")
        results.append(lr)
    if regulated:  # a fault of regulated verse; free verse's rhyme places are only guessed
        warnings += _repeated_rhymes(lines, results)
        warnings += [message for _, message in unstuck]
    if not regulated:
        warnings.insert(0, _unregulated_warning(lines))
    if unbroken is not None:
        warnings.insert(
            0, f"no marks between the lines: read as {len(lines)} lines of {len(lines[0])} characters"
        )
    if aside:  # the title, and perhaps an author under it
        said = " and ".join(f"「{a}」" for a in aside)
        what = "the poem's title" if len(aside) == 1 else "the poem's title and author"
        warnings.insert(0, f"{said} read as {what}, not {'one of its lines' if len(aside) == 1 else 'lines'}")
    variant_name = _variant_name(chosen, off_first, borrowed, rhyme_group)
    if ze_rhyme is not None and variant_name is not None:
        # a 仄-rhymed poem (春晓) has no 平起/仄起 pattern of 律 to be named by; say whether line 1 rhymes
        first_rhymes = ze_first
        variant_name = f"仄韵首句{'入' if first_rhymes else '不入'}韵"

    return CheckResult(
        text=text,
        form=form,
        script=script,
        lines=results,
        form_ok=regulated,
        rhyme_ok=rhyme_ok,
        rhyme_group=rhyme_group,
        first_line_rhymes=first_rhymes,
        tones_loose_ok=regulated and ze_rhyme is None and loose_bad - rescued == 0,
        tones_strict_ok=regulated and ze_rhyme is None and strict_bad == 0 and heard_off == 0,
        variant=variant_name,
        warnings=warnings,
        ze_rhyme=ze_rhyme,
    )


def _ze_rhyme(ends: list[str], script: str) -> str | None:
    """The 仄 groups (in GROUPS order, "/"-joined) that every one of `ends` belongs to, if any: 去 and
    处 (寻隐者不遇) are both 上声六语 and 去声六御, and picking the first would name the rarer one."""
    if not ends:
        return None
    shared = frozenset.intersection(*(rhyme_groups(ch, script) for ch in ends))
    ze = [g for g in GROUPS if g in shared and group_tone(g) == ZE]
    return "/".join(ze) if ze else None
