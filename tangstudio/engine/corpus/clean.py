"""Cleaning rules for poem bodies, each one counted so `tangstudio stats` can report it.

1. Editorial notes in （）()[]【】{}《》〔〕 are removed with their content (variant readings,
   annotations such as "（一作…）").
2. ASCII and other half/full-width punctuation is unified to full-width ，。！？；：、; quotes and
   white space are dropped.
3. A run of marks left where a note stood (…笑点头。（一作…）。 → 点头。。) is one mark: the first,
   or, ending the poem, its first sentence end (…听，（…）。 → 听。). 3,736 Tang poems held such a
   run, nearly all at their end (。。 3,587 times), so every model learnt a second 。 and every
   count held one.
4. Poems containing □ (characters lost in transmission) are kept but flagged `lost`; they are
   excluded from training by default.
5. Poems left empty are dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

NOTES = re.compile(r"（[^（）]*）|\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|\{[^{}]*\}|《[^《》]*》|〔[^〔〕]*〕")
PUNCTUATION = str.maketrans(
    {
        ",": "，",
        ".": "。",
        "!": "！",
        "?": "？",
        ";": "；",
        ":": "：",
        "﹐": "，",
        "､": "、",
        "﹑": "、",
        "｡": "。",
        "．": "。",
        "﹒": "。",
        "﹗": "！",
        "﹖": "？",
        "﹔": "；",
        "﹕": "：",
    }
)
MARKS = "，。！？；：、"
MARK_RUN = re.compile(f"[{MARKS}]{{2,}}")
SENTENCE_END = "。！？"
DROPPED = re.compile(r"[\s\u3000「」『』“”‘’\"'（）()\[\]【】{}《》〔〕]")
LOST = "□"


@dataclass(frozen=True, slots=True)
class Cleaned:
    text: str
    lost: bool


def clean_body(paragraphs: list[str], counts: Counter[str]) -> Cleaned | None:
    """Clean one poem's body; tally which rules touched it in `counts`. None means dropped."""
    raw = "".join(p for p in paragraphs if isinstance(p, str))
    text = raw
    without_notes = NOTES.sub("", text)
    while without_notes != text:  # nested notes
        text, without_notes = without_notes, NOTES.sub("", without_notes)
    if text != raw:
        counts["notes_removed"] += 1
    unified = DROPPED.sub("", text.translate(PUNCTUATION))
    if unified != text:
        counts["punctuation_unified"] += 1
    text = unified
    single = MARK_RUN.sub(lambda run: _one_mark(run.group(), at_end=run.end() == len(text)), text)
    if single != text:
        counts["doubled_marks"] += 1
    text = single
    if not text.strip(MARKS):
        counts["empty_dropped"] += 1
        return None
    lost = LOST in text
    if lost:
        counts["lost_characters"] += 1
    return Cleaned(text, lost)


def _one_mark(run: str, at_end: bool) -> str:
    """The mark a run of marks stands for: the poem's own (the first), or at its end the first that
    ends a sentence, so a poem never ends on ，."""
    if at_end:
        return next((mark for mark in run if mark in SENTENCE_END), run[0])
    return run[0]
