#!/usr/bin/env bash
# Runs on the device machine (CUDA, PyTorch 2.x), from the repository root, in two calls:
#   bash scripts/gpu/train.sh smoke              part 0 of the data -> /tmp/netc-data, 5 steps per variant
#   bash scripts/gpu/train.sh train MINUTES      part 1 too, then every variant trains MINUTES at once
# data/gpu/exports/<variant>/ hold `netc export --to pytorch` of each variant (see prepare.sh);
# results go to $OUT (weights, log.jsonl, stdout of each variant).
set -uo pipefail
phase=$1
DATA=/tmp/netc-data
mkdir -p $DATA
for part in data/gpu/part*; do cp -r "$part"/. $DATA/; done
echo "data: $(find $DATA -name '*.jpg' -path '*train*sharp*' | wc -l) training pairs, $(find $DATA -name '*.jpg' -path '*test*sharp*' | wc -l) test pairs"
VARIANTS=$(ls data/gpu/exports)
if [ "$phase" = smoke ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import torch, PIL, numpy; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
  for v in $VARIANTS; do
    (cd data/gpu/exports/$v && python3 train.py --data $DATA --out /tmp/smoke-$v --steps 6 --log-every 3 --val-every 6 --val-images 2 2>&1 | tail -4) || exit 1
  done
  exit 0
fi
MINUTES=$2
for v in $VARIANTS; do
  (cd data/gpu/exports/$v && PYTHONUNBUFFERED=1 python3 train.py --data $DATA --out /tmp/run-$v --minutes "$MINUTES" \
      --val-every 1000 --val-images 16 --log-every 200 --checkpoint-every 2000 > $OUT/$v.txt 2>&1) &
done
wait
for v in $VARIANTS; do
  cp /tmp/run-$v/model-latest.pt $OUT/$v-model.pt; cp /tmp/run-$v/log.jsonl $OUT/$v-log.jsonl
  tail -3 $OUT/$v.txt
done
nvidia-smi --query-gpu=name --format=csv,noheader
