"""Per-vocabulary lookup tables, turned into boolean masks once so a step's masking is a few array ops.

Looking up the tones of 7,000 characters costs tens of milliseconds; doing it at every step would
cost more than the model. So each vocabulary gets, once: which ids are Chinese characters, which
may be read 平 or 仄 (a character with both readings, or none known, fits either, as in the
checker), and one mask per 平水韵 平 group. The masks are numpy arrays: composing never waits
for torch to import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

import numpy as np

from tangstudio.engine.corpus.vocab import EOS, Vocab
from tangstudio.engine.errors import TangError
from tangstudio.engine.hanzi import CLAUSE_END, COMMA, PERIOD, is_han
from tangstudio.engine.prosody import PING_GROUPS, end_tones, inner_tones, tones
from tangstudio.engine.prosody.tables import (
    PING,
    ZE,
    rhyming_groups,  # rare rhyme readings left out (還 in 一先)
)

__all__ = ["COMMA", "LINE_ENDS", "PERIOD", "VocabTables", "tables_for"]

LINE_ENDS = CLAUSE_END  # what may close a line in a prefix


T = TypeVar("T")


@dataclass
class VocabTables:
    vocab: Vocab
    hanzi: np.ndarray  # bool[V]: a Chinese character (not punctuation, specials, □ or latin)
    # bool[V]: in simplified script, a rarer spelling of a word whose common one is in the vocabulary
    # (鴈 beside 雁, 劒 beside 剑: data/variants.tsv); the composer never draws one on its own, though
    # a person may still type, theme or acrostic it.
    rare_spelling: np.ndarray
    # bool[V]: what the composer never draws on its own: the rare spellings, and characters of no
    # known reading (㔉, 𥐻: 107 of the default's), whose tone no line can be judged by.
    not_drawn: np.ndarray
    # bool[V]: hanzi heard 平 inside a line (prosody.inner_tones: 不 is 仄 there, 吟 平), and at its
    # end (prosody.end_tones: 間, 中, 行 are 平 there). A character of no known tone is in all of
    # them, as the checker lets it fit, so a person may type one; `not_drawn` keeps the composer off it.
    ping: np.ndarray
    ze: np.ndarray
    ping_end: np.ndarray
    ze_end: np.ndarray
    group_index: dict[str, int]  # 平 group -> row of group_masks
    group_masks: np.ndarray  # bool[G, V]
    rhymable: np.ndarray  # bool[V]: hanzi in at least one 平 group
    tones_of: list[frozenset[str]]  # per id: its tones inside a line (prosody.inner_tones)
    all_tones_of: list[frozenset[str]]  # per id: every reading's tone (prosody.tones), for given text
    groups_of: list[frozenset[str]]  # per id: its 平 groups only
    end_tones_of: list[frozenset[str]]  # per id: its tones where it ends a line
    punct_ids: dict[str, int]  # line-ending marks present in the vocabulary
    line_end: np.ndarray  # bool[V]: the ids of punct_ids
    # What others build once per vocabulary and keep here, so every composer of it shares them
    # (craft/pairing.py's PairBias, craft/repetition.py's spellings); never part of equality.
    caches: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def cached(self, name: str, build: Callable[[], T]) -> T:
        """What `build` makes for this vocabulary: made on first use, then shared (`caches`)."""
        if name not in self.caches:
            self.caches[name] = build()
        return cast("T", self.caches[name])

    @property
    def comma(self) -> int:
        return self.punct_ids[COMMA]

    @property
    def period(self) -> int:
        return self.punct_ids[PERIOD]

    def tones_at(self, token_id: int, line_end: bool) -> frozenset[str]:
        """The tones `token_id` is heard in: the common reading where the poets nearly always use one,
        at a line end (prosody.end_tones) or inside it (prosody.inner_tones)."""
        return self.end_tones_of[token_id] if line_end else self.tones_of[token_id]

    def given_tones(self, token_id: int, line_end: bool) -> frozenset[str]:
        """The tones a character a person gave (a prefix, a kept line) may stand for: every reading
        inside a line, as the checker allows it, so 向晚意不适 given is not "relaxed" by its 不."""
        return self.end_tones_of[token_id] if line_end else self.all_tones_of[token_id]

    def onehot(self, token_id: int) -> np.ndarray:
        mask = np.zeros_like(self.hanzi)
        mask[token_id] = True
        return mask

    def rhyme_mask(self, groups: frozenset[str]) -> np.ndarray:
        rows = [self.group_index[g] for g in groups if g in self.group_index]
        if not rows:
            return np.zeros_like(self.hanzi)
        return np.asarray(self.group_masks[rows].any(axis=0))


_CACHE: dict[int, tuple[Vocab, VocabTables]] = {}


def tables_for(vocab: Vocab) -> VocabTables:
    """Build (or reuse) the tables of a vocabulary; keyed by identity, holding the vocab alive."""
    hit = _CACHE.get(id(vocab))
    if hit is not None and hit[0] is vocab:
        return hit[1]
    tables = _build(vocab)
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[id(vocab)] = (vocab, tables)
    return tables


def _rare_spellings(vocab: Vocab) -> np.ndarray:
    """bool[V]: a spelling of a word outside GB 2312, the standard set of simplified characters,
    when another spelling of it (its data/variants.tsv group) inside the set is in the vocabulary:
    鴈 beside 雁, 劒 beside 剑. Simplified text only: the readers of simplified poems took these for
    slips of the script, while a traditional text writes them as the Tang copies do."""
    from tangstudio.engine.compose.craft.repetition import load_variants

    rare = np.zeros(len(vocab), dtype=bool)
    if vocab.script != "simplified":
        return rare
    for group in load_variants(vocab.script):
        present = [c for c in group if c in vocab.stoi]
        standard = [c for c in present if _in_gb2312(c)]
        if standard:
            rare[[vocab.stoi[c] for c in present if c not in standard]] = True
    return rare


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _build(vocab: Vocab) -> VocabTables:
    V, script = len(vocab), vocab.script
    for mark in (COMMA, PERIOD):
        if mark not in vocab.stoi:
            raise TangError(
                f"this model's vocabulary has no {mark!r}, so it cannot write lines; train it on poems with punctuation"
            )
    hanzi = [False] * V
    ping = [False] * V
    ze = [False] * V
    ping_end = [False] * V
    ze_end = [False] * V
    tones_of: list[frozenset[str]] = [frozenset()] * V
    all_tones_of: list[frozenset[str]] = [frozenset()] * V
    end_tones_of: list[frozenset[str]] = [frozenset()] * V
    groups_of: list[frozenset[str]] = [frozenset()] * V
    group_index = {g: i for i, g in enumerate(PING_GROUPS)}
    members: list[list[int]] = [[] for _ in PING_GROUPS]
    for i in range(vocab.first_char_id, V):
        ch = vocab.itos[i]
        if len(ch) != 1 or not is_han(ch):
            continue
        hanzi[i] = True
        tones_of[i] = inner_tones(ch, script)
        all_tones_of[i] = tones(ch, script)
        unknown = not tones_of[i]  # fits any place, as the checker has it (typed); never drawn (not_drawn)
        ping[i] = unknown or PING in tones_of[i]
        ze[i] = unknown or ZE in tones_of[i]
        end_tones_of[i] = end_tones(ch, script)
        ping_end[i] = unknown or PING in end_tones_of[i]
        ze_end[i] = unknown or ZE in end_tones_of[i]
        g = frozenset(x for x in rhyming_groups(ch, script) if x in group_index)
        groups_of[i] = g
        for x in g:
            members[group_index[x]].append(i)
    group_masks = np.zeros((len(PING_GROUPS), V), dtype=bool)
    for row, ids in enumerate(members):
        if ids:
            group_masks[row, ids] = True
    rare_spelling = _rare_spellings(vocab)
    hanzi_mask = np.array(hanzi, dtype=bool)
    known_tone = np.array([bool(t) for t in tones_of], dtype=bool)
    punct_ids = {m: vocab.stoi[m] for m in LINE_ENDS if m in vocab.stoi}
    line_end = np.zeros(V, dtype=bool)
    line_end[list(punct_ids.values())] = True
    assert vocab.first_char_id > EOS
    return VocabTables(
        vocab=vocab,
        hanzi=hanzi_mask,
        rare_spelling=rare_spelling,
        not_drawn=rare_spelling | (hanzi_mask & ~known_tone),
        ping=np.array(ping, dtype=bool),
        ze=np.array(ze, dtype=bool),
        ping_end=np.array(ping_end, dtype=bool),
        ze_end=np.array(ze_end, dtype=bool),
        group_index=group_index,
        group_masks=group_masks,
        rhymable=np.asarray(group_masks.any(axis=0)),
        tones_of=tones_of,
        all_tones_of=all_tones_of,
        groups_of=groups_of,
        end_tones_of=end_tones_of,
        punct_ids=punct_ids,
        line_end=line_end,
    )
