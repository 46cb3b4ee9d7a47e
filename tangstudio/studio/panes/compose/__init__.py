"""The compose pane, one module per area (as posting splits its widgets):

- `pane.py`: ComposePane — keys become calls on a `Session`, state is published to the widgets;
- `readout.py`: what tests and the app read off it (the poem, its steps, the engine object);
- `settings_bar.py`: the fields above the poem (defaults from the engine's ComposeSettings), 题 and 纲;
- `plan_keys.py`: the title and the plan (PlanDesk, `k`);
- `panel.py`: what the side panel shows (candidates, the typed character, 对仗, the gate values);
- `drafts.py`: best of K drafts (`b`), shown in the side panel;
- `status.py`: the status line under the poem, and which keys the footer has room for;
- `gates.py`: the gate view (`g`) and the pinned unit (`#`), their trace read in a worker;
- `previous.py`: the poem a new one replaced, for `u`;
- `playback.py`, `loading.py`, `poem_area.py`: `p`, the model loaded in a worker, typed Han;
- `export.py`: `w` (Markdown + JSON), `W` (SVG) and `c`.
"""

from tangstudio.studio.composing import default_model_available
from tangstudio.studio.panes.compose.pane import ComposePane

__all__ = ["ComposePane", "default_model_available"]
