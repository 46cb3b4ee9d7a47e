"""The composer's craft: what a poet does beyond keeping the form (issue 22).

    repetition.py   no lazy repeats: a penalty on characters already in the poem, 叠字 spared
    pairing.py      对仗: lines 4 and 6 lean toward characters that answer lines 3 and 5
    critic.py       a finished poem's score: the terms below, 对仗, rhyme, repetition, weighed
    bidi.py         the critic's small BiLSTM read into numpy (no torch on the compose path)
    colloc.py       the critic's collocation term (within-line bigram PMI, train-split counts)
    disc.py         the critic's classifier of real poems against our drafts (disc_fit.py fits it)
    table_file.py   those two terms' safetensors files, checked against critic.json's sha256
    best_of.py      best of K: sample K drafts, rank them by the critic

All numpy: composing never imports torch (import-linter contract).
"""
