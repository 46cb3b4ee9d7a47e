"""No lazy repeats: characters already in the poem are made less likely, deliberate 叠字 spared.

Real Tang poems repeat a character already in the poem at 2.7 % of their characters; a sampler
left alone repeats about 7 % (月光留月), because a recurrent model that has just written 月 finds
月 likely again. The penalty divides the probability of every character already written by
exp(strength) for each time it was written, before the draw (the CTRL-style repetition penalty,
on probabilities, counted like a frequency penalty):

    q'(c) ∝ q(c) · exp(−strength · n(c)),   n(c) = times c is already in the poem

Counting matters when something pulls hard toward one character: under the title 夜 with title
guidance, a 五律 of the sixth stop wrote 夜 four times (晓夜夜泠泠，残灯夜未扃 … 夜雨滴寒星), each
repeat paying the same e^−2 as the first. 2.3 % of the regulated val poems use a character three
times or more (a 叠字 counted once); 4.1 % of the 169 machine poems of the blind sheets did.

A stutter is no word at all, and is refused outright: a character right after itself that the train
split doubles fewer than DIEZI_MIN times (秋秋, 孝孝, 剪剪: a poet's review of the fifteenth stop
named 江江南 and 秋夜夜 beside 萧萧; 16 of the 229 poems of ours on sheets A–U hold a doubling the
corpus does not make often enough to be 叠字, 1 of their 24 real poems does: 一一), or a third in
a row (data/doubled.<script>.tsv, every character doubled at least DIEZI_MIN times).

Two kinds of repeat are not lazy and are spared:
- 叠字 (萧萧, 悠悠): right after a character that the train split doubles at adjacent positions
  (at least DIEZI_MIN times and in at least DIEZI_SHARE of its occurrences: 萧 19 %, 年 6 %, but
  not 山 0.2 % or 光 0.1 %; mined by scripts/build_duizhang.py into data/diezi.<script>.tsv),
  that same character is not penalised — once: a third in a row is;
- a theme character (藏字) not yet written is never penalised: the poem must hold it.

A line's keyword, once written in its line, counts KEYWORD_ECHO more times there: a model that
reads a plan copies the keyword it was given, and goes on copying it (秋风秋夜雨 under the keyword
秋). Real val lines hold their keyword's character twice in 1.3 % of the lines; ours, planned with
the same val poems' keywords, did in 5.6 % (docs/quality.md, "Eighth stop").

What the person asked for — an acrostic's, a prefix's or a typed character, anything forced —
is never refused where it is asked for, but once in the poem it counts as written like any other,
so the model does not echo it: until the eighth stop it did not count, and `--theme 月,秋` wrote
月月月临春 and 不是秋秋身 (every one of ten 五绝 at seeds 100–109), an acrostic's 冬 came back as
冬冬犹可嗟, and a written theme character, planned as its line's keyword, kept its pull.

A word written in another spelling is a repeat too: all six readers of the seventh stop's sheets Q
and R named 猨响 … 猿声 in one couplet. data/variants.tsv lists 233 groups of spellings Tang
verse uses as one word (猨 猿, 杯 桮, 窗 牕 窓 窻), hand-kept from yitizi's variant pairs; writing
one counts as writing each of the others.

The poets' great numbers, 千 and 万, are one figure of speech: every reader of sheet Y named 万里
beside 千里. Of the regulated Tang poems (train and val, 36,853), 1.7 % use them twice or more
outside 对仗 and 0.7 % only where they face each other in a couplet (千山鸟飞绝，万径人踪灭); of 200
of ours at the defaults, 7.0 % and 2.0 %. Writing one counts as writing the other (NUMBER_FAMILY),
except at the place that faces it in the other line of its couplet, where the pair is 对仗.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tangstudio.engine.compose.settings import StepInfo
    from tangstudio.engine.compose.tables import VocabTables

DATA = Path(__file__).parent / "data"
DIEZI_MIN = 5  # doubled at least this often in the train split to count as deliberate
DIEZI_SHARE = 0.02  # ... and in at least this share of the character's occurrences
_MARKS = "，。！？；、"
KEYWORD_ECHO = 2  # extra counts of a keyword character already written in its own line
NUMBER_FAMILY = "千万"  # one figure of speech: each counts as a repeat of the other, but in 对仗


def diezi_path(script: str) -> Path:
    return DATA / f"diezi.{script}.tsv"


def variants_path() -> Path:
    return DATA / "variants.tsv"


@lru_cache(maxsize=2)
def load_variants(script: str = "simplified") -> tuple[str, ...]:
    """The groups of variant spellings (data/variants.tsv), each character converted for
    traditional script (a character OpenCC leaves alone stays as it is)."""
    with open(variants_path(), encoding="utf-8") as f:
        groups = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    if script != "simplified":
        from tangstudio.engine.corpus.script import convert_many

        groups = ["".join(dict.fromkeys(convert_many(list(g), "simplified", script))) for g in groups]
    return tuple(g for g in groups if len(g) > 1)


def spelling_ids(stoi: dict[str, int], script: str) -> dict[int, tuple[int, ...]]:
    """token id -> the ids of its other spellings in this vocabulary (only ids that have one)."""
    out: dict[int, tuple[int, ...]] = {}
    for group in load_variants(script):
        ids = [stoi[c] for c in group if c in stoi]
        for t in ids:
            others = tuple(o for o in ids if o != t)
            if others:
                out[t] = others
    return out


def spellings_for(tables: VocabTables) -> dict[int, tuple[int, ...]]:
    """spelling_ids of a composer's vocabulary, built once and kept on its VocabTables."""
    return tables.cached("spellings", lambda: spelling_ids(tables.vocab.stoi, tables.vocab.script))


