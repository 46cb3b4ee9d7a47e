"""Cleaning rules for poem bodies, each one counted so `tangstudio stats` can report it.

1. Editorial notes in （）()[]【】{}《》〔〕 are removed with their content (variant readings,
   annotations such as "（一作…）").
2. ASCII and other half/full-width punctuation is unified to full-width ，。！？；：、; quotes and
   white space are dropped.
3. Poems containing □ (characters lost in transmission) are kept but flagged `lost`; they are
   excluded from training by default.
4. Poems left empty are dropped.
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
    if not text.strip("，。！？；：、"):
        counts["empty_dropped"] += 1
        return None
    lost = LOST in text
    if lost:
        counts["lost_characters"] += 1
    return Cleaned(text, lost)
