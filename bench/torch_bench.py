"""Times a `netc export --to pytorch` module on the CPU as the peer benchmark does (float32,
median of RUNS after --warmup untimed runs, default 1): the forward under torch.no_grad,
and with --train one training step of the exported train.py: the generator's forward, the
target pyramid, the file's loss, backward and Adam.
With --paced, runs are timed one per line read from stdin, as `netc bench --paced` does
('ready' after the warm-up, then each run's ms; with --train only the training step; the
result once stdin closes).
Usage: torch_bench.py EXPORT_DIR HxW [RUNS] [--train] [--batch N] [--warmup N] [--paced].
Prints one JSON object (on the last line)."""
import argparse, json, os, statistics, sys, time
import torch

ap = argparse.ArgumentParser()
ap.add_argument('export_dir')
ap.add_argument('size')
ap.add_argument('runs', nargs='?', type=int, default=3)
ap.add_argument('--train', action='store_true')
ap.add_argument('--batch', type=int, default=1)
ap.add_argument('--warmup', type=int, default=1)
ap.add_argument('--paced', action='store_true')
args = ap.parse_args()
sys.path.insert(0, args.export_dir)
import model as M

h, w = map(int, args.size.split('x'))
torch.set_num_threads(os.cpu_count())  # as the peer (--threads 2 on 2 cores) and netc's oneDNN
torch.manual_seed(0)


def timed(fn):
    for _ in range(args.warmup):
        fn()
    if args.paced:
        print('ready', flush=True)
    times = []
    for _ in range(args.runs):
        if args.paced and not sys.stdin.readline():
            break
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
        if args.paced:
            print(times[-1], flush=True)
    if args.paced:
        sys.stdin.read()  # until the driver is done: exiting now would run during netc's last run
    return statistics.median(times), times


g = getattr(M, M.GENERATOR)()
x = torch.rand(args.batch, 3, h, w)
result = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'input': [args.batch, h, w]}
g.eval()
if not (args.paced and args.train):
    with torch.no_grad():
        result['forwardMs'], result['forwardRunsMs'] = timed(lambda: g(x))
if args.train:
    import train as T  # the exported train.py: its loss, target pyramid and optimizer settings
    g.train()
    sharp = torch.rand(args.batch, 3, h, w)
    opt = T.CONFIG['optimizer']
    adam = torch.optim.Adam(g.parameters(), lr=opt['lr'], betas=(opt['beta1'], opt['beta2']), eps=opt['eps'])

    def step():
        adam.zero_grad(set_to_none=True)
        outputs = g(x)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        loss = T.loss_terms(outputs, T.target_pyramid(sharp))[T.OBJECTIVE]
        loss.backward()
        adam.step()
    result['trainStepMs'], result['trainStepRunsMs'] = timed(step)
print(json.dumps(result))
