"""The four regulated forms, told apart by line count and line length.

五言绝句 wujue: 4 lines × 5; 七言绝句 qijue: 4 × 7; 五言律诗 wulv: 8 × 5; 七言律诗 qilv: 8 × 7.
Everything else — 排律, 古体, 杂言, poems of 6 lines — is `other`. Only the shape is checked here;
whether the tones and rhymes obey the rules is prosody's job (`engine.prosody`).
"""

from __future__ import annotations

from collections.abc import Iterable

from tangstudio.engine.corpus.poem import clause_lengths
from tangstudio.engine.errors import TangError

FORMS: dict[str, tuple[int, int]] = {  # name -> (lines, characters per line)
    "wujue": (4, 5),
    "qijue": (4, 7),
    "wulv": (8, 5),
    "qilv": (8, 7),
}
FORM_NAMES_ZH = {
    "wujue": "五言绝句",
    "qijue": "七言绝句",
    "wulv": "五言律诗",
    "qilv": "七言律诗",
    "other": "其他",
    "free": "自由",
}
ALL_FORMS = (*FORMS, "other")
REGULATED = frozenset(FORMS)


def classify(text: str) -> str:
    lengths = clause_lengths(text)
    for name, (n_lines, n_chars) in FORMS.items():
        if len(lengths) == n_lines and all(length == n_chars for length in lengths):
            return name
    return "other"


def parse_forms(spec: str | Iterable[str] | None) -> frozenset[str] | None:
    """`all` → None (no filter); `regulated` → the four forms; or a comma-separated list."""
    if spec is None:
        return None
    names = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    if not names or names == ["all"]:
        return None
    chosen: set[str] = set()
    for name in names:
        if name == "regulated":
            chosen |= REGULATED
        elif name in ALL_FORMS:
            chosen.add(name)
        else:
            raise TangError(f"unknown form {name!r}; choose all, regulated, or any of {', '.join(ALL_FORMS)}")
    return frozenset(chosen)


def forms_label(forms: frozenset[str] | None) -> str:
    if forms is None:
        return "all"
    if forms == REGULATED:
        return "regulated"
    return ",".join(f for f in ALL_FORMS if f in forms)
