"""A simplified poem is written in simplified characters (a poet's review, fifteenth stop).

`generate --title 送友人 --seed 1` wrote 悠悠鴈北飞, and sheet S's readers saw 登高劒: a spelling
outside GB 2312 where the vocabulary holds the standard one (雁, 剑). The composer no longer writes
such a spelling on its own; a person may still type one, and a traditional-script model keeps them.
"""

from __future__ import annotations

import pytest
from compose_helpers import build_vocab, composer, tiny_lm

from tangstudio.engine.compose.tables import tables_for

RARE = "鴈劒猨"


def _favouring_rare(loaded):
    """An untrained model whose output leans hard toward the rare spellings: without the rule it
    would write them wherever the form allows."""
    import torch

    with torch.no_grad():
        for ch in RARE:
            loaded.model.head.V.bias[loaded.vocab.stoi[ch]] += 8.0
    return loaded


@pytest.fixture(scope="module")
def lm():
    return _favouring_rare(tiny_lm(build_vocab(["鴈雁劒剑猨猿"], 60)))


def test_the_composer_never_writes_a_rare_spelling_beside_a_standard_one(lm) -> None:
    stoi = lm.vocab.stoi
    t = tables_for(lm.vocab)
    for rare, standard in ("鴈雁", "劒剑", "猨猿"):
        assert t.hanzi[stoi[rare]] and t.rare_spelling[stoi[rare]] and not t.rare_spelling[stoi[standard]]
    written = "".join(composer(lm, form="wulv", seed=s).finish().text for s in range(6))
    assert not set(written) & set(RARE), written
    # The masks do not hide them from a person: typed, each is taken.
    c = composer(lm, form="wulv", seed=0)
    assert c.judge("鴈").reason is None
    c.write("鴈")


def test_a_traditional_vocabulary_keeps_its_spellings() -> None:
    from tangstudio.engine.corpus.vocab import Vocab

    vocab = Vocab.build(["鴈雁劒劍，。"], "traditional")
    t = tables_for(vocab)
    assert not t.rare_spelling.any()


def test_a_traditional_character_typed_to_a_simplified_model_gets_its_simplified_form(lm) -> None:
    """The studio said only "風 is not in this model's vocabulary"; the CLI already named 风."""
    judged = composer(lm, form="wulv", seed=0).judge("風")
    assert (
        not judged.fits
        and judged.reason
        == "風 is not in this model's vocabulary; the model writes simplified characters: try '风'"
    )
    assert composer(lm, form="wulv", seed=0).judge("𪚥").reason == "𪚥 is not in this model's vocabulary"


def test_the_bilstm_filler_draws_the_common_spellings_too(lm) -> None:
    from tangstudio.engine.compose.fill import Filler
    from tangstudio.engine.compose.settings import ComposeSettings

    bi = _favouring_rare(tiny_lm(lm.vocab, arch="bilstm"))
    written = ""
    for seed in range(4):
        f = Filler(bi, ComposeSettings(form="wulv", seed=seed))
        f.sample()
        written += f.result().text
    assert not set(written) & set(RARE), written


def test_free_verse_still_draws_its_marks_and_its_end() -> None:
    """A review of this stop's diff: the spelling rule kept only hanzi, so a free poem could never draw
    a mark or end: ten lines of twelve characters, cut off. A model leaning toward the marks writes
    short lines, as before."""
    import torch

    from tangstudio.engine.compose.constraints import FREE_MAX_LINE

    loaded = tiny_lm(build_vocab(["鴈雁劒剑猨猿"], 60))
    with torch.no_grad():
        for mark in "，。":
            loaded.model.head.V.bias[loaded.vocab.stoi[mark]] += 4.0
    lengths = []
    for seed in range(3):
        text = composer(loaded, form="free", seed=seed).finish().text
        lengths += [len(line) for line in text.replace("。", "，").split("，") if line]
    assert sorted(lengths)[len(lengths) // 2] < FREE_MAX_LINE // 2, lengths
