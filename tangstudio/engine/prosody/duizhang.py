"""对仗: how well the two lines of a 律诗 middle couplet answer each other, position by position.

In a 律诗 the 颔联 (lines 3–4) and the 颈联 (lines 5–6) pair up character by character: 山 against
水, 红 against 绿, noun against noun. Rather than hand-written word classes, the pairing is
measured from the corpus itself: every aligned pair (line 3's i-th character, line 4's i-th) of
the train split's 律诗 middle couplets is counted, and a pair scores by its pointwise mutual
information, how much likelier the two are to face each other than chance:

    PMI(a, b) = log( (c(a,b) − δ) / E(a,b) ),   E(a,b) = c(a)·c(b) / 2N   (a ≠ b; c(a)²/4N for a = b)

with c(a,b) the unordered pair's count (山/水 and 水/山 are one pair), c(a) how often a fills
either side, N the pairs counted and δ = 0.5 an absolute discount that keeps a pair seen twice
from looking like a law. A pair seen fewer than MIN_PAIR times is not stored; it scores
min(0, log(0.5 / E)): zero when chance would not have shown it either, negative when two common
characters that should have met often never did. A couplet scores the mean PMI of its aligned
pairs; each pair reads as often (PMI ≥ STRONG), rare (PMI < 0) or chance (between), and a 叠字
facing a 叠字 (萧萧／滚滚) as often, whatever its characters (aligned_pairs).

The counts live in data/duizhang.<script>.tsv, built deterministically by scripts/build_duizhang.py
and described in docs/prosody.md; they are read on first use, never at import.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from tangstudio.engine.hanzi import is_han

if TYPE_CHECKING:  # numpy is for the composer's bias only: `check` reads the table without it
    import numpy as np

DATA = Path(__file__).parent / "data"
MIDDLE = ((2, 3), (4, 5))  # 颔联 and 颈联: 0-based line indices of a 律诗
COUPLET_NAMES = ("颔联", "颈联")
LV_FORMS = ("wulv", "qilv")
MIN_PAIR = 2  # pairs seen fewer times are not stored
DISCOUNT = 0.5
STRONG = 1.0  # PMI at or above which a pair counts as a real answer (e ≈ 2.7 × chance)
_MARKS = "，。！？；、"


def table_path(script: str) -> Path:
    return DATA / f"duizhang.{script}.tsv"


def poem_lines(text: str) -> list[str]:
    """The lines of a poem written with full-width marks, marks dropped."""
    lines: list[str] = []
    cur: list[str] = []
    for ch in text:
        if ch in _MARKS:
            if cur:
                lines.append("".join(cur))
            cur = []
        elif not ch.isspace():
            cur.append(ch)
    if cur:
        lines.append("".join(cur))
    return lines


def middle_couplets(text: str) -> list[tuple[str, str]]:
    """The 颔联 and 颈联 of an eight-line poem of equal lines ([] for anything else)."""
    lines = poem_lines(text)
    if len(lines) != 8 or len({len(line) for line in lines}) != 1:
        return []
    return [(lines[a], lines[b]) for a, b in MIDDLE]


@dataclass
class PairCounts:
    """The mined counts: unordered aligned pairs, each character's side count, and the total."""

    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)  # (a, b) with a <= b -> count
    sides: Counter[str] = field(default_factory=Counter)  # char -> times it filled either side
    total: int = 0  # aligned pairs counted (N)

    def add(self, left: str, right: str) -> None:
        for a, b in zip(left, right):
            if not (is_han(a) and is_han(b)):  # a lost-character mark pairs with nothing
                continue
            self.pairs[(a, b) if a <= b else (b, a)] += 1
            self.sides[a] += 1
            self.sides[b] += 1
            self.total += 1


def mine(texts: Iterable[str]) -> PairCounts:
    """Count the aligned pairs of every 律诗 middle couplet among `texts`."""
    counts = PairCounts()
    for text in texts:
        for left, right in middle_couplets(text):
            counts.add(left, right)
    return counts


