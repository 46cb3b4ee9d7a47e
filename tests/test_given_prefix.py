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