def mine_diezi(texts: Iterable[str]) -> tuple[Counter[str], Counter[str]]:
    """(doublings, occurrences) per character: how often it stands twice in a row inside a line
    (萧萧 counts once), and how often it occurs at all."""
    counts: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for text in texts:
        seen.update(text)
        prev = ""
        for ch in text:
            if ch in _MARKS:
                prev = ""
                continue
            if ch == prev:
                counts[ch] += 1
                prev = ""  # 萧萧萧 is one doubling, then a third
            else:
                prev = ch
    return counts, seen


def deliberate(doubled: Counter[str], seen: Counter[str]) -> dict[str, int]:
    """The characters doubled often enough, absolutely and as a share of their uses, to be 叠字."""
    return {ch: n for ch, n in sorted(doubled.items()) if n >= DIEZI_MIN and n >= DIEZI_SHARE * seen[ch]}


def write_diezi(kept: dict[str, int], path: Path, source: str) -> None:
    rows = [
        f"# 叠字: characters doubled at adjacent positions ({source}); "
        f"kept from {DIEZI_MIN} doublings and {DIEZI_SHARE:.0%} of the character's uses"
    ]
    rows += [f"{ch}\t{n}" for ch, n in kept.items()]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def doubled_path(script: str) -> Path:
    return DATA / f"doubled.{script}.tsv"


def write_doubled(doubled: Counter[str], path: Path, source: str) -> None:
    rows = [
        f"# characters doubled at adjacent positions at least {DIEZI_MIN} times ({source}), with the count"
    ]
    rows += [f"{ch}\t{n}" for ch, n in sorted(doubled.items()) if n >= DIEZI_MIN]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _first_column(path: Path) -> frozenset[str]:
    if not path.exists():
        return frozenset()
    with open(path, encoding="utf-8") as f:
        return frozenset(line.split("\t")[0] for line in f if not line.startswith("#") and line.strip())


@lru_cache(maxsize=2)
def load_doubled(script: str = "simplified") -> frozenset[str]:
    """Every character the train split doubles at least DIEZI_MIN times (empty without a list)."""
    return _first_column(doubled_path(script))


def stutter(line_text: str, doubled: frozenset[str]) -> str | None:
    """The character that may not come next in this line: the last one, when writing it again would
    double a character the corpus (almost) never doubles, or make a third in a row."""
    if not line_text:
        return None
    last = line_text[-1]
    if len(line_text) >= 2 and line_text[-2] == last:
        return last
    return None if last in doubled or not doubled else last


def stutter_id(tables: VocabTables, line_text: str) -> int | None:
    """`stutter` as a token id of the composer's vocabulary (None when nothing would stutter): what
    the sampler (steer) and beam search both refuse next."""
    char = stutter(line_text, load_doubled(tables.vocab.script))
    return tables.vocab.stoi.get(char) if char else None


@lru_cache(maxsize=2)
def load_diezi(script: str = "simplified") -> frozenset[str]:
    """The characters the corpus doubles (empty when no list was built for the script)."""
    return _first_column(diezi_path(script))


def repeated_share(text: str) -> float:
    """Share of a poem's characters that repeat one already in it (marks not counted)."""
    chars = [c for c in text if c not in _MARKS and not c.isspace()]
    return (len(chars) - len(set(chars))) / len(chars) if chars else 0.0


