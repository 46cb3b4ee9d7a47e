"""Composer speed: one character with a 2×512 LSTM, masks and top-10 included; a whole 七律.

Targets: ≤ 1.5 ms median per character step, ≤ 150 ms for a full 七律 (64 characters with the
punctuation). Baseline, same run: a naive decoder that re-reads the whole poem so far through the
model at every step (the same constraints, masks and top-10), which is what generation costs
without a cached recurrent state — O(t) per character, O(n²) per poem.

Random weights (speed does not depend on training); the vocabulary is the bundled corpus's train
split of the regulated forms (what `tangstudio train` uses by default), so the masks have their
real size. Novelty (the corpus line index) is on, as in
`tangstudio generate`. One torch thread, so the figure does not depend on what else runs.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.common import Row

FORM = "qilv"


def _setup():
    import torch

    from tangstudio.engine.compose.novelty import CorpusIndex
    from tangstudio.engine.compose.tables import tables_for
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.models import ModelConfig, build_model
    from tangstudio.engine.runs.checkpoint import LoadedModel

    torch.set_num_threads(1)
    corpus = load_corpus("tang", "simplified")
    vocab = Vocab.build([p.text for p in corpus.select("regulated", "train")], "simplified")  # as `train` defaults
    torch.manual_seed(0)
    config = ModelConfig("lstm", len(vocab), embed=256, hidden=512, layers=2, dropout=0.0)
    loaded = LoadedModel(build_model(config).eval(), vocab, config, {})
    index = CorpusIndex([p.text for p in corpus.poems])
    tables_for(vocab)
    return loaded, index


def _naive_composer_class():
    import torch

    from tangstudio.engine.compose import constraints as C
    from tangstudio.engine.compose.generator import Composer, _Frame

    class NaiveComposer(Composer):
        """Same constraints and sampling; the model re-reads the whole poem at every step."""

        def _commit(self, token: int) -> None:
            frame = self._frames[-1]
            cstate = C.advance(self.plan, self.tables, frame.cstate, token)
            ids = [self.vocab.start_id(self.settings.form)] + [self.vocab.stoi[s.chosen] for s in self.history] + [token]
            logits = self.model(torch.tensor([ids]))[0, -1]
            self._frames.append(_Frame(None, logits.float(), cstate))

    return NaiveComposer


def _measure(cls, loaded, index, poems: int) -> tuple[float, float, float]:
    """(median ms per step, median ms per whole poem, median ms of the composer's own part of a step).

    The composer's own part is `preview()`: masks, the constrained distribution, top-10 and the
    draw — everything but the model's forward step.
    """
    from tangstudio.engine.compose.settings import ComposeSettings

    step_ms, poem_ms, own_ms = [], [], []
    for seed in range(poems + 1):
        settings = ComposeSettings(form=FORM, seed=seed, rhyme=True, tones="loose")
        start = time.perf_counter()
        comp = cls(loaded, settings, novelty=index)
        times, own = [], []
        while not comp.done:
            t = time.perf_counter()
            comp.preview()
            own.append(time.perf_counter() - t)
            comp.choose()
            times.append(time.perf_counter() - t)
        total = time.perf_counter() - start
        assert len(comp.text) == 64, comp.text
        if seed:  # the first poem warms up
            step_ms += [1000 * x for x in times]
            own_ms += [1000 * x for x in own]
            poem_ms.append(1000 * total)
    return statistics.median(step_ms), statistics.median(poem_ms), statistics.median(own_ms)


def rows(quick: bool = False) -> list[Row]:
    import torch

    loaded, index = _setup()
    poems = 3 if quick else 10
    with torch.inference_mode():
        cached_step, cached_poem, own = _measure(type_composer(), loaded, index, poems)
        naive_step, naive_poem, _ = _measure(_naive_composer_class(), loaded, index, max(2, poems // 2))
        model_ms = _model_step_ms(loaded)
    V = len(loaded.vocab)
    return [
        Row(f"compose step, 2×512 LSTM, V={V}, masks + top-10 (ms, median)", cached_step, "ms",
            "naive: re-read the poem each step", naive_step, "≤ 1.5 ms"),
        Row("compose a whole 七律, 64 characters (ms, median)", cached_poem, "ms",
            "naive: re-read the poem each step", naive_poem, "≤ 150 ms"),
        Row("composer's own part of a step: masks, distribution, top-10, draw (ms, median)", own, "ms",
            "the bare model step alone", model_ms, ""),
    ]


def _model_step_ms(loaded, repeat: int = 64) -> float:
    import torch

    model = loaded.model
    state = model.init_state(1)
    token = torch.tensor([loaded.vocab.first_char_id])
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        _, state = model.step(token, state)
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times[4:])


def type_composer():
    from tangstudio.engine.compose.generator import Composer

    return Composer


if __name__ == "__main__":
    import sys

    import torch

    from benchmarks.common import machine

    torch.set_num_threads(1)
    print(machine(), "· load average", " ".join(f"{x:.1f}" for x in __import__("os").getloadavg()))
    for row in rows(quick="--quick" in sys.argv):
        print(f"{row.figure}: {row.value:.2f} {row.unit} (baseline {row.baseline}: {row.baseline_value:.2f}, "
              f"×{row.ratio:.3f}) target {row.target}")
