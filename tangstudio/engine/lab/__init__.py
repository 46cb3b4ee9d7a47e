"""The Lab: the seed article's own experiments, next to the poems.

* digits read row by row (seed §4): 28 steps of 28 pixels, many-to-one, RNN / LSTM / GRU / BiLSTM;
* long memory (seed §2–§3): recall a symbol T steps back (T − 1 distractors), accuracy against T;
* vanishing gradients: ‖∂L_T/∂h_t‖ against T − t, through the readable cells.

Nothing here imports a UI library; torch is imported by the modules that need it, never by this
package, so the studio can read lab results before its first frame.
"""
