"""The title and the plan as a plan-reading model is fed them (docs/ARCHITECTURE.md, corpus/vocab.py):

    <title> t1 … tn  <form-start>  <kw> k1 [k2]  line 1 …，  <kw> k1 [k2]  line 2 … <eos>

Everything here is given, never sampled: the composer steps these ids through the model and
samples only the poem. A model whose vocabulary has no markers (trained before titles and plans,
or with --no-plan) cannot read either, and is refused here in one line when a title or plan is
asked of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tangstudio.engine.corpus.titles import clean_title
from tangstudio.engine.corpus.vocab import UNK
from tangstudio.engine.errors import TangError
from tangstudio.engine.hanzi import CLAUSE_END

if TYPE_CHECKING:
    from tangstudio.engine.corpus.vocab import Vocab

OLD_MODEL = (
    "this model was trained without titles and plans and cannot read {what}; "
    "leave it out, or compose with a model trained with them"
)


def check_readable(vocab: Vocab, title: str, plan: Sequence[str]) -> None:
    """Refuse a title or an explicit keyword for a model that cannot read them (one line)."""
    if vocab.has_plan:
        return
    if title.strip():
        raise TangError(OLD_MODEL.format(what="a title"))
    if any(plan):
        raise TangError(OLD_MODEL.format(what="a plan"))


def title_ids(vocab: Vocab, title: str) -> list[int]:
    """[<title>, chars…] for the cleaned title ([] for none or for a model without markers)."""
    cleaned = clean_title(title)
    if not cleaned or not vocab.has_plan:
        return []
    _refuse_unknown(vocab, cleaned, "the title")
    return [vocab.title_id, *(vocab.stoi[c] for c in cleaned)]


def keyword_ids(vocab: Vocab, keyword: str) -> list[int]:
    """[<kw>, k1, k2] for a line's keyword ([] for none or for a model without markers)."""
    if not keyword or not vocab.has_plan:
        return []
    _refuse_unknown(vocab, keyword, f"the keyword {keyword}")
    return [vocab.keyword_id, *(vocab.stoi[c] for c in keyword)]


def reading_ids(
    vocab: Vocab,
    text: str,
    form: str,
    title: str = "",
    keywords: Sequence[str] = (),
    before: Sequence[int] = (),
) -> tuple[list[int], list[int]]:
    """Every id the composer fed the model while it wrote `text`, in order, and the index of each
    character of `text` among them: `before` (a primer's ids), the title, the form's start, and each
    line's keyword before the line. A trace of the gates must read these, not the bare poem: the
    state that chose each character had read the title and the keywords too."""
    ids = [*before, *title_ids(vocab, title), vocab.start_id(form)]
    at: list[int] = []
    line, line_start = 0, True
    for char in text:
        if line_start:
            ids += keyword_ids(vocab, keywords[line] if line < len(keywords) else "")
            line_start = False
        at.append(len(ids))
        ids.append(vocab.stoi.get(char, UNK))
        if char in CLAUSE_END:
            line, line_start = line + 1, True
    return ids, at


def _refuse_unknown(vocab: Vocab, text: str, what: str) -> None:
    from tangstudio.engine.corpus.script import refuse_unknown

    refuse_unknown(text, vocab, what)


def can_write(vocab: Vocab) -> Callable[[str], bool]:
    """A predicate for the planner: every character of the word is one the model knows."""
    first = vocab.first_char_id
    return lambda word: all(vocab.stoi.get(c, 0) >= first for c in word)
