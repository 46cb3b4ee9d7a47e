"""What `generate` says beside its poems (issue 25, items 7 and 17).

- A short acrostic (`--acrostic 春夏秋` for a 4-line form) is accepted and says which lines start
  freely; an acrostic as long as the poem says nothing, a longer one is refused in one line.
- `--beam 4 -n 2` gave two poems one character apart, repeating 春风: beams are now diverse groups
  with a repeat penalty (compose/beam.py), and generate says so.
- The form has one name on both faces (`free`, from the forms registry), Chinese names accepted.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from studio_helpers import copy_run


def tangstudio(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "COLUMNS": "80", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def heads(trained_runs: Path, tiny_corpus: str, home: Path) -> str:
    """Five characters that open lines in the tiny corpus (so the tiny model has them)."""
    from tangstudio.engine.corpus import load_corpus

    copy_run(trained_runs, home, "tiny-gru")
    poems = load_corpus(tiny_corpus, "simplified").select("regulated", "train")
    return "".join(dict.fromkeys(p.text[0] for p in poems))[:5]


def test_a_short_acrostic_says_which_lines_start_freely(heads: str, home: Path) -> None:
    done = tangstudio("generate", "-m", "tiny-gru", "--form", "wujue", "--acrostic", heads[:3], "-n", "1",
                      "--seed", "1", "--json", home=home)  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert f"the acrostic {heads[:3]} opens lines 1-3 of 4; line 4 starts freely" in data["notes"]
    lines = [line for line in data["poems"][0]["text"].replace("。", "，").split("，") if line]
    assert [line[0] for line in lines[:3]] == list(heads[:3])

    text = tangstudio("generate", "-m", "tiny-gru", "--form", "wulv", "--acrostic", heads[:2], "-n", "1",
                      "--seed", "1", home=home)  # fmt: skip
    assert text.returncode == 0, text.stderr
    # a note about the settings, on stderr: a pipe gets only the poems (an engineer's review)
    assert (
        text.stderr.splitlines()[0]
        == f"the acrostic {heads[:2]} opens lines 1-2 of 8; lines 3-8 start freely"
    )
    assert text.stdout.startswith("#1 ")


def test_a_refused_acrostic_prints_its_error_alone(heads: str, home: Path) -> None:
    """`--acrostic abc` once printed "the acrostic abc opens lines 1-3 of 4" before refusing it."""
    for acrostic in ("abc", heads[0] + "a"):
        done = tangstudio("generate", "-m", "tiny-gru", "--form", "wujue", "--acrostic", acrostic, home=home)
        assert done.returncode == 2 and done.stdout == "", (done.stdout, done.stderr)
        assert done.stderr.startswith("error: the acrostic must be Chinese characters")


def test_a_full_acrostic_says_nothing_and_a_long_one_is_refused(heads: str, home: Path) -> None:
    full = tangstudio("generate", "-m", "tiny-gru", "--form", "wujue", "--acrostic", heads[:4], "-n", "1",
                      "--seed", "1", "--json", home=home)  # fmt: skip
    assert full.returncode == 0, full.stderr
    assert not any("acrostic" in note for note in json.loads(full.stdout)["notes"])
    long = tangstudio("generate", "-m", "tiny-gru", "--form", "wujue", "--acrostic", heads[:5], "-n", "1",
                      home=home)  # fmt: skip
    assert long.returncode == 2 and long.stderr.count("\n") == 1 and "acrostic" in long.stderr


def _differ(a: str, b: str) -> int:
    return sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))


def _most_repeated(text: str) -> int:
    from collections import Counter

    return max(Counter(c for c in text if c not in "，。").values())


def test_diverse_beams_give_different_poems_on_the_shipped_model() -> None:
    """The issue's own case: plain beam search's 2 best differ in a character; diverse groups do not."""
    from tangstudio.engine.compose import beam as B
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.compose.settings import ComposeSettings

    loaded = load_for_composing("default")
    settings = ComposeSettings(form="qijue", seed=1, novelty=False)
    plain = B.beam_search(loaded, settings, 4, 2)
    diverse = B.beam_search(
        loaded, settings, 4, 2, diversity=B.DIVERSITY, repeat_penalty=settings.repeat_penalty
    )
    assert len(diverse) == 2 and diverse[0].log_prob >= diverse[1].log_prob
    assert _differ(diverse[0].text, diverse[1].text) >= len(diverse[0].text) // 4
    assert _differ(diverse[0].text, diverse[1].text) > _differ(plain[0].text, plain[1].text)
    assert max(map(_most_repeated, (r.text for r in diverse))) <= max(
        map(_most_repeated, (r.text for r in plain))
    )
    for r in diverse:  # the form still holds, and the reported log-prob is the model's own
        assert r.check["form_ok"] and r.check["rhyme_ok"]
        assert r.log_prob == pytest.approx(sum(math.log(s.model_prob) for s in r.steps), abs=1e-3)


def test_generate_says_how_the_beam_searched(heads: str, home: Path) -> None:
    done = tangstudio("generate", "-m", "tiny-gru", "--form", "wujue", "--beam", "4", "-n", "2", "--seed", "1",
                      "--json", home=home)  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert len(data["poems"]) == 2
    assert any(note.startswith("diverse beam search: 2 groups of 2/2") for note in data["notes"])


def test_the_beam_note_counts_its_nats_in_english() -> None:
    from tangstudio.engine.compose.beam import describe

    assert "(costs: 1 nat for a character an earlier group" in describe(4, 2, 1.0, 2.0)
    assert "2 for one the poem already holds" in describe(4, 2, 1.0, 2.0)
    assert "(costs: 1.5 nats for a character the poem already holds" in describe(4, 1, 0.0, 1.5)


def test_one_form_name_on_both_faces(heads: str, home: Path) -> None:
    free_verse = "床前明月光，疑是地上霜。举头望明月。"
    checked = json.loads(tangstudio("check", free_verse, "--json", home=home).stdout)
    assert checked["form"] == "free"
    text = tangstudio("check", free_verse, home=home).stdout
    assert "(free," in text and "other" not in text
    assert "other" not in tangstudio("check", "--help", home=home).stdout  # the help names it free too
    assert (
        json.loads(tangstudio("check", free_verse, "--form", "古体", "--json", home=home).stdout)["form"]
        == "free"
    )
    made = tangstudio(
        "generate", "-m", "tiny-gru", "--form", "free", "-n", "1", "--seed", "1", "--json", home=home
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["poems"][0]["form"] == "free"
    for name, form in (("七绝", "qijue"), ("五言律诗", "wulv"), ("五绝", "wujue")):
        done = tangstudio(
            "generate", "-m", "tiny-gru", "--form", name, "-n", "1", "--seed", "1", "--json", home=home
        )
        assert done.returncode == 0, (name, done.stderr)
        assert json.loads(done.stdout)["poems"][0]["form"] == form


@pytest.mark.parametrize(
    ("form", "said"), [("qilv", "never written a 七言律诗"), ("free", "never begun a free-form")]
)
def test_a_form_the_model_never_trained_on_is_said_for_every_form(form: str, said: str) -> None:
    """Only free verse was named once: a wujue-only model wrote a 七律 without a word."""
    import dataclasses

    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.compose.run import compose_stream
    from tangstudio.engine.compose.settings import ComposeSettings

    loaded = load_for_composing("default")
    wujue_only = dataclasses.replace(loaded, meta={**loaded.meta, "forms": "wujue"})
    notes, _ = compose_stream(wujue_only, ComposeSettings(form=form, seed=1), 1, novelty=None)
    assert [n for n in notes if "trained on wujue verse only" in n and said in n], notes
    for trained in ("wujue", "regulated", "all"):
        fitting = dataclasses.replace(loaded, meta={**loaded.meta, "forms": trained})
        notes, _ = compose_stream(fitting, ComposeSettings(form="wujue", seed=1), 1, novelty=None)
        assert not [n for n in notes if "verse only" in n], (trained, notes)
