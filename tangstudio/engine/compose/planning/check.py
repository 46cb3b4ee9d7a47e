"""The typed title and plan, checked the same way for the CLI and the studio (one line each).

A title may hold Chinese characters, spaces and Chinese punctuation (the model reads only its
Han characters, cleaned as the corpus titles were: corpus/titles.py); Latin letters, digits and
control characters are refused rather than silently dropped. A plan is one entry per line: a
keyword of one or two Chinese characters, '' for a line with none, or '-' to leave it to the
planner; a fixed form takes exactly as many entries as it has lines.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from tangstudio.engine import forms
from tangstudio.engine.errors import TangError
from tangstudio.engine.hanzi import is_han
from tangstudio.engine.typed_text import check_typed, listed

MAX_TITLE_TYPED = 60
MAX_KEYWORD = 2
MAX_PLAN_LINES = 30  # a free poem has at most this many planned lines (as many as an acrostic)
TO_PLAN = "-"
_SEPARATORS = ",，、;；/ "


def _foreign(text: str) -> list[str]:
    """Characters that are neither Han nor punctuation/space: letters, digits, controls, symbols."""
    bad = []
    for ch in text:
        cat = unicodedata.category(ch)
        if is_han(ch) or cat[0] in "PZ":
            continue
        bad.append(ch)
    return bad


def check_title(title: str) -> str:
    check_typed(title, "the title", MAX_TITLE_TYPED)
    bad = _foreign(title)
    if bad:
        raise TangError(f"the title must be Chinese characters, not {listed(bad)}")
    return title


def parse_plan(text: str) -> list[str]:
    """'山,水,-,归' (or 山，水 … / spaces) → ['山', '水', '-', '归']; '' → []."""
    check_typed(text, "the plan", 400)
    if not text.strip():
        return []
    for sep in _SEPARATORS[1:]:
        text = text.replace(sep, ",")
    parts = [part.strip() for part in text.split(",")]
    return parts if any(parts) else []  # ",,," (as the studio shows a poem with no keywords) is no plan


def check_plan(plan: Sequence[str], form: str) -> list[str]:
    entries = list(plan)
    if entries == [TO_PLAN]:  # '-' alone: the planner plans every line (poem_plan expands it)
        return entries
    for k in entries:
        if not isinstance(k, str):
            raise TangError(f"a plan keyword must be text, got {k!r}")
        check_typed(k, "the plan", 40)
        if k in ("", TO_PLAN):
            continue
        bad = [ch for ch in k if not is_han(ch)]
        if bad:
            raise TangError(f"plan keyword {k!r}: keywords must be Chinese characters, not {listed(bad)}")
        if len(k) > MAX_KEYWORD:
            raise TangError(f"plan keyword {k!r} has {len(k)} characters; a keyword has one or two")
    if not entries:
        return entries
    found = forms.find(form)
    lines = found.lines if found else None
    if lines is not None and len(entries) != lines:
        raise TangError(
            f"the plan has {len(entries)} keyword{'s' if len(entries) != 1 else ''} but {form} has "
            f"{lines} lines: give one per line ('-' leaves a line to the planner, an empty one gives it none), or '-' alone"
        )
    if len(entries) > MAX_PLAN_LINES:
        raise TangError(f"the plan has {len(entries)} lines; a poem here has at most {MAX_PLAN_LINES}")
    return entries
