#!/usr/bin/env bash
# Prepares what the device machine needs (run here): the PyTorch exports of the variants and
# the dataset packed in parts under the upload cap. Then: scripts/gpu/train.sh there.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=${1:-data/deblur}
rm -rf data/gpu && mkdir -p data/gpu/exports
node bin/netc.js export models/deblur-lite.net --to pytorch --out data/gpu/exports/deblur-lite
node bin/netc.js export models/deepdeblur-pytorch.net --set blocks=4 --set feats=32 --to pytorch --out data/gpu/exports/deepdeblur-b4f32
/usr/bin/python3 scripts/gpu/pack.py "$ROOT" data/gpu 3 16
du -sh data/gpu/*
