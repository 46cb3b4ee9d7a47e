"""Held-out loss in one agreed counting, so every model and baseline is compared on the same terms.

Counted: every character of the poem body (punctuation included) plus the end token; the start
token is given, never predicted, never counted. loss = mean nats per counted token,
bits/char = nats / ln 2, perplexity = exp(nats). For the BiLSTM each position is predicted from
both sides without seeing itself: that is a pseudo-likelihood, labelled `ppl_kind = "pseudo"`,
and not comparable with a causal perplexity.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import torch

from tangstudio.engine.corpus import Poem
from tangstudio.engine.corpus.keywords import KeywordModel
from tangstudio.engine.corpus.vocab import PAD
from tangstudio.engine.models.archs import ppl_kind_of
from tangstudio.engine.training.batching import causal_batch, pad, planned_batch
from tangstudio.engine.training.head_loss import head_loss

if TYPE_CHECKING:
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.runs.loaded import Loaded

Item = TypeVar("Item", list[int], tuple[list[int], list[bool]])


def _length(item: list[int] | tuple[list[int], list[bool]]) -> int:
    return len(item[0]) if isinstance(item, tuple) else len(item)


def batches_by_length(seqs: list[Item], max_tokens: int) -> list[list[Item]]:
    ordered = sorted(seqs, key=_length)
    batches: list[list[Item]] = []
    current: list[Item] = []
    for seq in ordered:
        if current and _length(seq) * (len(current) + 1) > max_tokens:
            batches.append(current)
            current = []
        current.append(seq)
    if current:
        batches.append(current)
    return batches


@torch.no_grad()
def loss_sums(
    model: torch.nn.Module,
    seqs: list[list[int]] | list[tuple[list[int], list[bool]]],
    device: torch.device | str = "cpu",
    max_tokens: int = 8192,
    autocast: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
) -> tuple[float, int]:
    """(total nats, counted tokens) over the sequences, in eval mode; the caller's mode is restored.

    `on_batch(done, total)` after each batch lets a face show progress (the CLI's bar)."""
    causal = bool(model.causal)  # build_model's models say it (archs.ARCHS[arch].causal)
    was_training = model.training
    model.eval()
    device = torch.device(device)
    total = torch.zeros((), dtype=torch.float64, device=device)
    count = 0
    try:
        # One kind per call (a split is all plain or all planned), so Item is either; mypy cannot
        # pick a constraint of the TypeVar from the union, hence the cast.
        groups: list[list[Any]] = batches_by_length(cast("list[Any]", seqs), max_tokens)
        for done, group in enumerate(groups, 1):
            if causal:
                batch = planned_batch(group) if isinstance(group[0], tuple) else causal_batch(group)
                inputs, targets, lengths = batch.inputs, batch.targets, batch.lengths
            else:
                inputs, lengths = pad(group)
                targets = inputs.clone()
                targets[:, 0] = PAD
            inputs, targets = inputs.to(device), targets.to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                features, weight, bias = model(inputs, lengths.to(device), features=True)
            # the head in fp32 on scored rows, a chunk at a time: never the batch's B×T×V logits
            nats = head_loss(features.float(), weight, bias, targets, bf16=False)[0]
            total += nats.double()
            count += int((targets != PAD).sum())
            if on_batch is not None:
                on_batch(done, len(groups))
    finally:
        model.train(was_training)
    return float(total), count


def summarize(nats: float, count: int, ppl_kind: str, poems: int) -> dict[str, Any]:
    """loss (nats per counted token), bits_per_char, ppl, ppl_kind, chars (tokens counted), poems."""
    loss = nats / count if count else float("nan")
    return {
        "loss": loss,
        "bits_per_char": loss / math.log(2),
        "ppl": math.exp(loss) if loss < 700 else float("inf"),
        "ppl_kind": ppl_kind,
        "chars": count,
        "poems": poems,
    }


def evaluate(
    model_or_loaded: torch.nn.Module | Loaded,
    vocab: Vocab | None = None,
    poems: list[Poem] | None = None,
    *,
    device: torch.device | str | None = None,
    max_tokens: int = 8192,
    autocast: bool = False,
    rank: int = 0,
    world: int = 1,
    all_reduce: Callable[[list[float]], list[float]] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
    condition: str = "untitled",
    keyword_model: KeywordModel | None = None,
) -> dict[str, Any]:
    """Mean loss, bits/char, perplexity and tokens counted on `poems` (Poem objects or raw texts).

    Accepts a model or a LoadedModel (`load_checkpoint`). Under DDP each rank takes every
    `world`-th poem and `all_reduce` sums the (nats, count) pairs, so the result is global.
    `condition` (plan_data.CONDITIONS) says what a model with a plan is given besides the poem,
    its keywords read by `keyword_model`; "untitled" is the plain poem, the same tokens counted.
    """
    model = cast(torch.nn.Module, getattr(model_or_loaded, "model", model_or_loaded))  # a Loaded holds one
    vocab = vocab if vocab is not None else getattr(model_or_loaded, "vocab", None)
    if vocab is None:
        raise ValueError("evaluate() needs a vocabulary with a bare model")
    poems = list(poems or [])
    if device is None:
        device = next(model.parameters()).device
    seqs: list[list[int]] | list[tuple[list[int], list[bool]]]
    if condition != "untitled":
        if keyword_model is None or not vocab.has_plan:
            raise ValueError(f"condition {condition!r} needs a model with a plan and a keyword model")
        from tangstudio.engine.training.plan_data import condition_items, plan_poems

        planned = plan_poems([p for p in poems if isinstance(p, Poem)], keyword_model, vocab)
        seqs = condition_items(planned, vocab, condition)
    else:
        seqs = [
            vocab.encode_poem(p.text, p.form) if isinstance(p, Poem) else vocab.encode_poem(p, None)
            for p in poems
        ]
    nats, count = loss_sums(model, seqs[rank::world], device, max_tokens, autocast, on_batch)
    if all_reduce is not None:
        nats, summed = all_reduce([nats, float(count)])
        count = round(summed)
    kind = ppl_kind_of(bool(model.causal))
    return summarize(nats, count, kind, len(poems))


def _progress(say: Callable[[str, int, int | None], None], what: str) -> Callable[[int, int], None]:
    """`on_batch` for one phase: `say(what, done, total)` after each batch."""
    return lambda done, total: say(what, done, total)


def planned_conditions(poems: int, as_trained: bool) -> list[str]:
    """What `eval` reads a model with a plan under (plan_data.CONDITIONS), the as-trained one first.
    One poem has no other poem's title to read: `other_title` would read its own title, and `eval`
    showed it as "with another poem's title", equal to "with its title" (a review)."""
    from tangstudio.engine.training.plan_data import CONDITIONS

    if as_trained:
        return list(CONDITIONS[:1])
    return [c for c in CONDITIONS if c != "other_title" or poems >= 2]


def evaluate_checkpoint(
    target: str,
    split: str = "val",
    device: str = "cpu",
    progress: Callable[[str, int, int | None], None] | None = None,
    author: str | None = None,
    forms: str | None = None,
    as_trained: bool = False,
) -> dict[str, Any]:
    """`tangstudio eval`: a run's best checkpoint on its own corpus and forms (or `forms`), after
    checking the corpus still gives the checkpoint's vocabulary (else the numbers would be
    meaningless).

    A run started with --init-from reads its source model's vocabulary, not the one its own train
    split would give, so it is not checked against the corpus; the share of the split's characters
    read as <unk> is reported instead (`unknown_chars`). `forms` scores a model on other forms than
    it was trained on (leg 3's all-forms model on the regulated poems the composer writes), so
    that two models trained on different forms meet on the same text.

    `as_trained`: only the first condition (a planned model with each poem's own title and plan),
    not the four others, in a fifth of the time.

    `progress(what, done, total)` says which phase runs (total None: no count yet), for a face to show."""

    def say(what: str, done: int = 0, total: int | None = None) -> None:
        if progress is not None:
            progress(what, done, total)

    from tangstudio.engine.compose.model_ref import load_model
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.training.data import check_vocab
    from tangstudio.engine.training.device import resolve_device

    if split not in ("val", "test", "train"):
        raise TangError(f"unknown split {split!r}; choose val, test or train")
    dev = resolve_device(device)
    say(f"loading {target}")
    loaded = load_model(str(target), str(dev))  # `default` is the shipped model
    meta = loaded.meta
    try:
        corpus_name, trained_forms = meta["corpus"]["name"], meta["forms"]
    except (KeyError, TypeError):
        raise TangError(f"checkpoint {loaded.path} does not say which corpus it was trained on") from None
    forms = forms or trained_forms
    say(f"loading corpus {corpus_name}")
    from tangstudio.engine.corpus.source import available_corpora

    if corpus_name not in available_corpora():  # said with the run's name, not "unknown corpus 'wj'"
        raise TangError(
            f"{_run_name(loaded.path) or loaded.path} was trained on corpus {corpus_name!r}, which is not in "
            f"this home (corpora: {', '.join(available_corpora())}): import it again with "
            f"`tangstudio corpus import PATH --name {corpus_name}`"
        )
    corpus = load_corpus(corpus_name, loaded.vocab.script)
    inherited = bool((meta.get("train_config") or {}).get("init_from"))
    if not inherited:
        say("checking the vocabulary")
        check_vocab(loaded.vocab, corpus.select(trained_forms, "train"), corpus_name, loaded.vocab.script)
    from tangstudio.engine.corpus.authors import by_author

    poems = by_author(corpus.select(forms, split), author, corpus.poems)
    if not poems:
        raise TangError(f"corpus {corpus_name!r} has no {split} poems of forms {forms!r}")
    conditions = ["untitled"]
    keyword_model = None
    if loaded.vocab.has_plan and loaded.config.causal:
        from tangstudio.engine.corpus.keywords import train_keyword_model

        say("reading the train split's keywords")
        keyword_model = train_keyword_model(corpus, trained_forms)
        conditions = planned_conditions(len(poems), as_trained)
    results = {}
    for condition in conditions:
        what = f"evaluating {len(poems):,} {split} poems" + (f" ({condition})" if len(conditions) > 1 else "")
        say(what)
        results[condition] = evaluate(
            loaded,
            poems=poems,
            device=dev,
            on_batch=_progress(say, what),
            condition=condition,
            keyword_model=keyword_model,
        )
    result = results[conditions[0]]
    extra = {f"ppl_{c}": r["ppl"] for c, r in results.items() if c != "planned"}
    if "untitled" in results:
        # `loss` and `bits_per_char` are the headline reading's, as `ppl` is (as trained, for a model
        # with plans); the untitled ones, which the table and `score` lead with, are given by name
        # for every model (an auditor scripting off the JSON read 4.74 bits where the table said 5.88)
        untitled = results["untitled"]
        extra |= {"loss_untitled": untitled["loss"], "bits_per_char_untitled": untitled["bits_per_char"]}
    return {
        # The folder's name: a run copied (`cp -a runs/r2 runs/c4`) keeps r2 in its meta.json.
        "run": _run_name(loaded.path) or meta.get("run"),
        "checkpoint": str(loaded.path),
        "model": str(loaded.path),  # as generate, score and inspect call it ("checkpoint" kept)
        "step": meta.get("step"),
        "arch": loaded.config.arch,
        "corpus": corpus_name,
        "forms": forms,
        "trained_forms": trained_forms,
        "split": split,
        "author": author,
        "unknown_chars": _unknown_share(loaded.vocab, poems),  # as train's start event counts them
        **result,
        "ppl_condition": conditions[0],  # what `ppl` read: "planned" (as trained) or "untitled"
        **extra,
    }


def _unknown_share(vocab: Vocab, poems: list[Poem]) -> float:
    """The share of the poems' characters the vocabulary reads as <unk>: they are scored as one
    token, which flatters a perplexity when the share is large."""
    from tangstudio.engine.training.init_from import unknown_share

    unknown, total = unknown_share([vocab.encode_poem(p.text, p.form) for p in poems])
    return unknown / max(1, total)


def _run_name(checkpoint: Path) -> str | None:
    """The run a checkpoint folder belongs to (…/NAME/checkpoints/best), or None for a bare one."""
    return checkpoint.parent.parent.name if checkpoint.parent.name == "checkpoints" else None