def write_table(counts: PairCounts, path: Path, source: str) -> None:
    """One line per character: its side count, then every partner seen at least MIN_PAIR times with
    the pair's count (each pair under both characters), in a fixed order (deterministic). One line
    per character lets `load_table` read only the side counts at start and a character's partners
    when it is first asked about (a 律诗's generate reads a few of the 6,000)."""
    partners: dict[str, list[str]] = {}
    for (a, b), n in sorted(counts.pairs.items()):
        if n >= MIN_PAIR:
            partners.setdefault(a, []).append(f"{b},{n}")
            if b != a:
                partners.setdefault(b, []).append(f"{a},{n}")
    rows = [
        "# 对仗 pair counts: aligned characters of 律诗 lines 3/4 and 5/6 (docs/prosody.md)",
        f"# source: {source}; pairs kept from {MIN_PAIR} sightings",
        "# character, times it filled either side, then partner,pair-count ...",
        f"=\t{counts.total}",
    ]
    rows += [f"{ch}\t{n}\t{' '.join(sorted(partners.get(ch, [])))}" for ch, n in sorted(counts.sides.items())]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _read_raw(path: Path) -> tuple[int, dict[str, int], dict[str, str]]:
    """(total, side counts, each character's unparsed partner list)."""
    total, sides, raw = 0, {}, {}
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line or line[0] == "#":
            continue
        cols = line.split("\t")
        if cols[0] == "=":
            total = int(cols[1])
            continue
        sides[cols[0]] = int(cols[1])
        if len(cols) > 2 and cols[2]:
            raw[cols[0]] = cols[2]
    return total, sides, raw


def _parse(text: str) -> dict[str, int]:
    found = {}
    for item in text.split(" "):
        b, n = item.split(",")
        found[b] = int(n)
    return found


def read_counts(path: Path) -> PairCounts:
    """The counts a table file holds (pairs below MIN_PAIR were not written)."""
    total, sides, raw = _read_raw(path)
    counts = PairCounts(total=total)
    counts.sides.update(sides)
    for a, text in raw.items():
        for b, n in _parse(text).items():
            counts.pairs[(a, b) if a <= b else (b, a)] = n
    return counts


class _LazyPartners:
    """A character's partners parsed from the file's line the first time it is asked for."""

    def __init__(self, raw: dict[str, str]) -> None:
        self.raw = raw
        self.parsed: dict[str, dict[str, int]] = {}

    def get(self, a: str, default: dict[str, int] | None = None) -> dict[str, int]:
        found = self.parsed.get(a)
        if found is None:
            text = self.raw.get(a)
            if text is None:
                return default if default is not None else {}
            found = self.parsed[a] = _parse(text)
        return found


class PairTable:
    """PMI of aligned pairs from mined counts (see the module docstring for the formula)."""

    def __init__(self, counts: PairCounts) -> None:
        self.counts = counts
        self.total = max(1, counts.total)
        partners: dict[str, dict[str, int]] = {}
        for (a, b), n in counts.pairs.items():
            if n >= MIN_PAIR:
                partners.setdefault(a, {})[b] = n
                partners.setdefault(b, {})[a] = n
        self.partners: dict[str, dict[str, int]] | _LazyPartners = partners

    @classmethod
    def from_file(cls, path: Path) -> PairTable:
        """A table file read for use: side counts now, partners on demand."""
        total, sides, raw = _read_raw(path)
        counts = PairCounts(total=total)
        counts.sides.update(sides)
        table = cls(counts)
        table.partners = _LazyPartners(raw)
        return table

    def expected(self, a: str, b: str) -> float:
        ca, cb = self.counts.sides.get(a, 0), self.counts.sides.get(b, 0)
        return ca * cb / (4 * self.total) if a == b else ca * cb / (2 * self.total)

    def pmi(self, a: str, b: str) -> float:
        e = self.expected(a, b)
        if e <= 0:
            return 0.0
        n = self.partners.get(a, {}).get(b, 0)
        if n >= MIN_PAIR:
            return math.log((n - DISCOUNT) / e)
        return min(0.0, math.log(DISCOUNT / e))

    def row(self, a: str, stoi: dict[str, int], sides: np.ndarray) -> np.ndarray:
        """PMI(a, b) for every b of a vocabulary at once (float32[V]); `sides` from `side_counts`."""
        import numpy as np

        ca = self.counts.sides.get(a, 0)
        out = np.zeros(len(sides), dtype=np.float32)
        if ca == 0:
            return out
        e = ca * sides / (2.0 * self.total)
        with np.errstate(divide="ignore"):
            unseen = np.where(e > 0, np.minimum(0.0, np.log(DISCOUNT / np.maximum(e, 1e-30))), 0.0)
        out[:] = unseen
        for b, n in self.partners.get(a, {}).items():
            j = stoi.get(b)
            if j is not None:
                out[j] = math.log((n - DISCOUNT) / self.expected(a, b))
        return out

    def best_partners(self, a: str, k: int = 3, min_count: int = 10) -> list[tuple[str, float]]:
        """The k characters that answer `a` best among pairs seen at least `min_count` times."""
        found = [(b, self.pmi(a, b)) for b, n in self.partners.get(a, {}).items() if n >= min_count]
        return sorted(found, key=lambda x: (-x[1], x[0]))[:k]

    def side_counts(self, itos: list[str]) -> np.ndarray:
        import numpy as np

        return np.array([self.counts.sides.get(c, 0) for c in itos], dtype=np.float64)


