"""Planning a poem before it is written: a title's words → one keyword per line (Wang et al. 2016).

- `table.py`   the planner's statistics, read lazily from package data (built by scripts/build_planner.py);
- `build.py`   how those statistics are counted from the train split (deterministic);
- `planner.py` proposing keywords from a title, or from nothing, with a seed;
- `feed.py`    the title and keywords as the token ids a plan-reading model is fed;
- `theme.py`   which line each 藏字 theme character is planned into.

All torch-free: composing never imports torch.
"""
