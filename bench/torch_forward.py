"""Times the forward pass of a `netc export --to pytorch` module on the CPU, as the peer
benchmark does (torch.no_grad, float32, batch 1; median of RUNS after one warm-up).
Usage: torch_forward.py EXPORT_DIR HxW [RUNS]. Prints one JSON object."""
import json, os, statistics, sys, time
import torch

export_dir, size = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
sys.path.insert(0, export_dir)
import model as M

h, w = map(int, size.split('x'))
torch.manual_seed(0)
g = getattr(M, M.GENERATOR)().eval()
x = torch.rand(1, 3, h, w)
times = []
with torch.no_grad():
    g(x)
    for _ in range(runs):
        t = time.perf_counter()
        g(x)
        times.append((time.perf_counter() - t) * 1000)
print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'input': [h, w], 'forwardMs': statistics.median(times), 'runsMs': times}))
