"""Corpus statistics, as one plain dict: the CLI renders it with Rich, the studio with widgets,
`--json` prints it as it is."""

from __future__ import annotations

from collections import Counter
from typing import TypedDict

from tangstudio.engine.corpus import Corpus, forms_label, parse_forms
from tangstudio.engine.corpus.authors import by_author
from tangstudio.engine.corpus.poem import CLAUSE_END, clause_lengths
from tangstudio.engine.corpus.splits import SPLITS
from tangstudio.engine.corpus.vocab import Vocab
from tangstudio.engine.forms import NAMES
from tangstudio.engine.hanzi import is_han


class CorpusStats(TypedDict):
    """The statistics document: one shape for the CLI table, the studio cards and `--json`."""

    corpus: str
    script: str
    forms_filter: str
    author: str | None
    source: str
    raw_poems: int
    poems: int
    characters: int
    hanzi: int
    distinct_chars: int
    vocab_size: int  # the train split's distinct characters and marks: a model's vocabulary less its markers
    coverage: dict[str, float]  # top_1k, top_3k, top_5k: share of all Hanzi
    forms: dict[str, int]
    splits: dict[str, int]
    line_lengths: dict[str, int]  # clause length (as a JSON key) -> clauses
    top_chars: list[tuple[str, int]]  # (char, count): a [char, count] pair in JSON
    top_authors: list[tuple[str, int]]  # (author, poems)
    punctuation: dict[str, int]
    cleaning: dict[str, int]


def corpus_stats(
    corpus: Corpus, forms: str | None = "all", include_lost: bool = False, author: str | None = None
) -> CorpusStats:
    chosen = parse_forms(forms)
    poems = by_author(corpus.select(chosen, include_lost=include_lost), author, corpus.poems)
    chars: Counter[str] = Counter()
    for poem in poems:
        chars.update(poem.text)
    hanzi = Counter({c: n for c, n in chars.items() if is_han(c)})
    total_hanzi = sum(hanzi.values())
    ranked = [n for _, n in hanzi.most_common()]
    coverage = {
        f"top_{k // 1000}k": (sum(ranked[:k]) / total_hanzi if total_hanzi else 0.0)
        for k in (1000, 3000, 5000)
    }
    train_texts = (p.text for p in poems if p.split == "train")
    vocab = Vocab.build(train_texts, corpus.script)
    line_lengths: Counter[int] = Counter()
    for poem in poems:
        line_lengths.update(clause_lengths(poem.text))
    all_forms = Counter(p.form for p in corpus.select(None, include_lost=include_lost))
    return {
        "corpus": corpus.name,
        "script": corpus.script,
        "forms_filter": forms_label(chosen),
        "author": author,
        "source": corpus.source,
        "raw_poems": corpus.raw_count,
        "poems": len(poems),
        "characters": sum(chars.values()),
        "hanzi": total_hanzi,
        "distinct_chars": len(hanzi),
        "vocab_size": len(vocab) - vocab.first_char_id,  # not <pad>, the form starts, <title> …
        "coverage": coverage,
        "forms": {form: all_forms.get(form, 0) for form in NAMES},
        "splits": {s: sum(1 for p in poems if p.split == s) for s in SPLITS},
        "line_lengths": {str(k): v for k, v in sorted(line_lengths.items()) if k > 0},
        "top_chars": hanzi.most_common(20),
        "top_authors": Counter(p.author for p in poems if p.author.strip()).most_common(20),  # not ""
        "punctuation": {c: chars.get(c, 0) for c in CLAUSE_END},
        "cleaning": {
            "notes_removed": corpus.cleaning.get("notes_removed", 0),
            "punctuation_unified": corpus.cleaning.get("punctuation_unified", 0),
            "doubled_marks": corpus.cleaning.get("doubled_marks", 0),
            "lost_characters": corpus.cleaning.get("lost_characters", 0),
            "stray_characters": corpus.cleaning.get("stray_characters", 0),
            "lost_excluded": 0 if include_lost else sum(1 for p in corpus.poems if p.lost),
            "empty_dropped": corpus.cleaning.get("empty_dropped", 0),
        },
    }
