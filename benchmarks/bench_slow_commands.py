"""The two costs issue 25 (item 18) took out of `inspect` and the Model pane, against what they replaced.

- `inspect`'s unit ranks (`units.column_ranks`) on the shipped model's size — 9,000 positions ×
  2,048 units (2 layers × 512 hidden and cell units) — against `argsort(0)`, the sort it replaced
  (which strides across rows). Same data, same thread count, same run.
- The Model pane's parameter count from `shapes.parameter_count` (no torch) against building the
  default model and counting its parameters (torch imported first, outside the timing).

`eval default` was left as it is: it is compute (91,482 characters through an 8.8M-parameter LSTM
and its 7,000-way softmax, about 9.5 CPU-seconds) and shows a bar per batch.
"""

from __future__ import annotations

from benchmarks.common import Row, median_time


def rows(quick: bool = False) -> list[Row]:
    import torch

    from tangstudio.engine.models import build_model, count_parameters
    from tangstudio.engine.models.config import ModelConfig
    from tangstudio.engine.models.shapes import parameter_count
    from tangstudio.engine.models.units import column_ranks

    repeat = 1 if quick else 3
    torch.manual_seed(0)
    x = torch.randn(9000, 2048)
    config = ModelConfig("lstm", 7000, embed=256, hidden=512, layers=2)
    return [
        Row(
            "inspect: unit ranks, 9,000 × 2,048 (s)",
            median_time(lambda: column_ranks(x), repeat, warmup=0),
            "s",
            "argsort(0), the sort it replaced",
            median_time(lambda: x.argsort(0), repeat, warmup=0),
            "< baseline",
        ),
        Row(
            "Model pane: parameter count of the default config (s)",
            median_time(lambda: parameter_count(config), repeat),
            "s",
            "build_model + count_parameters",
            median_time(lambda: count_parameters(build_model(config)), repeat),
            "< baseline / 100",
        ),
    ]


if __name__ == "__main__":
    from benchmarks.common import print_rows

    print_rows(rows, __doc__, digits=4)
