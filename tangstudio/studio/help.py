"""The in-app help on `?`: the keys of every pane and the basic flow, so nobody needs the docs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown

HELP = """\
# Tang Studio

Train small recurrent networks on the Complete Tang Poems, then compose verse with them and watch
every character being chosen.

**The basic flow:** look at the data in **Corpus** (F1) → pick an architecture and its size in
**Model** (F2) and press `t` to train → watch the curves in **Train** (F3) → write a poem step by
step in **Compose** (F4). The **Lab** (F5) runs the seed article's own experiment: digits read one
row per step, trained live, then watched row by row.

## Everywhere
| key | action |
|---|---|
| `F1` `F2` `F3` `F4` `F5` | Corpus, Model, Train, Compose, Lab |
| `Ctrl+P` | command palette: every action by name |
| `?` | this help (`Esc` closes it) |
| `Tab` / `Shift+Tab` | move between fields (the focused one is highlighted) |
| `Esc` | leave a field, so the pane's keys work again |
| `Ctrl+Q` | quit (a poem not saved or copied: it asks once, `Ctrl+Q` again quits) |

## Corpus
Choose the corpus, the script (simplified / traditional) and a form filter; the tables follow.
`Ctrl+R` counts them again.

## Model
Choose **RNN**, **LSTM**, **GRU** or **BiLSTM** (`↑` `↓`); beside it the equations from the seed
article and when to pick it. Edit the sizes; invalid values turn red. The parameter count follows
the form; `e` measures the training speed on this machine; `t` starts a run with these settings.

## Train
| key | action |
|---|---|
| `Space` | show / hide the highlighted run in the chart (overlay several to compare) |
| `v` | cycle the chart: loss · perplexity · learning rate · characters/s |
| `s` | stop the highlighted run (it writes a checkpoint first); the footer offers it while that run trains, here or in another process |
| `r` | resume the highlighted run; the footer offers it while that run does not train |
| `n` | new run (set it up in the Model pane) |
| `a` | attach any run folder, e.g. one copied from a server (remembered until `x`) |
| `x` | forget the highlighted attached run (its folder stays) |

Runs written by `tangstudio train --headless` in another shell appear by themselves and their
curves fill in live. Runs started here train in their own process, with about 8 evaluations and
samples spread over their budget; quitting the studio stops them with a checkpoint (resume with
`r` next time).

