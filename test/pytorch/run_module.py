"""Runs an exported model.py with given weights on a given input; the test compares the
outputs with netc's. Usage: run_module.py EXPORT_DIR MODEL_CLASS WEIGHTS(.pt | .json) INPUT.bin N,H,W,C OUT.bin [logits]
WEIGHTS: a torch.save'd {'G': state_dict} (loaded strictly: the keys must be the module's), or
a JSON manifest [{key, shape, offset}] beside a .bin of float32 values in PyTorch layout.
INPUT.bin and OUT.bin are NHWC float32; OUT.bin holds every output, concatenated."""
import json, os, sys
import numpy as np
import torch

export_dir, cls, weights, input_file, shape, out_file = sys.argv[1:7]
sys.path.insert(0, export_dir)
import model as M

module = getattr(M, cls)()
if weights.endswith('.pt'):
    state = torch.load(weights, map_location='cpu')['G']
else:
    manifest = json.load(open(weights))
    data = np.fromfile(weights[:-5] + '.bin', dtype=np.float32)
    state = {w['key']: torch.from_numpy(data[w['offset']:w['offset'] + int(np.prod(w['shape']))].reshape(w['shape']).copy()) for w in manifest}
module.load_state_dict(state, strict=True)
module.eval()
n, h, w, c = map(int, shape.split(','))
x = torch.from_numpy(np.fromfile(input_file, dtype=np.float32).reshape(n, h, w, c)).permute(0, 3, 1, 2)
with torch.no_grad():
    outs = module(x, logits=True) if len(sys.argv) > 7 else module(x)
np.concatenate([(o.permute(0, 2, 3, 1) if o.dim() == 4 else o).contiguous().numpy().ravel() for o in outs]).astype(np.float32).tofile(out_file)