@lru_cache(maxsize=2)
def load_table(script: str = "simplified") -> PairTable | None:
    """The shipped table for a script (None if none was built for it)."""
    path = table_path(script)
    return PairTable.from_file(path) if path.exists() else None


def label(pmi: float) -> str:
    """often, chance or rare: how often the poets set the two characters face to face, as the PMI
    reads to one decimal (check shows it so; -0.04 is not "-0.0 rare" beside "+0.0 chance"). A habit
    of the corpus, not a grammar: 三月／万金 is 对仗, and 月↔金 is rare. The labels were strong, weak
    and against, which called 月↔金 and 边↔尽 "against" (a poet's review)."""
    shown = round(pmi, 1)
    return "often" if shown >= STRONG else "rare" if shown < 0 else "chance"


UNPAIRED = -0.5  # a middle couplet scoring under this reads as no 对仗: 1–2 % of the val split's real ones do


def unpaired_warning(couplet: CoupletReport) -> str | None:
    """A ⚠ for a middle couplet whose characters the poets almost never set face to face: a 颔联 of
    no parallel at all scored −0.80 and passed without a word (a poet's review). Of the val split's
    1,222 律诗, 1.8 % of the 颔联 and 0.9 % of the 颈联 score under UNPAIRED (2026-12-07)."""
    if couplet.score >= UNPAIRED:
        return None
    return (
        f"{couplet.name} may not be 对仗: its aligned pairs score {couplet.score:+.2f}, where under 2 % of "
        f"the Tang poets' middle couplets score below {UNPAIRED:+.1f}"
    )


@dataclass
class CoupletReport:
    """One middle couplet: its name, lines, mean aligned PMI and every pair with its label."""

    name: str
    left: str
    right: str
    score: float
    pairs: list[tuple[str, str, float, str]]

    def to_dict(self) -> dict[str, object]:
        return {
            "couplet": self.name,
            "lines": [self.left, self.right],
            "score": round(self.score, 3),
            "pairs": [{"pair": a + b, "pmi": round(p, 3), "label": lab} for a, b, p, lab in self.pairs],
            "warning": unpaired_warning(self),
        }


def aligned_pairs(table: PairTable, left: str, right: str) -> list[tuple[str, str, float, str]]:
    """Each aligned pair with its PMI and label. A 叠字 against a 叠字 at the same places (无边落木萧萧下
    ／不尽长江滚滚来) is 对仗 by its form whatever the characters: both of its pairs count as strong
    (at least STRONG, labelled 叠字), where 萧/滚 alone scored 0 ("weak", now "chance") in a poet's review."""
    doubled = {
        i
        for j in range(len(left) - 1)
        if left[j] == left[j + 1] and right[j] == right[j + 1] and left[j] != right[j]
        for i in (j, j + 1)
    }
    out = []
    for i, (a, b) in enumerate(zip(left, right)):
        pmi = table.pmi(a, b)
        out.append((a, b, max(pmi, STRONG), "叠字") if i in doubled else (a, b, pmi, label(pmi)))
    return out


def couplet_score(table: PairTable, left: str, right: str) -> float:
    scores = [p for _, _, p, _ in aligned_pairs(table, left, right)]
    return sum(scores) / len(scores) if scores else 0.0


def report(text: str, script: str = "simplified", table: PairTable | None = None) -> list[CoupletReport]:
    """The 对仗 of each middle couplet of an eight-line poem ([] for other shapes or no table)."""
    return report_lines(poem_lines(text), script, table)


def report_lines(
    lines: list[str], script: str = "simplified", table: PairTable | None = None
) -> list[CoupletReport]:
    """`report` for a poem already split into lines (what `check` holds)."""
    if len(lines) != 8 or len({len(line) for line in lines}) != 1:
        return []
    table = table or load_table(script)
    if table is None:
        return []
    out = []
    for name, (a, b) in zip(COUPLET_NAMES, MIDDLE):
        left, right = lines[a], lines[b]
        pairs = aligned_pairs(table, left, right)
        score = sum(p for _, _, p, _ in pairs) / len(pairs)
        out.append(CoupletReport(name, left, right, score, pairs))
    return out
