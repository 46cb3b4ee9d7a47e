"""The critic: a finished poem read whole and scored, so the best of K drafts can be kept.

    score = w · standardise(features) + b,   features:
      lm    mean log-probability of the poem's characters under the causal model (left to right)
      bi    mean log P(x_t | every other character) under a small BiLSTM (bidi.py): the right side
            is what a left-to-right sampler never saw when it wrote x_t
      dz    mean 对仗 PMI of a 律诗's 颔联 and 颈联 (0 for a 绝句: it has none)
      rep   share of characters that repeat one already in the poem
      rhyme 1 if the poem keeps its form's rhyme (prosody.check_poem), else 0: our drafts always do
            (the composer's masks), so it never changes which draft is kept; it is how the critic
            knows a 绝句 from the same lines out of order
      colloc mean PMI of the poem's within-line bigrams, counted on the train split (colloc.py):
            real lines are made of words, ours of characters that do not belong together
      disc  log-odds of a logistic regression on hashed character n-grams trained to tell real
            train-split poems from our drafts (disc.py; scripts/fit_disc.py)

Which of these a reader cares about was measured, not assumed. A first fit (scripts/fit_critic.py:
a logistic regression of "real val poem" against "our draft", pooled with "real against its lines
shuffled") told our drafts from real poems well (held-out AUC 0.74–0.94) on colloc and disc, but the
drafts it kept did not read better: over the 96 machine poems of blind readings A–G its score
followed the readers' overall rating at Spearman ρ ≈ 0.15 within a sheet, lm alone at ≈ 0.53
(a sampler's likeliest drafts are its most fluent; real poems are less likely than ours, which is
why the first fit gave lm no weight). The shipped weights are therefore fitted on the readers' own
scores (scripts/fit_critic_readers.py: ridge on standardised features, signs held, held out a sheet
at a time), and the score is a reader's expected overall rating, 1–5. They live in
models/critic/critic.json, beside the BiLSTM (model.safetensors), the collocation table
(colloc.safetensors) and the classifier (disc.safetensors).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tangstudio.engine.compose.craft.bidi import Bidi, load_bidi
from tangstudio.engine.compose.craft.colloc import Colloc, load_colloc
from tangstudio.engine.compose.craft.disc import Disc, load_disc
from tangstudio.engine.compose.craft.repetition import repeated_share
from tangstudio.engine.errors import TangError
from tangstudio.engine.hanzi import is_han

if TYPE_CHECKING:
    from tangstudio.engine.compose.fast_model import FastLoaded
    from tangstudio.engine.compose.settings import StepInfo

FEATURES = ("lm", "bi", "dz", "rep", "rhyme", "colloc", "disc")
LATER = ("rhyme", "colloc", "disc")  # terms a critic fitted before them lacks: they then weigh nothing
CRITIC = "critic"  # the folder under the shipped models
WEIGHTS_FILE = "critic.json"


def dz_feature(text: str, script: str) -> float:
    from tangstudio.engine.prosody.duizhang import report

    found = report(text, script)
    return float(np.mean([c.score for c in found])) if found else 0.0


def rhyme_feature(text: str, form: str, script: str) -> float:
    from tangstudio.engine.prosody import check_poem

    try:
        return float(check_poem(text, form, script).rhyme_ok)
    except TangError:  # not a poem of the form at all
        return 0.0


def hanzi_positions(text: str) -> list[int]:
    return [i for i, c in enumerate(text) if is_han(c)]


def lm_from_steps(steps: Iterable[StepInfo]) -> float:
    """Mean causal log-probability of the written characters, from a composer's StepInfo list
    (each step's model_prob is the model's own, before masks, temperature and the craft's lean)."""
    logs = [np.log(max(s.model_prob, 1e-30)) for s in steps if len(s.chosen) == 1 and is_han(s.chosen)]
    return float(np.mean(logs)) if logs else 0.0


def lm_of_text(loaded: FastLoaded, text: str, form: str) -> float:
    """The same mean for a given text (a real poem), one numpy step per character."""
    from tangstudio.engine.compose.fast_model import score_fast

    score = score_fast(loaded, text, form)
    logs = [np.log(max(c.prob, 1e-30)) for c in score.chars if len(c.char) == 1 and is_han(c.char)]
    return float(np.mean(logs)) if logs else 0.0


@dataclass
class Critic:
    bidi: Bidi
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    info: dict[str, Any]
    colloc: Colloc | None = None  # None: an older critic, or fit_critic measuring the others
    disc: Disc | None = None

    def bi_many(self, texts: list[str], form: str) -> list[float]:
        """Mean bidirectional log-probability of each text's characters (equal lengths batch)."""
        vocab = self.bidi.vocab
        out: list[float] = [0.0] * len(texts)
        by_len: dict[int, list[int]] = {}
        encoded = []
        for k, text in enumerate(texts):
            ids = [vocab.start_id(form), *(vocab.stoi.get(c, 1) for c in text), 3]
            encoded.append(ids)
            by_len.setdefault(len(ids), []).append(k)
        for idx in by_len.values():
            logp = self.bidi.scorer.log_probs(np.array([encoded[k] for k in idx]))
            for row, k in zip(logp, idx):
                pos = [p + 1 for p in hanzi_positions(texts[k])]  # +1: the start token
                out[k] = float(row[pos].mean()) if pos else 0.0
        return out

    def skipped(self) -> set[str]:
        """Terms that weigh nothing and cost time (the BiLSTM pass): not computed when scoring."""
        return {f for f, w in zip(FEATURES, self.weights) if w == 0 and f == "bi"}

    def features(
        self, texts: list[str], form: str, lm: list[float], script: str, skip: set[str] | None = None
    ) -> np.ndarray:
        """One row of FEATURES per text; a term in `skip` is its mean (it weighs nothing)."""
        skip = skip or set()
        bi = self.bi_many(texts, form) if "bi" not in skip else [float(self.mean[1])] * len(texts)
        zeros = [0.0] * len(texts)
        colloc = self.colloc.score(texts) if self.colloc is not None else zeros
        disc = self.disc.score(texts) if self.disc is not None else zeros
        rows = [
            [
                lm[k],
                bi[k],
                dz_feature(t, script),
                repeated_share(t),
                rhyme_feature(t, form, script),
                colloc[k],
                disc[k],
            ]
            for k, t in enumerate(texts)
        ]
        return np.array(rows, dtype=np.float64)

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        scores: np.ndarray = ((rows - self.mean) / self.scale) @ self.weights + self.bias
        return scores

    def score(self, texts: list[str], form: str, lm: list[float], script: str) -> list[dict[str, float]]:
        """Per text: the critic's score and each feature, for `--json` and the studio."""
        skip = self.skipped()
        rows = self.features(texts, form, lm, script, skip)
        scores = self.score_rows(rows)
        return [
            {
                "critic": round(float(s), 4),
                **{f: round(float(v), 4) for f, v in zip(FEATURES, row) if f not in skip},
            }
            for s, row in zip(scores, rows)
        ]


def critic_dir() -> Path:
    from tangstudio.engine.paths import shipped_models_dir

    return shipped_models_dir() / CRITIC


@lru_cache(maxsize=2)
def load_critic(directory: str | None = None) -> Critic:
    """The shipped critic (models/critic/): its models, tables and fitted weights, no torch; a
    damaged or mismatched file is refused with one line (TangError)."""
    folder = Path(directory) if directory else critic_dir()
    path = folder / WEIGHTS_FILE
    if not path.is_file():
        raise TangError(
            f"no critic ships in {folder}: --candidates needs models/critic/ (scripts/fit_critic.py)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        absent = {"mean": 0.0, "scale": 1.0, "weights": 0.0}
        has = set(data["features"])
        arrays = [
            np.array([float(data[key][f]) if f in has or f not in LATER else absent[key] for f in FEATURES])
            for key in ("mean", "scale", "weights")
        ]
        bias = float(data["bias"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TangError(f"the critic's {path} is malformed ({type(exc).__name__}: {exc})") from None
    if not all(np.isfinite(a).all() for a in arrays) or not np.isfinite(bias) or (arrays[1] <= 0).any():
        raise TangError(f"the critic's {path} holds weights that are not finite or scales not positive")
    colloc = load_colloc(folder, data.get("colloc")) if "colloc" in has else None
    disc = load_disc(folder, data.get("disc")) if "disc" in has else None
    mean, scale, weights = arrays
    return Critic(load_bidi(folder), mean, scale, weights, bias, data, colloc, disc)
