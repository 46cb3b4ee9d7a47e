"""The poem forms: one registry that every other part asks (corpus, vocabulary, prosody, composer).

五言绝句 wujue: 4 lines × 5; 七言绝句 qijue: 4 × 7; 五言律诗 wulv: 8 × 5; 七言律诗 qilv: 8 × 7.
Everything else — 排律, 古体, 杂言, poems of 6 lines, and what the composer writes with no fixed
shape — is `free`. Older files call it `other` (the corpus, `check`, run configs); the parser
reads both, and Chinese names too (七绝, 七言绝句, 古体 ...), so a form is typed any natural way.

Adding a form is adding one `Form` here (see CONTRIBUTING, "Add a form"); the vocabulary's start
tokens keep their order (`START_ORDER`), so shipped models keep their ids. Torch-free, and below
every engine package: it imports nothing but the error type.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tangstudio.engine.errors import TangError

PING, ZE = "平", "仄"
# A five-character regulated line by (tone of its 2nd character, tone of its last).
_FIVE = {
    (ZE, ZE): "仄仄平平仄",
    (PING, PING): "平平仄仄平",
    (PING, ZE): "平平平仄仄",
    (ZE, PING): "仄仄仄平平",
}


@dataclass(frozen=True, slots=True)
class Form:
    """One poem form: its names, its shape, and what a sample of it may run to.

    `lines`/`chars` are None for the free form, which has no shape. `sample_chars` bounds the
    training samples (a few characters over the form's own length, for the marks and a stray).
    """

    name: str  # the name in files, options and tokens: wujue
    zh: str  # 五言绝句
    short: str  # 五绝
    lines: int | None
    chars: int | None
    sample_chars: int
    aliases: tuple[str, ...] = ()  # other names the parser accepts (older files, Chinese)

    @property
    def regulated(self) -> bool:
        return self.lines is not None

    @property
    def start_token(self) -> str:
        """The poem's first input in the vocabulary: `<wujue>`, `<free>`."""
        return f"<{self.name}>"

    @property
    def label(self) -> str:
        """`七绝 qijue`: how lists show a form."""
        return f"{self.short} {self.name}"

    def shape(self) -> tuple[int, int]:
        """(lines, characters per line); TangError for the free form, which has none."""
        if self.lines is None or self.chars is None:
            raise TangError(f"{self.name} has no fixed shape; choose {', '.join(f.name for f in REGULATED)}")
        return self.lines, self.chars

    def fits(self, lengths: list[int]) -> bool:
        """Whether clause lengths (characters per line) are this form's shape."""
        return self.regulated and len(lengths) == self.lines and all(n == self.chars for n in lengths)

    def rhyme_lines(self, first_line_rhymes: bool = False) -> tuple[int, ...]:
        """0-based lines whose last character rhymes: every even line, and line 1 if it rhymes (首句入韵)."""
        n_lines, _ = self.shape()
        return tuple(i for i in range(n_lines) if i % 2 or (i == 0 and first_line_rhymes))

    def tone_pattern(self, start: str, first_line_rhymes: bool) -> tuple[str, ...]:
        """The strict 平仄 line patterns of one variant: 平起 or 仄起 (`start`), line 1 rhymed or not.

        Lines follow 对 (line 2 of a couplet takes the other 2nd tone) and 粘 (the next couplet's first
        line keeps the 2nd tone of the line before); rhyme lines end 平, the others 仄.
        """
        n_lines, length = self.shape()
        rhymes = set(self.rhyme_lines(first_line_rhymes))
        out, second = [], start
        for i in range(n_lines):
            if i > 0 and i % 2:
                second = _other(second)  # 对 inside a couplet; 粘 across couplets keeps it
            out.append(line_pattern(length, second, PING if i in rhymes else ZE))
        return tuple(out)


def _other(tone: str) -> str:
    return PING if tone == ZE else ZE


def line_pattern(length: int, second: str, last: str) -> str:
    """The standard line of 5 or 7 characters whose 2nd character is `second` and last is `last`.

    A seven-character line puts two characters of the opposite tone in front of a five-character one.
    """
    if length == 5:
        return _FIVE[(second, last)]
    if length == 7:
        core = _FIVE[(_other(second), last)]
        return _other(core[0]) * 2 + core
    raise TangError(f"regulated lines have 5 or 7 characters, not {length}")


WUJUE = Form("wujue", "五言绝句", "五绝", 4, 5, 30, ("五绝",))
QIJUE = Form("qijue", "七言绝句", "七绝", 4, 7, 40, ("七绝",))
WULV = Form("wulv", "五言律诗", "五律", 8, 5, 56, ("五律",))
QILV = Form("qilv", "七言律诗", "七律", 8, 7, 72, ("七律",))
FREE = Form("free", "古体", "古体", None, None, 120, ("other", "其他", "自由", "古体诗", "杂言"))

REGULATED: tuple[Form, ...] = (WUJUE, QIJUE, WULV, QILV)
FORMS: tuple[Form, ...] = (*REGULATED, FREE)  # the order of lists, tables and the corpus cache's codes
START_ORDER: tuple[Form, ...] = (FREE, *REGULATED)  # the vocabulary's start tokens: never reorder
NAMES: tuple[str, ...] = tuple(f.name for f in FORMS)
REGULATED_NAMES: frozenset[str] = frozenset(f.name for f in REGULATED)
DEFAULT = QIJUE  # what the composer writes unless told

# The names in traditional script too (a scholar's 七絕 was refused where 七绝 passed); written out,
# as this module imports nothing heavier than the error type (OpenCC is for text, not for flags).
_TRADITIONAL = str.maketrans({"绝": "絕", "诗": "詩", "体": "體", "杂": "雜"})
_LOOKUP: dict[str, Form] = {}
for _f in FORMS:
    for _key in (_f.name, _f.zh, _f.short, *_f.aliases):
        _LOOKUP[_key.casefold()] = _LOOKUP[_key.translate(_TRADITIONAL).casefold()] = _f


def find(name: str | None) -> Form | None:
    """The form a name means (any accepted spelling), or None."""
    if name is None:
        return None
    return _LOOKUP.get(name.strip().casefold())


def get(name: str | None) -> Form:
    """The form a name means; one line naming the choices for anything else."""
    form = find(name)
    if form is None:
        raise TangError(f"unknown form {name!r}; choose {', '.join(NAMES)} (or 五绝, 七绝, 五律, 七律, 古体)")
    return form


def canonical(name: str | None) -> str:
    """A form's name in files (`other` → `free`, `七绝` → `qijue`); TangError if unknown."""
    return get(name).name


def is_regulated(name: str | None) -> bool:
    form = find(name)
    return form is not None and form.regulated


def by_shape(lengths: list[int]) -> Form:
    """The regulated form whose shape these clause lengths are, else the free form."""
    return next((f for f in REGULATED if f.fits(lengths)), FREE)


def parse_many(spec: str | Iterable[str] | None) -> frozenset[str] | None:
    """`all` → None (no filter); `regulated` → the four; or a comma-separated list of names."""
    if spec is None:
        return None
    names = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    if not names and isinstance(spec, str):  # "," or "" (an unset shell variable) trained on all
        raise TangError(
            f"--forms {spec!r} names no form; choose all, regulated, or any of {', '.join(NAMES)}"
        )
    if not names or names == ["all"]:
        return None
    chosen: set[str] = set()
    for name in names:
        if name in ("regulated", "格律"):
            chosen |= REGULATED_NAMES
            continue
        form = find(name)
        if form is None:
            raise TangError(f"unknown form {name!r}; choose all, regulated, or any of {', '.join(NAMES)}")
        chosen.add(form.name)
    return frozenset(chosen)


def label_many(chosen: frozenset[str] | None) -> str:
    """The inverse of `parse_many`: `all`, `regulated` or the names in registry order."""
    if chosen is None:
        return "all"
    if chosen == REGULATED_NAMES:
        return "regulated"
    return ",".join(f for f in NAMES if f in chosen)
