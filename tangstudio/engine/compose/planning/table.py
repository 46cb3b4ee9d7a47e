"""The planner's statistics as shipped package data, read once and only when a plan is asked for.

The file (planner.<script>.json.xz, written by scripts/build_planner.py) holds plain counts;
reading turns them into what proposing needs: a log prior per keyword and poem quarter, how common
each keyword is (log df), and the smoothed PMI (build.smoothed_marginal, α = build.ALPHA) of each
kept (title word, keyword) and (keyword, keyword) pair. Counting keywords
over the corpus takes seconds; reading this takes a few hundredths, and only the first time.
"""

from __future__ import annotations

import json
import lzma
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tangstudio.engine.compose.planning.build import BUCKETS, FORMAT, VERSION, smoothed_marginal
from tangstudio.engine.errors import TangError

DATA = Path(__file__).resolve().parent / "data"


def table_path(script: str) -> Path:
    return DATA / f"planner.{script}.json.xz"


def write_table(table: dict[str, Any], path: Path) -> None:
    """Compact, key-sorted JSON under xz: the same counts always give the same bytes."""
    text = json.dumps(table, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(lzma.compress(text.encode("utf-8"), preset=9))


Links = tuple[np.ndarray, np.ndarray]  # keyword ids, smoothed PMI (shrunk by evidence)


@dataclass(frozen=True)
class PlannerTable:
    keywords: tuple[str, ...]
    index: dict[str, int]
    log_prior: np.ndarray  # float32[BUCKETS, K]: log p(keyword | quarter of the poem)
    lines: np.ndarray  # float64[K]: train lines each keyword heads
    log_df: np.ndarray  # float32[K]: log of the train poems each keyword occurs in (as a word)
    title: dict[str, Links]  # title word → keywords it calls for
    pairs: tuple[Links, ...]  # keyword id → keywords of the same poems
    source: str
    by_char: dict[str, np.ndarray] = field(default_factory=dict)  # character → ids of the keywords holding it

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlannerTable:
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            raise TangError(
                "the planner table has an unknown format; rebuild it with scripts/build_planner.py"
            )
        keywords = tuple(data["keywords"])
        counts = np.asarray(data["positions"], dtype=np.float64).reshape(len(keywords), BUCKETS)
        lines = counts.sum(axis=0, keepdims=True)
        log_prior = np.log((counts + 0.5) / (lines + 0.5 * len(keywords))).T.astype(np.float32)
        per_keyword = counts.sum(axis=1)
        p_keyword = smoothed_marginal(per_keyword, float(data["lines"]))
        title: dict[str, Links] = {}
        for word, n, flat in zip(data["title_words"], data["title_lines"], data["title_pairs"]):
            ids, c = _unflat(flat)
            title[word] = (ids, _shrunk(np.log(c / n) - np.log(p_keyword[ids]), c))
        kp = np.asarray(data["keyword_poems"], dtype=np.float64)
        p_partner = smoothed_marginal(kp, float(data["poems"]))
        pairs = []
        for k, flat in enumerate(data["keyword_pairs"]):
            ids, c = _unflat(flat)
            pairs.append((ids, _shrunk(np.log(c / kp[k]) - np.log(p_partner[ids]), c)))
        df = np.maximum(np.asarray(data.get("keyword_df", per_keyword), dtype=np.float64), 1.0)
        log_df = np.log(df / df.max()).astype(np.float32)
        index = {k: i for i, k in enumerate(keywords)}
        holding: dict[str, list[int]] = {}
        for i, k in enumerate(keywords):
            for ch in dict.fromkeys(k):
                holding.setdefault(ch, []).append(i)
        by_char = {ch: np.asarray(ids, dtype=np.int64) for ch, ids in holding.items()}
        source = str(data.get("source", ""))
        return cls(keywords, index, log_prior, per_keyword, log_df, title, tuple(pairs), source, by_char)


SHRINK = 5.0  # co-occurrences at which a pair's PMI counts half: PMI alone favours the rarest words


def _shrunk(pmi: np.ndarray, count: np.ndarray) -> np.ndarray:
    """PMI discounted by the evidence behind it, c / (c + SHRINK): a pair seen twice says little."""
    shrunk: np.ndarray = (pmi * count / (count + SHRINK)).astype(np.float32)
    return shrunk


def _unflat(flat: list[int]) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(flat, dtype=np.int64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1].astype(np.float64)


@lru_cache(maxsize=2)
def load_table(script: str = "simplified") -> PlannerTable:
    """The shipped table for `script` (read once per process)."""
    path = table_path(script)
    if not path.exists():
        raise TangError(
            f"no planner table for the {script} script; build it with scripts/build_planner.py --script {script}"
        )
    try:
        data = json.loads(lzma.decompress(path.read_bytes()).decode("utf-8"))
    except (lzma.LZMAError, ValueError) as exc:
        raise TangError(f"the planner table {path.name} is damaged ({exc}); rebuild it") from None
    return PlannerTable.from_dict(data)
