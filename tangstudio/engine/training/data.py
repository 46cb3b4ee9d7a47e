"""From a corpus selection to id sequences: `[start(form), chars..., <eos>]` per poem.

The vocabulary comes from the train split of the selected forms only, so validation and test
characters the model never saw count as <unk> instead of leaking into the vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

from tangstudio.engine.corpus import Corpus, Poem, load_corpus
from tangstudio.engine.corpus.authors import by_author
from tangstudio.engine.corpus.keywords import KeywordModel, train_keyword_model
from tangstudio.engine.corpus.selection import select_poems
from tangstudio.engine.corpus.vocab import Vocab
from tangstudio.engine.errors import TangError
from tangstudio.engine.training.plan_data import PlannedPoem, plan_poems


@dataclass
class TrainingData:
    corpus_name: str
    fingerprint: str
    script: str
    forms: str
    vocab: Vocab
    train: list[list[int]]  # encoded train poems that fit max_len
    val_poems: list[Poem]  # the (possibly subsampled) val poems evaluated during training
    dropped: int  # train poems longer than max_len, left out of training
    plans: list[PlannedPoem] | None = None  # the same poems with title and keywords (plan_data.py)
    keyword_model: KeywordModel | None = None  # the train split's, for the val poems' plans

    @property
    def lengths(self) -> list[int]:
        """Each train sequence's length as batched: with title and every keyword when planned."""
        if self.plans is not None:
            return [p.full_length for p in self.plans]
        return [len(s) for s in self.train]


def encode_poems(poems: list[Poem], vocab: Vocab) -> list[list[int]]:
    return [vocab.encode_poem(p.text, p.form) for p in poems]


def check_vocab(
    vocab: Vocab | None, train_poems: list[Poem], corpus: str, script: str, markers: bool = True
) -> Vocab:
    """The vocabulary the train split gives now; a checkpoint's must be identical to it.

    A new vocabulary has the plan markers when `markers` says the model will read a plan."""
    markers = vocab.has_plan if vocab is not None else markers
    built = Vocab.build((p.text for p in train_poems), script, markers=markers)
    if vocab is not None and (vocab.itos != built.itos or vocab.script != script):
        raise TangError(
            f"the checkpoint's vocabulary ({len(vocab)} tokens) does not match corpus {corpus!r} "
            f"as it is now ({len(built)} tokens); was the corpus re-imported or changed?"
        )
    return vocab or built


def eval_subset(poems: list[Poem], limit: int, seed: int) -> list[Poem]:
    """A fixed sample of the val split for the evaluations during training (0 = all): a full pass
    of a big model over every val poem can take minutes on a CPU, and model selection only needs
    a few tens of thousands of characters. `tangstudio eval` always uses the whole split."""
    if not limit or len(poems) <= limit:
        return poems
    import torch

    order = torch.randperm(len(poems), generator=torch.Generator().manual_seed(seed))[:limit]
    return [poems[i] for i in sorted(order.tolist())]


def val_sample(data: Corpus, forms: str, author: str | None, limit: int) -> list[Poem]:
    """The val poems the evaluations during training read: `eval_subset` of the val bucket as it was
    before copies were set apart, the copies then taken out. Drawn from the val split alone, setting
    64 copies apart replaced 375 of the 500 poems every run is selected on (an evaluator's review);
    this way only the copies leave the sample."""
    from tangstudio.engine.corpus.splits import split_of
    from tangstudio.engine.training.config import EVAL_SUBSET_SEED

    bucket = by_author([p for p in data.select(forms) if split_of(p.id) == "val"], author, data.poems)
    return [p for p in eval_subset(bucket, limit, EVAL_SUBSET_SEED) if p.split == "val"]


def load_training_data(
    corpus: str,
    script: str,
    forms: str,
    max_len: int,
    vocab: Vocab | None = None,
    eval_poems: int = 0,
    plan: bool = False,
    author: str | None = None,
    check: bool = True,
) -> TrainingData:
    """Train sequences and val poems; `vocab` (from a checkpoint) must match the corpus if given.

    With `plan` (a causal model whose vocabulary has the markers), each train poem also carries
    its cleaned title and one keyword per line, read from the train split by TF-IDF. `author`
    keeps one poet's poems (train and val); `check=False` takes `vocab` as it is (a run started
    with --init-from reads the source model's vocabulary, not the corpus's)."""
    data = load_corpus(corpus, script)
    train_poems, val_poems = select_poems(data, corpus, forms, author)
    if check or vocab is None:
        vocab = check_vocab(vocab, train_poems, corpus, script, markers=plan)
    encoded = encode_poems(train_poems, vocab)
    keyword_model = plans = None
    if plan and vocab.has_plan:  # keywords by the whole corpus's statistics, even for one poet
        keyword_model = train_keyword_model(data, forms)
        planned = plan_poems(train_poems, keyword_model, vocab)
        fits = [p.full_length <= max_len for p in planned]
        plans = [p for p, fit in zip(planned, fits) if fit]
    else:
        fits = [len(seq) <= max_len for seq in encoded]
    kept = [seq for seq, fit in zip(encoded, fits) if fit]
    if not kept:
        raise TangError(f"every train poem is longer than max_len={max_len}")
    if eval_poems:  # the whole val split when its bucket fits the limit
        val_poems = val_sample(data, forms, author, eval_poems)
    return TrainingData(
        corpus,
        data.fingerprint,
        script,
        forms,
        vocab,
        kept,
        val_poems,
        len(encoded) - len(kept),
        plans,
        keyword_model,
    )
