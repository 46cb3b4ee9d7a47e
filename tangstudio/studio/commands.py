"""The command palette: every studio action by name, so no key has to be remembered."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, help, app action); actions are dispatched with `App.run_action`, so panes own them.
COMMANDS: list[tuple[str, str, str]] = [
    (
        "Show corpus",
        "Statistics of the corpus: forms, line lengths, characters, authors",
        "app.show_pane('corpus')",
    ),
    ("Show model", "Choose an architecture and its hyperparameters", "app.show_pane('model')"),
    ("Show training", "Live curves of every run; start, stop, resume", "app.show_pane('train')"),
    ("Show composer", "Compose a poem step by step", "app.show_pane('compose')"),
    (
        "Show lab",
        "The seed article's experiments: digits read row by row, long memory",
        "app.show_pane('lab')",
    ),
    (
        "Train with the model settings",
        "Start a run with the Model pane's architecture and sizes",
        "app.pane_action('model', 'train')",
    ),
    (
        "Measure training speed",
        "Time a few training steps of the Model pane's settings",
        "app.pane_action('model', 'estimate')",
    ),
    ("New run", "Set up a run in the Model pane, then t trains it", "app.pane_action('train', 'new')"),
    (
        "Stop the highlighted run",
        "SIGINT: the run writes a checkpoint and stops",
        "app.pane_action('train', 'stop')",
    ),
    (
        "Resume the highlighted run",
        "Continue a stopped run from its last checkpoint",
        "app.pane_action('train', 'resume')",
    ),
    ("Attach a run folder", "Follow a run directory written elsewhere", "app.pane_action('train', 'attach')"),
    (
        "Forget the highlighted run",
        "Take a run attached from elsewhere off the list (its folder stays)",
        "app.pane_action('train', 'forget')",
    ),
    (
        "Cycle chart metric",
        "Loss, perplexity, learning rate, characters per second",
        "app.pane_action('train', 'cycle_metric')",
    ),
    (
        "Next character",
        "Sample the next character from the distribution shown",
        "app.pane_action('compose', 'step')",
    ),
    ("Undo a character", "Take back the last character", "app.pane_action('compose', 'undo')"),
    ("New poem", "Start again with the composer settings", "app.pane_action('compose', 'new')"),
    ("Previous poem", "Bring back the poem before this one", "app.pane_action('compose', 'bring_back')"),
    (
        "Play the rest of the poem",
        "Write the remaining lines at a visible pace, each the best of its drafts",
        "app.pane_action('compose', 'play')",
    ),
    (
        "Best of K drafts",
        "Write K whole poems and rank them by the critic; take any of them",
        "app.pane_action('compose', 'best_of')",
    ),
    (
        "Show the gates",
        "The LSTM's forget, input and output gates (or the GRU's) at every character",
        "app.pane_action('compose', 'gates')",
    ),
    (
        "Pin a unit",
        "Follow one hidden unit (h0:5: unit 5 of layer 0) under the poem",
        "app.pane_action('compose', 'pin')",
    ),
    (
        "Lock the line",
        "Keep the line under the cursor when another is rerolled",
        "app.pane_action('compose', 'lock')",
    ),
    (
        "Reroll the line",
        "Write the line under the cursor again, keeping locked lines",
        "app.pane_action('compose', 'reroll')",
    ),
    (
        "New keyword",
        "Give the line under the cursor another keyword and rewrite it",
        "app.pane_action('compose', 'new_keyword')",
    ),
    (
        "Save the poem",
        "Markdown and JSON with the settings and every probability, in your tangstudio home",
        "app.pane_action('compose', 'save')",
    ),
    ("Copy the poem", "Copy the poem text to the clipboard", "app.pane_action('compose', 'copy')"),
    (
        "Save the poem as SVG",
        "A picture of the screen, under poems/ in your tangstudio home",
        "app.pane_action('compose', 'screenshot')",
    ),
    (
        "Train a digits model",
        "The Lab's digits experiment: a run reading each image row by row",
        "app.pane_action('lab', 'train')",
    ),
    (
        "Stop the digits run",
        "Stop the highlighted Lab run this studio started; it writes a checkpoint",
        "app.pane_action('lab', 'stop')",
    ),
    (
        "Cycle the lab view",
        "Curves, a digit read row by row, the confusion matrix, the memory study",
        "app.pane_action('lab', 'cycle_view')",
    ),
    ("Play the digit's rows", "Read the digit one row at a time", "app.pane_action('lab', 'play')"),
    ("Next digit", "Show the next test digit", "app.pane_action('lab', 'digit(1)')"),
    (
        "Memory study: gradients",
        "In the Lab's memory view, the gradient norms against T − t (at initialisation, then trained)",
        "app.pane_action('lab', 'memory_chart')",
    ),
    (
        "Next memory study",
        "In the Lab's memory view, the next saved long-memory study, by age",
        "app.pane_action('lab', 'study(1)')",
    ),
    (
        "Only the mistakes",
        "Step through the digits the model gets wrong",
        "app.pane_action('lab', 'wrong_only')",
    ),
    ("Reload the digits model", "Read the Lab run's newest checkpoint", "app.pane_action('lab', 'reload')"),
    ("Help", "Keys and the basic flow", "app.help"),
]


class StudioCommands(Provider):
    async def discover(self) -> Hits:
        for title, help_text, action in COMMANDS:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(title), partial(self.app.run_action, action), help=help_text
                )
