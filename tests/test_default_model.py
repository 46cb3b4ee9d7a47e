"""The model that ships in models/default loads, is what its card says, and composes real forms."""

from __future__ import annotations

import json

import pytest

from tangstudio.engine.paths import REPO_ROOT

DEFAULT = REPO_ROOT / "models" / "default"
pytestmark = pytest.mark.skipif(
    not (DEFAULT / "meta.json").is_file(), reason="no default model in this checkout"
)


def test_default_model_loads_and_matches_its_card():
    from tangstudio.engine.runs.checkpoint import load_checkpoint

    loaded = load_checkpoint(DEFAULT)
    assert loaded.causal and loaded.meta["script"] == "simplified"
    assert (DEFAULT / "model.safetensors").stat().st_size <= 25 * 1024 * 1024
    figures = json.loads((DEFAULT / "figures.json").read_text(encoding="utf-8"))
    assert figures["step"] == loaded.meta["step"]
    # Scored on the regulated poems the composer writes, whatever forms it was trained on (leg 3: all).
    for split in ("val", "test"):
        assert figures[split]["forms"] == "regulated"
        assert figures[split]["trained_forms"] == loaded.meta["forms"]


@pytest.mark.parametrize("form", ["wujue", "qilv"])
def test_default_model_composes_the_form(form):
    from tangstudio.engine.compose import ComposeSettings, compose_many, load_model
    from tangstudio.engine.prosody import check_poem

    loaded = load_model("default")
    results, _notes = compose_many(loaded, ComposeSettings(form=form, seed=7), 2, novelty=None)
    for result in results:
        check = check_poem(result.text, form)
        assert check.form_ok and check.rhyme_ok, result.text


def test_eval_default_reproduces_the_cards_val_perplexity():
    """`tangstudio eval default` recounts the val split and lands on the figure the card publishes
    (as trained only: the four other conditions would take four times as long)."""
    import subprocess
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tangstudio",
            "eval",
            "default",
            "--forms",
            "regulated",
            "--as-trained",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads((DEFAULT / "figures.json").read_text(encoding="utf-8"))
    result = json.loads(out.stdout)
    assert result["forms"] == figures["val"]["forms"] and result["chars"] == figures["val"]["chars"]
    assert result["ppl"] == pytest.approx(figures["val"]["ppl"], rel=1e-5)
    assert "ppl_untitled" not in result and "ppl_untitled" in figures["val"]
