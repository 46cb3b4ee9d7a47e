"""The Lab pane (F5), one module per area: the pane (pane.py), the runs list (run_list.py), the
charts (charts.py), the digit views (digits.py) and training a digits run (training.py).

`TRAIN_STEPS` lives here: `t` reads it at the moment it starts a run (a test shortens it).
"""

from tangstudio.studio.panes.lab.pane import ARCHS, VIEWS, LabPane
from tangstudio.studio.panes.lab.training import TRAIN_STEPS, LabProcess

__all__ = ["ARCHS", "TRAIN_STEPS", "VIEWS", "LabPane", "LabProcess"]
