"""Run with torchrun --nproc_per_node 2: one DistributedDataParallel step on halves of a
fixed batch, against one process on the whole batch; rank 0 writes the largest gradient
difference to OUT.json. Usage: ddp_grads.py EXPORT_DIR OUT.json"""
import copy, json, os, sys
import torch
import torch.distributed as dist

export_dir, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, export_dir)
import model as M
import train as T

dist.init_process_group('gloo')
rank, world = dist.get_rank(), dist.get_world_size()
torch.manual_seed(0)
generator = getattr(M, M.GENERATOR)()
single = copy.deepcopy(generator)
gen = torch.Generator().manual_seed(123)
blur = torch.rand(4, 3, 32, 32, generator=gen)
sharp = torch.rand(4, 3, 32, 32, generator=gen)

def loss_of(model, b, s):
    return T.loss_terms([o.float() for o in model(b)], T.target_pyramid(s))[T.OBJECTIVE]

ddp = torch.nn.parallel.DistributedDataParallel(generator)
per = blur.shape[0] // world
loss_of(ddp, blur[rank * per:(rank + 1) * per], sharp[rank * per:(rank + 1) * per]).backward()
if rank == 0:
    loss_of(single, blur, sharp).backward()
    diffs = [(p.grad - q.grad).abs().max().item() for p, q in zip(generator.parameters(), single.parameters())]
    scale = max(q.grad.abs().max().item() for q in single.parameters())
    json.dump({'max_abs_diff': max(diffs), 'max_abs_grad': scale, 'params': len(diffs), 'world': world}, open(out, 'w'))
dist.barrier()
dist.destroy_process_group()
