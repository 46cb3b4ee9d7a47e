"""The critic (issue 22): its numpy BiLSTM equals the torch model, and it prefers real poems to the
same poems with their lines shuffled; best of K keeps the draft it scores highest."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import numpy as np
import pytest


@pytest.mark.parametrize("layers,tied,embed", [(1, True, 16), (2, True, 24), (1, False, 16)])
def test_numpy_bidi_equals_the_torch_bilstm(layers, tied, embed):
    import torch

    from tangstudio.engine.compose.craft.bidi import BidiScorer
    from tangstudio.engine.models import ModelConfig, build_model

    torch.manual_seed(layers)
    config = ModelConfig("bilstm", 50, embed=embed, hidden=24, layers=layers, tied=tied)
    model = build_model(config).eval()
    ids = torch.randint(5, 50, (3, 13))
    with torch.no_grad():
        logp = torch.log_softmax(model(ids), -1).gather(2, ids[..., None])[..., 0].numpy()
    weights = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    got = BidiScorer(weights, layers).log_probs(ids.numpy())
    assert np.allclose(got, logp, atol=1e-4)


def _shuffled(text: str, rng: random.Random) -> str:
    from tangstudio.engine.prosody.duizhang import poem_lines

    lines = poem_lines(text)
    order = list(range(len(lines)))
    while order == sorted(order):
        rng.shuffle(order)
    marks = "，。" * (len(lines) // 2)
    return "".join(lines[i] + m for i, m in zip(order, marks))


@pytest.mark.slow
def test_the_critic_prefers_a_real_poem_to_its_lines_shuffled():
    from tangstudio.engine.compose.craft.critic import lm_of_text, load_critic
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.corpus import load_corpus

    critic = load_critic()
    loaded = load_for_composing("default")
    corpus = load_corpus("tang", "simplified")
    rng = random.Random(7)
    wins = total = 0
    for form in ("wujue", "qijue", "wulv", "qilv"):
        poems = rng.sample([p.text for p in corpus.select({form}, "test")], 10)
        fakes = [_shuffled(t, rng) for t in poems]
        both = poems + fakes
        scores = critic.score(both, form, [lm_of_text(loaded, t, form) for t in both], "simplified")
        for real, fake in zip(scores[:10], scores[10:]):
            wins += real["critic"] > fake["critic"]
            total += 1
    assert wins >= 0.7 * total, f"real above shuffled in {wins} of {total}"


def _generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", "generate", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "120"},
    )


@pytest.mark.slow
def test_candidates_keeps_the_draft_the_critic_scores_best():
    import json

    from tangstudio.engine.compose.craft.critic import lm_of_text, load_critic
    from tangstudio.engine.compose.generator import Composer
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.compose.novelty import index_for_model
    from tangstudio.engine.compose.settings import ComposeSettings

    # One draft a line: the choice among K whole poems is what is tested, and line drafts cost 12 times.
    done = _generate(
        "-f", "wulv", "-n", "2", "--candidates", "3", "--seed", "5", "--line-drafts", "1", "--json"
    )
    assert done.returncode == 0, done.stderr
    poems = json.loads(done.stdout)["poems"]
    assert len(poems) == 2
    loaded = load_for_composing("default")
    index = index_for_model(loaded)
    critic = load_critic()
    for i, poem in enumerate(poems):
        drafts = poem["drafts"]
        assert sorted(d["seed"] for d in drafts) == [5 + i + j * 2**32 for j in range(3)]
        texts = [d["text"] for d in drafts]
        # rescored here from the texts alone (the causal model teacher-forced, not the sampler's steps)
        again = critic.score(texts, "wulv", [lm_of_text(loaded, t, "wulv") for t in texts], "simplified")
        for d, s in zip(drafts, again):
            assert d["critic"]["critic"] == pytest.approx(s["critic"], abs=2e-3)
        best = max(range(3), key=lambda k: again[k]["critic"])
        assert poem["text"] == texts[best] == texts[0]
        # poem #i+1 of the batch is what `-n 1 --seed 5+i` gives with the same K, drafts and choice
        alone = json.loads(
            _generate(
                "-f",
                "wulv",
                "-n",
                "1",
                "--candidates",
                "3",
                "--seed",
                str(5 + i),
                "--line-drafts",
                "1",
                "--json",
            ).stdout
        )
        assert alone["poems"][0]["text"] == poem["text"]
        # each draft is the first draw at its seed: no selection beyond the critic's
        for d in drafts:
            redrawn = Composer(
                loaded, ComposeSettings(form="wulv", seed=d["seed"], line_drafts=1), novelty=index
            ).finish()
            assert redrawn.text == d["text"]


@pytest.mark.parametrize(
    "args,words",
    [
        (("--candidates", "0"), "--candidates must be between 1 and"),
        (("--candidates", "3", "--beam", "2"), "choose one"),
        (("--repeat-penalty", "-1"), "repeat penalty must be between 0"),
        (("--duizhang", "11"), "duizhang strength must be between 0"),
        (("--season", "-2"), "season strength must be between 0"),
        (("--guidance", "6"), "title guidance must be between 0"),
        (("--line-drafts", "0"), "line drafts must be a whole number from 1"),
        (("--line-drafts", "3", "--beam", "2"), "choose one"),
    ],
)
def test_bad_strengths_and_candidates_get_one_line_and_exit_2(args, words):
    done = _generate("-n", "1", *args)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and words in done.stderr


def test_best_of_k_lists_a_draft_drawn_twice_once():
    """At a low temperature two of K drafts can be one poem: "best of 5" listed it twice (a poet's
    review). Each different draft is listed once, with how many of the K it stands for."""
    import json

    done = _generate(
        "-f", "wujue", "-n", "1", "-k", "4", "-t", "0.05", "--seed", "1", "--line-drafts", "1", "--json"
    )
    assert done.returncode == 0, done.stderr
    drafts = json.loads(done.stdout)["poems"][0]["drafts"]
    texts = [d["text"] for d in drafts]
    assert len(set(texts)) == len(texts) < 4
    assert sum(d["copies"] for d in drafts) == 4
    plain = _generate("-f", "wujue", "-n", "1", "-k", "4", "-t", "0.05", "--seed", "1", "--line-drafts", "1")
    assert f"(best of 4 drafts, {len(texts)} different)" in plain.stdout
