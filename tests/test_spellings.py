"""A simplified poem is written in simplified characters (a poet's review, fifteenth stop).

`generate --title 送友人 --seed 1` wrote 悠悠鴈北飞, and sheet S's readers saw 登高劒: a spelling
outside GB 2312 where the vocabulary holds the standard one (雁, 剑). The composer no longer writes
such a spelling on its own; a person may still type one, and a traditional-script model keeps them.
"""

from __future__ import annotations

import numpy as np
import pytest
from compose_helpers import build_vocab, composer, tiny_lm

from tangstudio.engine.compose.tables import tables_for


@pytest.fixture(scope="module")
def lm():
    # The spellings repeated so that an untrained model's even spread gives them real weight.
    return tiny_lm(build_vocab(["鴈雁劒剑猨猿" * 40], 60))


def test_the_composer_never_writes_a_rare_spelling_beside_a_standard_one(lm) -> None:
    stoi = lm.vocab.stoi
    t = tables_for(lm.vocab)
    for rare, standard in ("鴈雁", "劒剑", "猨猿"):
        assert t.hanzi[stoi[rare]] and not t.writes[stoi[rare]] and t.writes[stoi[standard]]
    written = "".join(composer(lm, form="wulv", seed=s, temperature=3.0).finish().text for s in range(6))
    assert not set(written) & set("鴈劒猨"), written
    # The masks do not hide them from a person: typed, each is taken.
    c = composer(lm, form="wulv", seed=0)
    assert c.judge("鴈").reason is None
    c.write("鴈")


def test_a_traditional_vocabulary_keeps_its_spellings() -> None:
    from tangstudio.engine.corpus.vocab import Vocab

    vocab = Vocab.build(["鴈雁劒劍，。"], "traditional")
    t = tables_for(vocab)
    assert np.array_equal(t.writes, t.hanzi)


def test_a_traditional_character_typed_to_a_simplified_model_gets_its_simplified_form(lm) -> None:
    """The studio said only "風 is not in this model's vocabulary"; the CLI already named 风."""
    judged = composer(lm, form="wulv", seed=0).judge("風")
    assert (
        not judged.fits
        and judged.reason
        == "風 is not in this model's vocabulary; the model writes simplified characters: try '风'"
    )
    assert composer(lm, form="wulv", seed=0).judge("𪚥").reason == "𪚥 is not in this model's vocabulary"