## Compose
| key | action |
|---|---|
| `Space` | sample the next character |
| `1`–`9`, `0` | take candidate 1–10 instead |
| `Backspace` | undo one character (in a fresh poem: bring the previous one back) |
| type 月 | write your own character (any IME, or paste): the panel shows its probability, surprisal and rank, and whether it fits the 平仄 and rhyme; one that breaks the form is refused with the reason; the model continues from it |
| `←` `→` `↑` `↓` | move the cursor over the written characters, by character or by line (the panel describes the one under it) |
| `l` | lock / unlock the line under the cursor (a locked line is kept by a reroll, and Backspace and 1–0 do not take it back) |
| `r` | reroll from the line under the cursor: it and every unlocked line after it are written again (see below) |
| `k` | a new keyword from the planner for the line under the cursor, and that line rerolled (a model trained with plans) |
| `b` | best of 5: five drafts with these settings ranked by the critic (a blind reader's expected score on the readers' 1–5 scale; a weak model's drafts can fall below 1, as it extrapolates); a number key takes one |
| `g` | gate view: under each line a heat strip per layer (LSTM forget gate f, GRU update gate z, RNN ‖h‖), its colour scale in a legend below the poem; the panel lists every gate of the cursor's character |
| `#` | pin a unit (`h1:37`, `c0:5`; `tangstudio inspect RUN` lists telling ones) and colour the poem by its value; empty clears |
| `p` | play the rest at a visible pace, each line the best of `drafts` tries by the model's likelihood (`p` again pauses) |
| `n` | new poem with the settings above |
| `u` | bring back the poem that the last new poem (or a new form or model) replaced; `u` again swaps back |
| `w` | save the poem as Markdown (settings and every character's probability) and JSON, in `<home>/poems/` |
| `W` | save an SVG screenshot of the screen in `<home>/poems/` |
| `c` | copy the poem |
| `Esc` | leave a settings field (Enter in a field applies it) |

Temperature, top-k, top-p, drafts (how many tries `p` keeps the best of, per line; 1: plain
sampling), rhyme and tones apply from the next character; form, 藏头 (acrostic),
prefix, 藏字 (theme: characters the poem must contain, placed by the decoder where they still fit),
primer (text the model reads before the poem, not shown) and 韵 (the 平 group to rhyme in, e.g.
七阳; empty, the poem's own) start a new poem.

**题 and 纲 (a model trained with titles and plans).** Enter in 题 starts a new poem that the model
writes after the title, with no keywords (measured to read better than the planner's); the model
also reads the poem without the title and every character leans toward what the title adds (title
guidance, the engine's default; `--guidance` in `generate`), so the panel's probabilities are the guided ones. 纲 holds a
keyword per line (`山,水,月,归`; `-` leaves a line to the planner, an empty entry gives it none;
`-` alone lets the planner plan every line from the title). Edit 纲 and press Enter: before a poem (or after one)
a new poem starts with it, mid-poem the lines not begun yet read their new keywords. A model
trained before plans refuses both in one line; 藏字 still gets a line of its own.

**Reroll rule.** A left-to-right model cannot revise the past: `r` keeps every line before the
cursor's line and samples that line and all after it again; locked later lines are written back
byte for byte at their place, and the rhyme and tone pattern are narrowed to fit them first.
**BiLSTM models fill instead:** `←` `→` select a position, the panel shows its candidates given
both sides, `1`–`0` set it, `Space` fills every empty position, `p` refines them all, `r` refills
only the cursor's line.

Each character is tinted by the probability it had when chosen (bright: likely, red: a surprise).
Under every line: the tone of each character — 平 level, 仄 oblique, 中 either (a character with
several readings of different tones, e.g. 中 itself or 看), ？ not in the tables — and the rhyme
group at the line end; violations are red. The checker lets a 中 character fit either tone. The
composer, and a character you type, take it in the reading the Tang poets give it at that place
(中 is 平 inside a line nearly always), so typing 中 where a 仄 belongs is refused; a prefix or a
locked line keeps every reading.

## Lab
The seed article's digits experiment (28 rows of 28 pixels, one row per step, the class read after
the last row) and its long-memory claim.

| key | action |
|---|---|
| `↑` `↓` then `t` | pick RNN, LSTM, GRU or BiLSTM and train it on the 8,000 train digits (1,500 steps at the rate the study picked for the cell, under a CPU-minute) |
| `Space` | overlay the highlighted run's accuracy and loss curves with the others |
| `s` | stop the highlighted run (it writes a checkpoint first); the footer offers it while that run trains, here or in another process |
| `v` | next view: curves · a digit read row by row · confusion matrix · long-memory chart |
| `→` `←` | (digit view) read one more row / one fewer: the rows read are lit, ten bars show P(class) |
| `p` | (digit view) play the rows one by one |
| `]` `[` | next / previous digit; in the confusion view, the next misclassified digit; in the memory view, the next saved study (`lab memory run --name` keeps several) |
| `w` | (digit view) only the digits the model gets wrong |
| `g` | (memory view) the gradient norms ‖∂L_T/∂h_t‖ against T − t (a log scale), at initialisation, then after training, then recall again: the vanishing gradient; the footer names the chart it brings |
| `e` | (digit and confusion views) read the highlighted run's newest best checkpoint again |

The same from a shell: `tangstudio lab digits train|eval|show` and `tangstudio lab memory run|show`.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close help")]

    def __init__(self, section: str | None = None) -> None:
        """`section`: the pane whose heading (## Compose) the help opens at; from Compose it had
        opened at the top, four pages above its keys (a TUI review)."""
        super().__init__()
        self.section = section

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP)
        # Its own footer: the pane's showed through, offering Space, p and n, which do nothing here,
        # and not the keys that close it (a TUI review).
        yield Footer()

    def on_markdown_table_of_contents_updated(self) -> None:
        """The headings are laid out: go to the pane's (after the next refresh, as their places settle)."""
        if self.section:
            self.call_after_refresh(self._go_to_section)

    def _go_to_section(self) -> None:
        """Markdown.goto_anchor's jump, not animated: under load the animation had not arrived when
        a key was pressed, or a test looked."""
        markdown = self.query_one(Markdown)
        wanted = (self.section or "").lower()
        for _level, title, header_id in markdown.table_of_contents:
            if title.lower() == wanted:
                markdown.query_one(f"#{header_id}").scroll_visible(top=True, animate=False)
                return
