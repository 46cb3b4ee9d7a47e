"""The architecture study behind `tangstudio compare`: the same data, seed and budget for each
architecture in turn, then one table and one figure that put them side by side.

    study = run_study(TrainConfig(corpus="tang", minutes=6, hidden=256), ["rnn", "lstm", "gru", "bilstm"], "cmp")
    plot_curves(study, "curves.png")

Runs are ordinary runs named `<prefix>-<arch>` in the home, so the studio can overlay them.
"""

from tangstudio.engine.study.compare import (
    ArchResult,
    EvalPoint,
    StudyResult,
    parse_archs,
    plan_study,
    run_study,
    study_path,
)
from tangstudio.engine.study.plot import plot_curves

__all__ = [
    "ArchResult",
    "EvalPoint",
    "StudyResult",
    "parse_archs",
    "plan_study",
    "plot_curves",
    "run_study",
    "study_path",
]
