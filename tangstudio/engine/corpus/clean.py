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
   excluded from training by default. The source marks a lost character in other ways too: ●,
   a character of Unicode's private use area, or an ideographic description (⿰木養, a character
   no encoding held) is one □.
5. A poem that still holds something neither a character nor a mark (an editor's page number
   三○二, a stray / or Ｂ, a preface's numbering) is flagged `lost` as well, so no model learns
   it; 〖1〗-style notes go with rule 1, and the brackets of ［气］, a character an editor
   restored, go with rule 2.
6. Poems left empty are dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from tangstudio.engine.hanzi import is_han

NOTES = re.compile(
    r"（[^（）]*）|\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|\{[^{}]*\}|《[^《》]*》|〔[^〔〕]*〕|〖[^〖〗]*〗"
)
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
DROPPED = re.compile(r"[\s\u3000「」『』“”‘’\"'（）()\[\]【】{}《》〔〕〖〗［］]")
LOST = "□"
# ⿰⿱⿴–⿻ join two parts, ⿲⿳ three; a part may be a description itself (⿰亻⿱…).
_IDS_ARITY = {chr(cp): 3 if cp in (0x2FF2, 0x2FF3) else 2 for cp in range(0x2FF0, 0x2FFC)}
_OTHER_LOST = re.compile("[●\\ue000-\\uf8ff]")


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
    text = _OTHER_LOST.sub(LOST, _describe_as_lost(text))
    lost = LOST in text
    if lost:
        counts["lost_characters"] += 1
    elif any(not (is_han(ch) or ch in MARKS) for ch in text):
        counts["stray_characters"] += 1
        lost = True
    return Cleaned(text, lost)


def _describe_as_lost(text: str) -> str:
    """Each ideographic description sequence (⿰木養) stands for one character no encoding held."""
    if not any(ch in _IDS_ARITY for ch in text):
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] in _IDS_ARITY:
            i = _past_description(text, i)
            out.append(LOST)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _past_description(text: str, i: int) -> int:
    """The index just past the description that starts at `i` (its parts may nest)."""
    needed = 1
    while needed and i < len(text):
        needed += _IDS_ARITY.get(text[i], 0) - 1
        i += 1
    return i


def _one_mark(run: str, at_end: bool) -> str:
    """The mark a run of marks stands for: the poem's own (the first), or at its end the first that
    ends a sentence, so a poem never ends on ，."""
    if at_end:
        return next((mark for mark in run if mark in SENTENCE_END), run[0])
    return run[0]
