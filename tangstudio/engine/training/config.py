"""TrainConfig, the options of `tangstudio train`: defined with the run folder's schemas in
`runs/train_config.py` (config.toml is what it describes, and `runs` reads it without importing
the training package); re-exported here, where the trainer and its callers have always found it.
"""

from tangstudio.engine.runs.train_config import DEFAULT_EPOCHS as DEFAULT_EPOCHS
from tangstudio.engine.runs.train_config import DEVICES as DEVICES
from tangstudio.engine.runs.train_config import EVAL_SUBSET_SEED as EVAL_SUBSET_SEED
from tangstudio.engine.runs.train_config import RESUMABLE_CHANGES as RESUMABLE_CHANGES
from tangstudio.engine.runs.train_config import TrainConfig as TrainConfig
