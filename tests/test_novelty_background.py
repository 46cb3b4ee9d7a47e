"""The novelty index loads in the background: composing starts at once, the copy check is never skipped."""

from __future__ import annotations

import threading

import torch

from tangstudio.engine.compose.novelty import BackgroundIndex, CorpusIndex
from tangstudio.engine.compose.settings import ComposeSettings

CORPUS = ["床前明月光，疑是地上霜。举头望明月，低头思故乡。"]


def _loaded():
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.models import ModelConfig, build_model
    from tangstudio.engine.runs.checkpoint import LoadedModel

    vocab = Vocab.build([*CORPUS, "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"], "simplified")
    torch.manual_seed(0)
    config = ModelConfig("lstm", len(vocab), embed=16, hidden=24, layers=1)
    return LoadedModel(build_model(config).eval(), vocab, config, {})


def test_composing_starts_before_the_index_and_the_line_end_waits_for_it():
    from tangstudio.engine.compose.generator import Composer

    gate = threading.Event()
    background = BackgroundIndex(lambda: CorpusIndex(CORPUS) if gate.wait(30) else None)
    comp = Composer(
        _loaded(), ComposeSettings(form="wujue", prefix="床前明", seed=0, tones="off"), novelty=background
    )
    comp.choose("月")  # the fourth character of line 1: no corpus question yet, nothing waits
    assert not background.ready
    releaser = threading.Timer(0.2, gate.set)
    releaser.start()
    candidates = comp.preview().candidates  # the line's last character: asks the index, waits for it
    releaser.join()
    assert background.available
    assert all(c != "光" for c, _ in candidates)  # 床前明月光 is a corpus line: refused, not skipped
    result = comp.finish()
    assert result.copied_lines == [] and result.longest_shared.startswith("床前明月")


def test_a_missing_or_failing_corpus_means_unchecked_not_an_error():
    def boom():
        raise OSError("disk gone")

    for background in (BackgroundIndex(lambda: None), BackgroundIndex(boom)):
        assert background.wait(30) is None and background.ready and not background.available
        assert background.completions("床前明月") == frozenset()
        assert background.copied_lines("床前明月光，") == [] and background.longest_shared("床前") == ""
