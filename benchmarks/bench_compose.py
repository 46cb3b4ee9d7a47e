"""Composer speed: one character of the shipped 2×512 LSTM, masks and top-10 included; a whole 七律.

Targets: ≤ 1.0 ms median per character step (issue 13; it was 1.5 ms), ≤ 150 ms for a full 七律 (64 characters with the
punctuation). Baseline, same run: a naive decoder that re-reads the whole poem so far through the
model at every step (the same constraints, masks and top-10), which is what generation costs
without a cached recurrent state — O(t) per character, O(n²) per poem. (The composer's single
steps run on PyTorch's native LSTM kernels, not oneDNN's, see compose/stepping.py; the naive
decoder reads whole sequences, where oneDNN is at its best, so it keeps the default.)

The model's single step runs on the numpy fast path (compose/fast_step.py); two more rows put the
step itself against the bare float32 `nn.LSTM` step (PyTorch's default, oneDNN included) and the
torch step the composer used before (native kernels, oneDNN off), same weights, same thread.

The shipped model (models/default), read into numpy as the studio and `generate` read it: the
composer's masks, distribution, top-10 and draw are numpy too, so no torch runs in the measured
step. Novelty (the corpus line index) is on, as in
`tangstudio generate`. One torch thread, so the figure does not depend on what else runs.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.common import Row

FORM = "qilv"


def _setup():
    """The shipped model twice: read into numpy as the studio and `generate` read it (the composer's
    path), and loaded with torch (the naive decoder and the torch baselines)."""
    import torch

    from tangstudio.engine.compose.model_ref import load_for_composing, load_model
    from tangstudio.engine.compose.novelty import CorpusIndex
    from tangstudio.engine.compose.tables import tables_for
    from tangstudio.engine.corpus import load_corpus

    torch.set_num_threads(1)
    fast, loaded = load_for_composing("default"), load_model("default")
    corpus = load_corpus("tang", "simplified")
    index = CorpusIndex([p.text for p in corpus.poems])
    tables_for(fast.vocab)
    return fast, loaded, index


def _naive_composer_class():
    import torch

    from tangstudio.engine.compose import constraints as C
    from tangstudio.engine.compose.generator import Composer, _Frame

    class NaiveComposer(Composer):
        """Same constraints and sampling; the model re-reads the whole poem at every step."""

        def _commit(self, token: int) -> None:
            frame = self._frames[-1]
            cstate = C.advance(self.plan, self.tables, frame.cstate, token)
            ids = (
                [self.vocab.start_id(self.settings.form)]
                + [self.vocab.stoi[s.chosen] for s in self.history]
                + [token]
            )
            logits = self.loaded.model(torch.tensor([ids]))[0, -1]
            self._frames.append(_Frame(None, logits.float().numpy(), cstate))

    return NaiveComposer


def _measure(cls, loaded, index, poems: int, clock=time.perf_counter) -> dict[str, float]:
    """Medians in ms: a step, a whole poem, and the composer's own part of a step (`preview()`:
    masks, the constrained distribution, top-10 and the draw — everything but the model's step).

    `clock` is wall time (perf_counter) or this thread's CPU time (thread_time): on a shared
    machine with more runnable processes than cores, wall time includes waiting for a core, CPU
    time does not (torch runs on one thread here, the calling one).
    """
    from tangstudio.engine.compose.settings import ComposeSettings

    step_ms, poem_ms, own_ms = [], [], []
    for seed in range(poems + 1):
        settings = ComposeSettings(form=FORM, seed=seed, rhyme=True, tones="loose")
        start = clock()
        comp = cls(loaded, settings, novelty=index)
        times, own = [], []
        while not comp.done:
            t = clock()
            comp.preview()
            own.append(clock() - t)
            comp.choose()
            times.append(clock() - t)
        total = clock() - start
        assert len(comp.text) == 64, comp.text
        if seed:  # the first poem warms up
            step_ms += [1000 * x for x in times]
            own_ms += [1000 * x for x in own]
            poem_ms.append(1000 * total)
    return {
        "step": statistics.median(step_ms),
        "poem": statistics.median(poem_ms),
        "own": statistics.median(own_ms),
    }


def _drafted_poems_ms(fast, index, poems: int, one_by_one: bool) -> tuple[float, list[str]]:
    """Median ms of a titled 七律 at the defaults (each line the best of 12 drafts, title guidance:
    what `generate --title` writes), and the poems, so both ways can be checked to agree."""
    from functools import partial

    from tangstudio.engine.compose.craft import line_drafts
    from tangstudio.engine.compose.generator import Composer
    from tangstudio.engine.compose.settings import ComposeSettings

    side_by_side = line_drafts.best_rest_of_line
    line_drafts.best_rest_of_line = partial(side_by_side, side_by_side=not one_by_one)
    try:
        times, texts = [], []
        for seed in range(poems + 1):
            start = time.perf_counter()
            text = (
                Composer(fast, ComposeSettings(form=FORM, title="送友人", seed=seed), novelty=index)
                .finish()
                .text
            )
            times.append(1000 * (time.perf_counter() - start))
            texts.append(text)
    finally:
        line_drafts.best_rest_of_line = side_by_side
    return statistics.median(times[1:]), texts  # the first warms up


def rows(quick: bool = False) -> list[Row]:
    import torch

    fast, loaded, index = _setup()
    poems = 3 if quick else 10
    V = len(loaded.vocab)
    size = f"{loaded.config.layers}×{loaded.config.hidden} LSTM"
    together, poems_together = _drafted_poems_ms(fast, index, poems, one_by_one=False)
    apart, poems_apart = _drafted_poems_ms(fast, index, poems, one_by_one=True)
    assert poems_together == poems_apart, "the drafts side by side wrote other poems than one by one"
    out = [
        Row(
            "a titled 七律 at the defaults: 12 drafts a line, side by side (ms wall, median)",
            together,
            "ms",
            "the same drafts written one by one",
            apart,
            "generate -n 1 ≤ 1.5 s",
        )
    ]
    with torch.inference_mode():
        for label, clock in (("wall", time.perf_counter), ("CPU", time.thread_time)):
            cached = _measure(type_composer(), fast, index, poems, clock)
            naive = _measure(_naive_composer_class(), loaded, index, max(2, poems // 2), clock)
            model_ms = _model_step_ms(loaded, clock)
            torch_ms = _model_step_ms(loaded, clock, torch_path=True)
            bare_ms = _bare_lstm_ms(loaded, clock)
            out += [
                Row(
                    f"compose step, shipped {size}, V={V}, masks + top-10 (ms {label}, median)",
                    cached["step"],
                    "ms",
                    "naive: re-read the poem each step",
                    naive["step"],
                    "≤ 1.0 ms",
                ),
                Row(
                    f"compose step, masks + top-10, against the bare model step (ms {label}, median)",
                    cached["step"],
                    "ms",
                    f"bare fp32 nn.LSTM step ({size}, no head)",
                    bare_ms,
                    "≤ 1.0 ms",
                ),
                Row(
                    f"model step alone: numpy fast path (ms {label}, median)",
                    model_ms,
                    "ms",
                    "the same step through torch (oneDNN off)",
                    torch_ms,
                    "",
                ),
                Row(
                    f"compose a whole 七律, 64 characters (ms {label}, median)",
                    cached["poem"],
                    "ms",
                    "naive: re-read the poem each step",
                    naive["poem"],
                    "≤ 150 ms",
                ),
                Row(
                    f"composer's own part of a step: masks, distribution, top-10, draw (ms {label}, median)",
                    cached["own"],
                    "ms",
                    "the bare model step alone",
                    model_ms,
                    "",
                ),
            ]
    return out


def _model_step_ms(loaded, clock=time.perf_counter, repeat: int = 64, torch_path: bool = False) -> float:
    import torch

    from tangstudio.engine.compose.stepping import step, torch_step

    model = loaded.model
    state = model.init_state(1)
    token = torch.tensor([loaded.vocab.first_char_id])
    times = []
    for _ in range(repeat):
        t = clock()
        _, state = (torch_step if torch_path else step)(model, token, state)
        times.append(clock() - t)
    return 1000 * statistics.median(times[4:])


def _bare_lstm_ms(loaded, clock=time.perf_counter, repeat: int = 64) -> float:
    """One step of a plain float32 nn.LSTM of the model's size, PyTorch's defaults (oneDNN on)."""
    import torch

    config = loaded.config
    lstm = torch.nn.LSTM(config.embed, config.hidden, config.layers, batch_first=True).eval()
    x = torch.randn(1, 1, config.embed)
    h = torch.zeros(config.layers, 1, config.hidden)
    state = (h, h.clone())
    times = []
    for _ in range(repeat):
        t = clock()
        _, state = lstm(x, state)
        times.append(clock() - t)
    return 1000 * statistics.median(times[4:])


def type_composer():
    from tangstudio.engine.compose.generator import Composer

    return Composer


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)  # the composer's figures are per thread
    from benchmarks.common import print_rows

    print_rows(rows, __doc__, digits=2)
