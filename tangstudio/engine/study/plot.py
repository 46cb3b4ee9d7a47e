"""The study's curves as one PNG: val loss against training time and against characters seen.

Two x-axes because they answer different questions: per second is what a user waits for (and a
shared machine blurs it), per character is how much each cell learns from the same text. The
BiLSTM's pseudo-loss is drawn dashed and labelled: it is not on the same scale as a causal loss.
matplotlib is imported here only (the `plot` extra), with the Agg backend so no display is needed.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from tangstudio.engine.atomic import write_bytes_atomic
from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import ARCH_NAMES

if TYPE_CHECKING:
    from tangstudio.engine.study.compare import StudyResult

# One colour per architecture, in the registry's order (an architecture added later gets the next).
PALETTE = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
COLORS = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(ARCH_NAMES)}


def require_matplotlib(option: str = "--plot") -> None:
    """Fail early (before hours of training) if the figure could not be drawn. `option` is the
    name the user typed: `compare --plot`, `lab ... --png`."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise TangError(f"{option} needs matplotlib: pip install 'tangstudio[plot]'") from None


def check_plot_path(path: str | Path, option: str = "--plot") -> Path:
    path = Path(path).expanduser()
    if path.suffix.lower() != ".png":
        raise TangError(f"{option} writes a PNG; give a path ending in .png (got {str(path)!r})")
    if path.is_dir():
        raise TangError(f"{option} {str(path)!r} is a folder")
    if not path.parent.is_dir():
        raise TangError(f"{option}: folder {str(path.parent)!r} does not exist")
    return path


def plot_curves(study: StudyResult, path: str | Path) -> Path:
    """Draw `study` (a StudyResult) to `path` atomically; returns the path."""
    require_matplotlib()
    path = check_plot_path(path)
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, (by_time, by_chars) = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for arch in study.archs:
        if not arch.curve:
            continue
        label = arch.arch + ("" if arch.causal else " (pseudo-loss, not comparable)")
        style = {
            "color": COLORS.get(arch.arch),
            "marker": "o",
            "markersize": 3,
            "linewidth": 1.6,
            "linestyle": "-" if arch.causal else "--",
            "label": label,
        }
        by_time.plot([p.train_s / 60 for p in arch.curve], [p.val_loss for p in arch.curve], **style)
        by_chars.plot([p.chars / 1e6 for p in arch.curve], [p.val_loss for p in arch.curve], **style)
    if study.target_loss is not None:
        for axis in (by_time, by_chars):
            axis.axhline(study.target_loss, color="grey", linewidth=0.8, linestyle=":")
        by_time.annotate(
            f"target {study.target_loss:.3f}",
            (0, study.target_loss),
            xycoords=("axes fraction", "data"),
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=8,
            color="grey",
        )
    c = study.config
    by_time.set_xlabel("training time (min, evaluations excluded)")
    by_chars.set_xlabel("characters seen (millions)")
    by_time.set_ylabel("val loss (nats/char)")
    for axis in (by_time, by_chars):
        axis.grid(True, alpha=0.3)
    by_chars.legend(fontsize=8)
    fig.suptitle(
        f"{c['corpus']} · {c['forms']} · {c['layers']}×{c['hidden']} hidden, embed {c['embed']}, "
        f"batch {c['batch_size']} · seed {c['seed']}",
        fontsize=10,
    )
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    write_bytes_atomic(path, buffer.getvalue())
    return path
