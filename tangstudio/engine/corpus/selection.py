"""The poems a run trains and validates on: a corpus's forms, and one poet's when `--author` asks.

Torch-free, so that a face can refuse an unknown poet or an empty selection before torch loads,
and before a new run's folder is made (`check_selection`)."""

from __future__ import annotations

from tangstudio.engine.corpus import Corpus, Poem, load_corpus
from tangstudio.engine.corpus.authors import by_author
from tangstudio.engine.errors import TangError


def select_poems(data: Corpus, corpus: str, forms: str, author: str | None) -> tuple[list[Poem], list[Poem]]:
    """The train and val poems of the selection; a TangError when either is empty or the poet unknown."""
    train_poems = by_author(data.select(forms, "train"), author, data.poems)
    val_poems = by_author(data.select(forms, "val"), author, data.poems)
    if not train_poems:
        raise TangError(f"corpus {corpus!r} has no train poems of forms {forms!r}")
    if not val_poems:
        raise TangError(
            f"corpus {corpus!r} has no validation poems of forms {forms!r}; choose more forms or a larger corpus"
        )
    return train_poems, val_poems


def check_selection(corpus: str, script: str, forms: str, author: str | None) -> None:
    """Refuse a selection with nothing to train on before a new run's folder is made: refused after
    it, the folder lived a moment and a studio scanning the runs listed a ghost run.
    The corpus stays in this process's cache, so the trainer's load after it costs nothing more."""
    select_poems(load_corpus(corpus, script), corpus, forms, author)
