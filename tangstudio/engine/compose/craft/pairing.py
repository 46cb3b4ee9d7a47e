"""对仗 while writing: lines 4 and 6 of a 律诗 lean toward characters that answer lines 3 and 5.

At line 4 (or 6), column i, the character a at line 3 (or 5), column i, is known. Every candidate
b is weighed by how much likelier the corpus makes it to face a (prosody.duizhang's PMI):

    q'(b) ∝ q(b) · exp(strength · clip(PMI(a, b), −CLIP, CLIP))

a bias, not a rule: the form, rhyme and tone masks are applied before it and it only reorders what
they allow. The clip keeps a rare pair seen twice from outshouting the model (a PMI of 6 would be
a factor of 400 at strength 1). Rows are computed once per aligned character and cached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tangstudio.engine.prosody.duizhang import LV_FORMS, MIDDLE, PairTable, label, load_table

if TYPE_CHECKING:
    from tangstudio.engine.compose.tables import VocabTables

CLIP = 3.0
_SECOND = {b: a for a, b in MIDDLE}  # line 4 answers line 3, line 6 answers line 5 (0-based 3→2, 5→4)


class PairBias:
    """The 对仗 lean for one vocabulary (built on first use of a 律诗, cached by the tables)."""

    def __init__(self, table: PairTable, itos: list[str]) -> None:
        self.table = table
        self.itos = itos
        self.stoi = {c: i for i, c in enumerate(itos)}
        self.sides = table.side_counts(itos)
        self._rows: dict[str, np.ndarray] = {}

    def row(self, a: str) -> np.ndarray:
        row = self._rows.get(a)
        if row is None:
            row = np.clip(self.table.row(a, self.stoi, self.sides), -CLIP, CLIP).astype(np.float32)
            self._rows[a] = row
        return row

    def apply(self, probs: np.ndarray, a: str, strength: float) -> np.ndarray:
        if strength <= 0:
            return probs
        out = probs * np.exp(np.float32(strength) * self.row(a))
        total = float(out.sum())
        return out / np.float32(total) if total > 0 else probs

    def partners(self, a: str, k: int = 3, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The k characters that answer `a` best (highest PMI; within `allowed` when given)."""
        row = self.row(a) if allowed is None else np.where(allowed, self.row(a), -np.inf)
        best = np.argsort(-row, kind="stable")[:k]
        return [(self.itos[i], float(row[i])) for i in best if np.isfinite(row[i]) and row[i] > 0]


def aligned_char(form: str, n_chars: int | None, line: int, col: int, text: str) -> str | None:
    """The character that line `line` (0-based), column `col`, should answer, or None here."""
    if form not in LV_FORMS or n_chars is None or line not in _SECOND or col >= n_chars:
        return None
    first = _SECOND[line] * (n_chars + 1) + col
    return text[first] if first < len(text) else None


def bias_for(tables: VocabTables) -> PairBias | None:
    """The PairBias of a composer's VocabTables (None when no table was built for the script),
    kept on the tables so every composer of one vocabulary shares its cached rows."""

    def build() -> PairBias | None:
        table = load_table(tables.vocab.script)
        return None if table is None else PairBias(table, tables.vocab.itos)

    return tables.cached("pair_bias", build)


def describe(a: str, b: str, table: PairTable) -> str:
    """'山 ↔ 水 · PMI 2.31 often' for the studio and notes."""
    pmi = table.pmi(a, b)
    return f"{a} ↔ {b} · PMI {pmi:.2f} {label(pmi)}"