def repeat_counts(texts: Iterable[str]) -> tuple[int, int]:
    """(repeated characters, characters) over many poems: the report's pooled share."""
    rep = total = 0
    for text in texts:
        chars = [c for c in text if c not in _MARKS and not c.isspace()]
        rep += len(chars) - len(set(chars))
        total += len(chars)
    return rep, total


BREAK = -1  # in a list of written ids: a mark, which is no word and ends any 叠字 pair


def written_ids(history: Iterable[StepInfo], han_ids: dict[str, int]) -> list[int]:
    """The ids of the Chinese characters a poem holds so far, however each got there, with BREAK
    for each mark or end token (never penalised; 楼。楼 is a repeat, not a 叠字). `han_ids`: the
    vocabulary's Chinese characters only (han_ids_for), one lookup a step."""
    return [han_ids.get(s.chosen, BREAK) for s in history]


def han_ids_for(tables: VocabTables) -> dict[str, int]:
    """char -> id for the vocabulary's Chinese characters, built once and kept on its VocabTables."""
    itos = tables.vocab.itos
    return tables.cached("han_ids", lambda: {itos[i]: int(i) for i in np.flatnonzero(tables.hanzi)})


def penalised_counts(
    written: list[int],
    line_text: str,
    diezi: frozenset[str],
    stoi: dict[str, int],
    theme: frozenset[int] = frozenset(),
    spellings: dict[int, tuple[int, ...]] | None = None,
    keyword: str = "",
) -> dict[int, int]:
    """The token ids to penalise next, each with the times the poem holds it in any of its
    spellings (a 叠字 pair counted once) and KEYWORD_ECHO more for a character of the line's
    `keyword` already in the line (in any of its spellings), less the previous character when it
    may be doubled here (叠字) and the theme characters not written yet."""
    # A character right after itself (萧萧) is one use; BREAK is no character and ends a run.
    used = Counter(t for t, before in zip(written, [BREAK, *written]) if t != before and t != BREAK)
    if spellings:
        for t, n in list(used.items()):
            for other in spellings.get(t, ()):
                used[other] += n
    in_line = {stoi[ch] for ch in line_text if ch in stoi}
    for ch in set(keyword):
        if ch not in stoi:
            continue
        word = {stoi[ch], *(spellings or {}).get(stoi[ch], ())}  # the keyword in any spelling
        if word & in_line:
            for t in word:
                used[t] += KEYWORD_ECHO
    if line_text:
        prev = line_text[-1]
        doubled_already = len(line_text) >= 2 and line_text[-2] == prev
        if prev in diezi and not doubled_already:
            used.pop(stoi.get(prev, -1), None)
    for t in theme.difference(written):
        used.pop(t, None)
    return dict(used)


def apply_penalty(probs: np.ndarray, ids: list[int] | dict[int, int], strength: float) -> np.ndarray:
    """probs with `ids` scaled by exp(−strength), or by exp(−strength · count) when `ids` maps each
    id to a count; renormalised (unchanged if nothing is left)."""
    if not ids or strength <= 0:
        return probs
    out = probs.copy()
    if isinstance(ids, dict):
        index = np.fromiter(ids, dtype=np.int64, count=len(ids))
        counts = np.fromiter(ids.values(), dtype=np.float32, count=len(ids))
        out[index] *= np.exp(-np.float32(strength) * counts)
    else:
        out[ids] *= np.float32(np.exp(-strength))
    total = float(out.sum())
    return out / np.float32(total) if total > 0 else probs


def family_repeats(
    counts: dict[int, int], lines: list[str], line_text: str, stoi: dict[str, int]
) -> dict[int, int]:
    """`counts` with each member of NUMBER_FAMILY counted as written as often as the others are,
    unless the place faces a member in the first line of its couplet (对仗). `lines`: the poem's
    finished lines, without their marks; `line_text`: the line being written."""
    written = Counter(ch for text in (*lines, line_text) for ch in text if ch in NUMBER_FAMILY)
    if not written:
        return counts
    col = len(line_text)
    if len(lines) % 2 == 1 and col < len(lines[-1]) and lines[-1][col] in NUMBER_FAMILY:
        return counts  # 万径 facing 千山
    out = dict(counts)
    for ch in NUMBER_FAMILY:
        others = sum(n for other, n in written.items() if other != ch)
        if others and ch in stoi:
            out[stoi[ch]] = out.get(stoi[ch], 0) + others
    return out
