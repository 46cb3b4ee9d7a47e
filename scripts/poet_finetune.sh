#!/usr/bin/env bash
# "Write like 白居易 in five minutes" (issue 21 §4): fine-tune the shipped model on one poet's train
# poems for a 4-minute budget at two learning rates, keep the best checkpoint by the poet's own
# validation poems (early stopping: best/ is the lowest val loss), and compare the poet's test
# perplexity before and after. The learning rate is chosen on val, the test figure read once.
#   scripts/poet_finetune.sh [POET] [MINUTES]
set -eu
POET=${1:-白居易}
MINUTES=${2:-4}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
tangstudio eval default --split val --author "$POET" --json > "poet-before-val.json"
for LR in 3e-4 1e-3; do
  tangstudio train --headless --init-from default --author "$POET" --minutes "$MINUTES" --lr "$LR" \
      --warmup 10 --batch-size 32 --eval-every 40 --eval-poems 0 --samples 0 --run "poet-$LR"
done
for LR in 3e-4 1e-3; do tangstudio eval "poet-$LR" --split val --author "$POET" --json > "poet-$LR-val.json"; done
# Choose the learning rate whose best checkpoint has the lowest ppl_untitled on val, then read the
# test split once for it and for the shipped model:
#   tangstudio eval default --split test --author "$POET" --json
#   tangstudio eval poet-<chosen lr> --split test --author "$POET" --json
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
