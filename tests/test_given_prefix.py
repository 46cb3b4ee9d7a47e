"""A prefix that breaks the tone pattern no longer switches the tones off for the rest (a poet's review).

`generate --form wujue --prefix 春眠不觉晓，处处闻啼鸟` wrote a third line that broke positions 4 and 5:
once 鸟 (仄, at line 2's rhyme) broke every pattern still possible, no tone rule was applied again,
and the only note blamed "given characters". Now the breaking character is forgiven, the patterns
go on guiding the lines the model writes, and the notes say what the given characters broke.
"""

from __future__ import annotations

import pytest
from compose_helpers import build_vocab, composer, tiny_lm

from tangstudio.engine.prosody import check_poem

PREFIX = "春眠不觉晓，处处闻啼鸟"


@pytest.fixture(scope="module")
def lm():
    return tiny_lm(build_vocab([PREFIX], 80))


def test_the_lines_after_a_breaking_prefix_keep_the_tone_pattern(lm) -> None:
    for seed in range(8):
        c = composer(lm, form="wujue", seed=seed, prefix=PREFIX, line_drafts=1)
        poem = c.finish().text
        assert poem.startswith(PREFIX)
        result = check_poem(poem, "wujue")
        assert result.lines[2].loose_ok and result.lines[3].loose_ok, (seed, poem, result.lines[2].pattern)
        notes = c.backoffs
        assert (
            "given characters break the tone pattern at 1 place; the characters written after them keep it"
            in notes
        )
        assert "given characters end line 2 on no 平 rhyme: the poem cannot rhyme there" in notes


def test_nothing_given_is_never_blamed_on_given_characters(lm) -> None:
    """A review of this stop's diff: with the rhyme and tones off, poems with no prefix were told
    "given characters end line 2 and 4 on no 平 rhyme"."""
    blamed = []
    for seed in range(6):
        c = composer(lm, form="wujue", seed=seed, tones="off", rhyme=False, line_drafts=1)
        c.finish()
        blamed += [n for n in c.backoffs if "given characters" in n]
    assert not blamed, blamed
    c = composer(lm, form="wujue", seed=0, prefix=PREFIX, rhyme=False, line_drafts=1)
    c.finish()
    assert not [n for n in c.backoffs if "no 平 rhyme" in n]  # rhyme off: nothing to say about it


def _strict_faults(poem: str, form: str) -> list[tuple[int, int]]:
    result = check_poem(poem, form)
    return [(i, j) for i, line in enumerate(result.lines) for j, c in enumerate(line.chars) if not c.ok]


@pytest.mark.parametrize(
    "given, form, allowed",
    [
        # 床前明月光: 光 (平) ends line 1 where the only strict variant left wants 仄
        ({"prefix": "床前明月光，"}, "wujue", lambda i, j: i == 0),
        # 秋 (平) opens line 3 where the strict pattern wants 仄: an acrostic's place
        ({"acrostic": "春夏秋冬"}, "qijue", lambda i, j: j == 0),
    ],
    ids=["prefix", "acrostic"],
)
def test_under_strict_tones_a_breaking_given_character_is_forgiven_only_where_it_stands(
    given, form, allowed
) -> None:
    """A poet's review: one given character that broke the strict pattern turned strict tones off
    for the rest of the poem (22 of 36 strict acrostic poems broke it where nothing was given; with
    the shipped model at seeds 0–11, 10 of 12 for this acrostic and 9 of 12 for this prefix). The
    characters after it keep it now."""
    vocab = build_vocab(["床前明月光", "春夏秋冬"], 200)
    lm = tiny_lm(vocab, seed=1)
    broke_where_given = 0
    for seed in range(8):
        c = composer(lm, form=form, seed=seed, tones="strict", line_drafts=1, **given)
        poem = c.finish().text
        faults = _strict_faults(poem, form)
        assert all(allowed(i, j) for i, j in faults), (seed, poem, faults)
        broke_where_given += bool(faults)
        if faults:
            assert any("break the strict tone pattern" in note for note in c.backoffs), c.backoffs
    assert broke_where_given  # the given characters do break it: the test reaches the forgiving
