#!/usr/bin/env bash
# The README's before/after crops, made with the bundled model (run after npm run build):
#   docs/held-out-crop.png  a held-out frame (bedroom, camera shake): blurry | netc | sharp
#   docs/real-shake-crop.png  a real photo taken with a moving camera (skimage's clock_motion,
#                             grayscale, given to netc as RGB): blurry | netc
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
node bin/netc.js deblur examples/bedroom-shake-blurry.png --out "$tmp/bedroom.png"
ffmpeg -v error -i ../shared/fixtures/images/clock_motion.png -pix_fmt rgb24 "$tmp/clock_rgb.png"
node bin/netc.js deblur "$tmp/clock_rgb.png" --out "$tmp/clock.png"
crop="crop=240:200:300:80,scale=480:400:flags=neighbor"
ffmpeg -v error -y -i examples/bedroom-shake-blurry.png -i "$tmp/bedroom.png" -i examples/bedroom-shake-sharp.png \
  -filter_complex "[0]$crop[a];[1]$crop[b];[2]$crop[c];[a][b][c]hstack=3" docs/held-out-crop.png
crop="crop=200:200:100:50,scale=400:400:flags=neighbor"
ffmpeg -v error -y -i "$tmp/clock_rgb.png" -i "$tmp/clock.png" -filter_complex "[0]$crop[a];[1]$crop[b];[a][b]hstack=2" docs/real-shake-crop.png
rm -rf "$tmp"
echo "wrote docs/held-out-crop.png docs/real-shake-crop.png"
