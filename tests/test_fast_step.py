"""The numpy step (compose/fast_step.py) computes the torch step's function, for every causal model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tangstudio.engine.compose import stepping
from tangstudio.engine.compose.fast_step import FastStep, for_model
from tangstudio.engine.models import ModelConfig, build_model

torch.set_num_threads(1)
TOL = 1e-5


def _model(arch: str, layers: int, tied: bool, embed: int, impl: str = "fused", seed: int = 0):
    torch.manual_seed(seed)
    config = ModelConfig(arch, 60, embed=embed, hidden=24, layers=layers, tied=tied, impl=impl, dropout=0.0)
    return build_model(config).eval()


def _as_list(state) -> list[np.ndarray]:
    parts = state if isinstance(state, tuple) else (state,)
    return [s.numpy() if isinstance(s, torch.Tensor) else s for s in parts]


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize(
    "tied, embed", [(False, 16), (True, 16), (True, 24)], ids=["untied", "tied-proj", "tied-same-width"]
)
def test_fast_step_equals_the_torch_step(arch, layers, tied, embed):
    model = _model(arch, layers, tied, embed)
    fast = FastStep.from_model(model)
    state, np_state = model.init_state(3), fast.init_state(3)
    rng = np.random.default_rng(0)
    with torch.inference_mode():
        for _ in range(30):
            tokens = rng.integers(0, 60, size=3)
            logits, state = stepping.torch_step(model, torch.from_numpy(tokens), state)
            np_logits, np_state = fast.step(tokens, np_state)
            np.testing.assert_allclose(np_logits, logits.numpy(), rtol=TOL, atol=TOL)
            for a, b in zip(_as_list(np_state), _as_list(state)):
                np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL)


def test_stepping_uses_the_fast_path_only_where_it_applies():
    model = _model("lstm", 2, True, 16)
    token = torch.tensor([7])
    with torch.inference_mode():
        stepping.step(model, token, model.init_state(1))
    assert "_fast_step" in model.__dict__
    cells = _model("lstm", 2, True, 16, impl="cells")
    training = _model("gru", 1, False, 16).train()
    assert for_model(cells) is None and for_model(training) is None
    with torch.inference_mode():
        logits, _ = stepping.step(cells, token, cells.init_state(1))
    assert logits.shape == (1, 60)


def test_the_fast_step_follows_weights_changed_in_place():
    model = _model("gru", 2, False, 16)
    token = torch.tensor([3])
    with torch.inference_mode():
        before, _ = stepping.step(model, token, model.init_state(1))
        with torch.no_grad():
            model.head.V.bias.add_(1.0)  # what an optimizer step or load_state_dict does
        after, _ = stepping.step(model, token, model.init_state(1))
        expected, _ = stepping.torch_step(model, token, model.init_state(1))
    np.testing.assert_allclose(after.numpy(), expected.numpy(), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(after.numpy(), before.numpy() + 1.0, rtol=TOL, atol=TOL)


def test_beam_search_and_the_composer_agree_on_both_paths(monkeypatch):
    from tangstudio.engine.compose.beam import beam_search
    from tangstudio.engine.compose.generator import Composer
    from tangstudio.engine.compose.settings import ComposeSettings
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.runs.checkpoint import LoadedModel

    texts = [
        "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
        "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。",
    ]
    vocab = Vocab.build(texts * 3, "simplified")
    torch.manual_seed(1)
    config = ModelConfig("lstm", len(vocab), embed=16, hidden=24, layers=2, dropout=0.0)
    loaded = LoadedModel(build_model(config).eval(), vocab, config, {})

    def run() -> tuple[str, list[str]]:
        settings = ComposeSettings(form="wujue", seed=5, tones="off", rhyme=False)
        sampled = Composer(loaded, settings).finish().text
        beams = [r.text for r in beam_search(loaded, ComposeSettings(form="wujue", tones="off"), 3, 3)]
        return sampled, beams

    fast = run()
    assert "_fast_step" in loaded.model.__dict__
    monkeypatch.setattr(stepping, "_FORCE_TORCH", True)
    assert run() == fast


def test_shipped_model_from_safetensors_gives_the_torch_top10_over_a_seeded_poem():
    """200 steps of a poem sampled (seeded) from the shipped model: the same top 10 at every step."""
    from safetensors.numpy import load_file

    from tangstudio.engine.compose.model_ref import load_model

    loaded = load_model("default")
    model, config = loaded.model, loaded.config
    fast = FastStep.from_weights(
        config.arch, load_file(str(loaded.path / "model.safetensors")), config.layers, config.tied
    )
    generator = torch.Generator().manual_seed(0)
    state, np_state = model.init_state(1), fast.init_state(1)
    token = torch.tensor([loaded.vocab.start_id("qilv")])
    worst = 0.0
    with torch.inference_mode():
        for _ in range(200):
            logits, state = stepping.torch_step(model, token, state)
            np_logits, np_state = fast.step(token.numpy(), np_state)
            ref, got = logits[0].numpy(), np_logits[0]
            worst = max(worst, float(np.abs(ref - got).max()))
            top, fast_top = np.argsort(-ref)[:11], np.argsort(-got)[:10]
            if ref[top[9]] - ref[top[10]] > 2 * TOL:  # no tie at the edge of the top 10
                assert set(fast_top) == set(top[:10])
            probs = torch.softmax(logits[0], -1)
            token = torch.multinomial(probs, 1, generator=generator)
    assert worst < 1e-4  # logits of size ~10 agree to float32 rounding
    np.testing.assert_allclose(np_logits[0], ref, rtol=TOL, atol=1e-4)


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru", "bilstm"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("tied, embed", [(False, 16), (True, 16), (True, 24)])
@pytest.mark.parametrize("impl", ["fused", "cells"])
def test_written_down_shapes_match_the_built_model(arch, layers, tied, embed, impl):
    from tangstudio.engine.models.shapes import fused_causal_shapes

    config = ModelConfig(arch, 60, embed=embed, hidden=24, layers=layers, tied=tied, impl=impl)
    shapes = fused_causal_shapes(config)
    if arch == "bilstm" or impl == "cells":
        assert shapes is None  # built on the meta device instead
    else:
        assert shapes == {k: list(v.shape) for k, v in build_model(config).state_dict().items()}


POEMS = ["床前明月光，疑是地上霜。举头望明月，低头思故乡。", "春眠不觉晓 处处闻啼鸟 夜来风雨声 花落知多少"]


@pytest.mark.parametrize("poem", POEMS)
def test_score_without_torch_matches_score_poem(poem):
    from tangstudio.engine.compose.fast_model import load_fast, score_fast
    from tangstudio.engine.compose.model_ref import load_model
    from tangstudio.engine.compose.score import score_poem

    fast = score_fast(load_fast("default"), poem)
    ref = score_poem(load_model("default"), poem)
    assert (fast.text, fast.form, fast.ppl_kind) == (ref.text, ref.form, ref.ppl_kind)
    assert fast.perplexity == pytest.approx(ref.perplexity, rel=1e-4)
    for a, b in zip(fast.chars, ref.chars, strict=True):
        assert a.char == b.char and a.prob == pytest.approx(b.prob, rel=1e-4, abs=1e-7)
        assert abs(a.rank - b.rank) <= 1 and (a.rank == b.rank or a.prob < 1e-3)  # only near-ties move
        assert [c for c, _ in a.alternatives[:3]] == [c for c, _ in b.alternatives[:3]]


def test_score_path_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tangstudio.engine.compose.fast_model import load_fast, score_fast\n"
        f"r = score_fast(load_fast('default'), {POEMS[0]!r})\n"
        "assert 1 < r.perplexity < 10000, r.perplexity\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_models_without_a_fast_path_are_left_to_torch(tmp_path):
    from tangstudio.engine.compose.fast_model import load_fast
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.runs.checkpoint import save_checkpoint

    vocab = Vocab.build(POEMS[:1] * 2, "simplified")
    for arch, impl in (("bilstm", "fused"), ("lstm", "cells")):
        config = ModelConfig(arch, len(vocab), embed=8, hidden=8, layers=1, impl=impl)
        folder = tmp_path / f"{arch}-{impl}"
        meta = {"model": config.to_dict(), "vocab": vocab.to_dict(), "step": 0}
        save_checkpoint(folder, build_model(config).state_dict(), meta)
        assert load_fast(str(folder)) is None


def test_composing_the_shipped_model_never_imports_torch():
    """generate's and the studio's path: load, sample under every constraint, beam, sample unconstrained."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tangstudio.engine.compose.model_ref import load_for_composing\n"
        "from tangstudio.engine.compose.run import compose_many\n"
        "from tangstudio.engine.compose.settings import ComposeSettings\n"
        "from tangstudio.engine.compose.unconstrained import sample_unconstrained\n"
        "loaded = load_for_composing('default')\n"
        "s = ComposeSettings(form='qijue', seed=3, acrostic='春风', theme='月')\n"
        "(r,), _ = compose_many(loaded, s, 1, novelty=None)\n"
        "assert r.check['rhyme_ok'] and r.text.startswith('春') and '月' in r.text, r.text\n"
        "(b,), _ = compose_many(loaded, s, 1, beam=3, novelty=None)\n"
        "assert b.check['rhyme_ok'], b.text\n"
        "assert sample_unconstrained(loaded, 'wujue', 0)\n"
        "print(type(loaded).__name__, 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["FastLoaded", "False"]


@pytest.mark.parametrize("beam", [0, 4])
def test_a_seeded_poem_is_the_same_from_numpy_weights_and_from_the_torch_model(beam):
    """The same seed writes the same poem whether the shipped model was read into numpy or into torch."""
    from tangstudio.engine.compose.fast_model import FastLoaded
    from tangstudio.engine.compose.model_ref import load_for_composing, load_model
    from tangstudio.engine.compose.run import compose_many
    from tangstudio.engine.compose.settings import ComposeSettings

    fast, ref = load_for_composing("default"), load_model("default")
    assert isinstance(fast, FastLoaded) and not isinstance(ref, FastLoaded)
    for form in ("wujue", "qilv"):
        settings = ComposeSettings(form=form, seed=11)
        got, _ = compose_many(fast, settings, 2, beam=beam, novelty=None)
        expected, _ = compose_many(ref, settings, 2, beam=beam, novelty=None)
        assert [r.text for r in got] == [r.text for r in expected]
        for a, b in zip(got[0].steps, expected[0].steps, strict=True):
            assert a.chosen_prob == pytest.approx(b.chosen_prob, rel=1e-3, abs=1e-6)
