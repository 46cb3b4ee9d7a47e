"""The compose pane, one module per area (as posting splits its widgets):

- `pane.py`: ComposePane — keys become calls on a `Session`, state is published to the widgets;
- `settings_bar.py`: the fields above the poem (defaults from the engine's ComposeSettings);
- `panel.py`: what the side panel shows (candidates, the typed character, the gate values);
- `status.py`: the status line under the poem;
- `gates.py`: the gate view (`g`) and the pinned unit (`#`), their trace read in a worker;
- `previous.py`: the poem a new one replaced, for `u`;
- `export.py`: `w` (Markdown + JSON), `W` (SVG) and `c`.

A 题 (title) field and a per-line plan go in the settings bar; a "best of K drafts" view gets its
own module beside panel.py.
"""

from tangstudio.studio.composing import default_model_available
from tangstudio.studio.panes.compose.pane import ComposePane

__all__ = ["ComposePane", "default_model_available"]
