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
        "Train with the model settings",
        "Start a run with the Model pane's architecture and sizes",
        "app.pane_action('model', 'train')",
    ),
    (
        "Measure training speed",
        "Time a few training steps of the Model pane's settings",
        "app.pane_action('model', 'estimate')",
    ),
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
        "Cycle chart metric",
        "Loss, perplexity, learning rate, characters per second",
        "app.pane_action('train', 'cycle_metric')",
    ),
    ("New poem", "Start again with the composer settings", "app.pane_action('compose', 'new')"),
    (
        "Play the rest of the poem",
        "Write the remaining lines at a visible pace, each the best of its drafts",
        "app.pane_action('compose', 'play')",
    ),
    (
        "Save the poem",
        "JSON with the settings and every probability, in your tangstudio home",
        "app.pane_action('compose', 'save')",
    ),
    ("Copy the poem", "Copy the poem text to the clipboard", "app.pane_action('compose', 'copy')"),
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
