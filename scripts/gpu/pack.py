#!/usr/bin/env python3
"""Packs a netc dataset root for a device machine whose upload is capped (64 MiB a call):
blur_gamma and sharp only, as JPEG quality 94 with full-resolution chroma (about 41 dB PSNR
against the PNGs), the training pairs split round-robin into PARTS folders so that each
travels with one call; the test split goes with the first part.
Usage: pack.py ROOT OUT PARTS [MAX_TEST]"""
import os, sys
from PIL import Image

root, out, parts = sys.argv[1], sys.argv[2], int(sys.argv[3])
max_test = int(sys.argv[4]) if len(sys.argv) > 4 else 16
sizes = [0] * parts
for split in ('train', 'test'):
    pairs = []
    for seq in sorted(os.listdir(os.path.join(root, split))):
        if seq.startswith('.'):
            continue
        for name in sorted(os.listdir(os.path.join(root, split, seq, 'sharp'))):
            pairs.append((seq, name))
    if split == 'test':
        pairs = pairs[:: max(1, len(pairs) // max_test)][:max_test]
    for i, (seq, name) in enumerate(pairs):
        part = i % parts if split == 'train' else 0
        for sub in ('blur_gamma', 'sharp'):
            target = os.path.join(out, f'part{part}', split, seq, sub)
            os.makedirs(target, exist_ok=True)
            dest = os.path.join(target, name[:-4] + '.jpg')
            Image.open(os.path.join(root, split, seq, sub, name)).convert('RGB').save(dest, 'JPEG', quality=94, subsampling=0)
            sizes[part] += os.path.getsize(dest)
print('packed', {f'part{p}': f'{s / 2**20:.1f} MiB' for p, s in enumerate(sizes)})
