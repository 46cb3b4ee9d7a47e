#!/usr/bin/env python3
"""Ship a trained run as the default model and measure what the model card reports.

    python scripts/ship_default_model.py RUN [--out models/default] [--forms regulated]

RUN may be models/default itself, to measure the shipped model again (the corpus's cleaning changed).

Copies the run's best checkpoint (model.safetensors + meta.json, verified by loading it), then
evaluates it once on the val and test splits with the engine's counting, and fits the
interpolated Kneser–Ney 4-gram baseline (benchmarks/kn_ngram.py) on the same train split and
vocabulary so the two perplexities are on identical text (the model's untitled perplexity: the
4-gram reads no title or plan). Writes `figures.json` beside the model.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="run name, run directory or checkpoint directory")
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--skip-eval", action="store_true")
    parser.add_argument(
        "--forms",
        help="score these forms (default: the ones it was trained on); leg 3 trained on all forms "
        "and is scored on the regulated ones the composer writes",
    )
    args = parser.parse_args()

    from benchmarks.kn_ngram import kn_perplexity
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.runs.checkpoint import META, WEIGHTS, load_checkpoint, resolve_checkpoint
    from tangstudio.engine.training.evaluate import evaluate_checkpoint

    source = resolve_checkpoint(args.run)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in (WEIGHTS, META):
        # RUN may be models/default itself: measure it again, copy nothing
        if (args.out / name).resolve() != (source / name).resolve():
            shutil.copy2(source / name, args.out / name)
    loaded = load_checkpoint(args.out)
    meta = loaded.meta
    figures: dict = {
        "source_run": meta.get("run"),
        "step": meta.get("step"),
        "epoch": meta.get("epoch"),
        "params": meta.get("params"),
        "size_mb": (args.out / WEIGHTS).stat().st_size / 1e6,
    }
    if not args.skip_eval:
        corpus = load_corpus(meta["corpus"]["name"], meta["script"])
        forms = args.forms or meta["forms"]
        for split in ("val", "test"):  # a model with a plan: every condition (eval's ppl_* keys)
            start = time.perf_counter()  # (eval checks the vocabulary, unless the run took its source's)
            figures[split] = evaluate_checkpoint(str(args.out), split=split, forms=forms)
            figures[split]["seconds"] = time.perf_counter() - start
        vocab = loaded.vocab
        encode = lambda poems: [vocab.encode_poem(p.text, p.form) for p in poems]  # noqa: E731
        # The 4-gram reads the train text of the model's corpus and forms (leg 4 also read Song poems).
        train = corpus.select(meta["forms"], split="train")
        figures["kn4_test"] = kn_perplexity(
            encode(train), encode(corpus.select(forms, split="test")), len(vocab), 4
        )
        # The 4-gram reads neither title nor plan: compare it with the model given nothing.
        figures["ratio_test"] = figures["test"]["ppl_untitled"] / figures["kn4_test"]["ppl"]
    (args.out / "figures.json").write_text(
        json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
