// The fixed part of the exported train.py (see pytorch-train.ts): data, augmentation, the
// DDP loop, checkpoints. '#@CONFIG@', '#@LOSS@' and '#@SOURCE@' are filled in per model.
// Runs on PyTorch 1.13 (Debian's python3-torch) and 2.x, CPU (gloo) and CUDA (NCCL).
import { SHAKE_FUNCTIONS } from './pytorch-train-shake.js';

export const TRAIN_SCRIPT = String.raw`#!/usr/bin/env python3
"""Trains the model of #@SOURCE@ (exported by netc) with PyTorch DistributedDataParallel.

One machine:     torchrun --standalone --nproc_per_node G train.py --data ROOT --out RUN
Several:         torchrun --nnodes N --node_rank R --nproc_per_node G \
                     --rdzv_backend c10d --rdzv_endpoint HOST:29400 train.py --data ROOT --out RUN
Plain python:    python3 train.py --data ROOT --out RUN   (one process)

ROOT is in the GOPRO layout: ROOT/train/<SEQ>/{blur_gamma,blur,sharp}/<frame>.png (or .jpg),
as netc synth writes it. The global batch (CONFIG['batch'] or --batch) is split across the
processes; gradients are averaged, so N processes take the same step as one process on the
whole batch. NCCL on GPUs, gloo on CPUs. RUN/model-latest.pt holds {'G': state_dict} (and 'D'):
'netc import RUN/model-latest.pt --model FILE.net --out DIR' brings the weights back to netc.
--resume continues from RUN/state.pt exactly (data order included).
"""
import argparse
import copy
import glob
import json
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as models  # noqa: E402  (model.py beside this file)

#@CONFIG@


#@LOSS@


# ------------------------------------------------------------------ data

def _images(folder):
    names = [n for n in os.listdir(folder) if n.lower().endswith(('.png', '.jpg', '.jpeg'))]
    return sorted(names)


def list_pairs(root, split, blur_kind):
    split_dir = os.path.join(root, split)
    if not os.path.isdir(split_dir):
        raise SystemExit(f'{split_dir}: no such folder (expected ROOT/{split}/<SEQ>/{{{blur_kind},sharp}}/)')
    pairs = []
    for seq in sorted(os.listdir(split_dir)):
        blur_dir, sharp_dir = os.path.join(split_dir, seq, blur_kind), os.path.join(split_dir, seq, 'sharp')
        if not os.path.isdir(blur_dir) or not os.path.isdir(sharp_dir):
            continue
        sharp = set(_images(sharp_dir))
        for name in _images(blur_dir):
            if name in sharp:
                pairs.append((os.path.join(blur_dir, name), os.path.join(sharp_dir, name)))
    if not pairs:
        raise SystemExit(f'{split_dir}: no blurry/sharp pairs')
    return pairs


def _load_rgb(path):
    with Image.open(path) as im:
        return torch.from_numpy(np.asarray(im.convert('RGB'), dtype=np.uint8).copy()).permute(2, 0, 1).contiguous()


def load_pairs(pairs, device, threads=16):
    """Every pair decoded once, as uint8 CHW tensors on device."""
    with ThreadPoolExecutor(threads) as pool:
        blur = list(pool.map(_load_rgb, [b for b, _ in pairs]))
        sharp = list(pool.map(_load_rgb, [s for _, s in pairs]))
    for (b, s), path in zip(zip(blur, sharp), pairs):
        if b.shape != s.shape:
            raise SystemExit(f'{path[0]}: {tuple(b.shape)} but its sharp image is {tuple(s.shape)}')
    return [b.to(device) for b in blur], [s.to(device) for s in sharp]


${SHAKE_FUNCTIONS}

def sample_batch(blur, sharp, n, patch, augment, gen, device, linear=True):
    """n random crops with the declared augmentations (netc's batches.ts order): shake first
    (the blurry crop made anew from the sharp one), flip (h, v, p = 0.5 each), rot90 (p = 0.5,
    counter-clockwise), permute_channels, saturation(a, b) on both images, noise on the blurry
    one. Returns float tensors in 0..1, NCHW."""
    def uniform():
        return torch.rand((), generator=gen).item()
    shake = next((a for a in augment if a['kind'] == 'shake'), None)
    kernels = shake_kernels(np.random.default_rng(int(torch.randint(2 ** 31, (), generator=gen))), n, shake['minLength'], shake['maxLength']) if shake else None
    bs, ss = [], []
    for j in range(n):
        i = int(torch.randint(len(blur), (), generator=gen))
        b, s = blur[i], sharp[i]
        h, w = b.shape[1], b.shape[2]
        if h < patch or w < patch:
            raise SystemExit(f'pair {i}: {w}x{h} is smaller than the patch {patch}')
        if kernels:
            b, s = shake_crop(s, patch, kernels[j], uniform(), uniform(), linear, gen)
        else:
            top, left = int(uniform() * (h - patch + 1)), int(uniform() * (w - patch + 1))
            b = b[:, top:top + patch, left:left + patch].float() / 255
            s = s[:, top:top + patch, left:left + patch].float() / 255
        for a in augment:
            kind = a['kind']
            if kind == 'flip':
                if uniform() < 0.5:
                    b, s = b.flip(2), s.flip(2)
                if uniform() < 0.5:
                    b, s = b.flip(1), s.flip(1)
            elif kind == 'rot90':
                if uniform() < 0.5:
                    b, s = torch.rot90(b, 1, (1, 2)), torch.rot90(s, 1, (1, 2))
            elif kind == 'permute_channels':
                p = torch.randperm(3, generator=gen).tolist()
                b, s = b[p], s[p]
            elif kind == 'saturation':
                f = a['low'] + (a['high'] - a['low']) * uniform()
                b = (b.amax(0, keepdim=True) + f * (b - b.amax(0, keepdim=True))).clamp(0, 1)
                s = (s.amax(0, keepdim=True) + f * (s - s.amax(0, keepdim=True))).clamp(0, 1)
            elif kind == 'noise':
                sigma = abs(a['sigmaMean'] + a['sigmaStd'] * torch.randn((), generator=gen).item())
                noise = torch.randn(b.shape, generator=gen) * sigma
                b = (b + noise.to(b.device)).clamp(0, 1)
        bs.append(b)
        ss.append(s)
    return torch.stack(bs).to(device), torch.stack(ss).to(device)


def target_pyramid(sharp):
    levels = [sharp]
    for _ in range(1, CONFIG['target']['levels']):
        levels.append(models.pyramid_down(levels[-1], CONFIG['target']['taps']))
    return levels


# ------------------------------------------------------------------ schedule, checkpoints

def learning_rate(step, total):
    """lr of the update with 0-based index step; with --minutes the schedule is stretched to
    the steps that fit (milestones keep their fraction of the iterations). cosine is torch's
    CosineAnnealingLR over the iterations, held at its min after them (as netc does)."""
    lr = CONFIG['optimizer']['lr']
    sched = CONFIG['schedule']
    if sched['kind'] == 'constant':
        return lr
    scale = total / CONFIG['iterations'] if ARGS.minutes else 1.0
    if sched['kind'] == 'cosine':
        period = CONFIG['iterations'] * scale
        return sched['min'] + (lr - sched['min']) * (1 + math.cos(math.pi * min(step, period) / period)) / 2
    passed = sum(1 for at in sched['at'] if step >= round(at * scale))
    return lr * sched['factor'] ** passed


@torch.no_grad()
def update_average(average, generator, decay):
    """average = decay * average + (1 - decay) * weights, parameter by parameter (the
    declared ema; it starts at the initial weights)."""
    avg = [p for p in average.parameters()]
    cur = [p.detach() for p in generator.parameters()]
    torch._foreach_mul_(avg, decay)
    torch._foreach_add_(avg, cur, alpha=1 - decay)


def save_atomic(obj, path):
    tmp = f'{path}.{os.getpid()}.tmp'
    torch.save(obj, tmp)
    os.replace(tmp, path)


def plain_state(module):
    return {k: v.detach().float().cpu().contiguous() for k, v in module.state_dict().items()}


def psnr(a, b):
    """PSNR of 8-bit RGB (clamped and rounded as the GOPRO protocol), in dB."""
    a8 = (a.clamp(0, 1) * 255).round()
    b8 = (b.clamp(0, 1) * 255).round()
    mse = ((a8 - b8) ** 2).mean().item()
    return float('inf') if mse == 0 else 10 * math.log10(255 ** 2 / mse)


@torch.no_grad()
def validate(generator, pairs, device, amp):
    """Mean PSNR of the model and of the blurry input over whole test images."""
    m = models.SIZE_MULTIPLE
    gains, scores = [], []
    for blur_path, sharp_path in pairs:
        b = _load_rgb(blur_path).float().div(255).unsqueeze(0).to(device)
        s = _load_rgb(sharp_path).float().div(255).unsqueeze(0).to(device)
        h, w = b.shape[2], b.shape[3]
        padded = F.pad(b, (0, (-w) % m, 0, (-h) % m), mode='replicate')
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            out = generator(padded)[0].float()[:, :, :h, :w]
        scores.append(psnr(out, s))
        gains.append(psnr(out, s) - psnr(b, s))
    return sum(scores) / len(scores), sum(gains) / len(gains)


# ------------------------------------------------------------------ main

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=(CONFIG['data'] or {}).get('root'), help='dataset root (GOPRO layout)')
    p.add_argument('--out', required=True, help='run directory')
    p.add_argument('--steps', type=int, help='updates in all (default: the declared iterations; the lr schedule stays as declared)')
    p.add_argument('--minutes', type=float, help='train this long: the steps are set from the measured speed and the lr schedule is stretched to them')
    p.add_argument('--batch', type=int, default=CONFIG['batch'], help='global batch, split across processes')
    p.add_argument('--patch', type=int, default=CONFIG['patch'])
    p.add_argument('--lr', type=float, help='base learning rate (default: the declared one)')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--resume', action='store_true', help='continue from RUN/state.pt')
    p.add_argument('--blur', default=(CONFIG['data'] or {}).get('blur', 'blur_gamma'), choices=['blur', 'blur_gamma'])
    p.add_argument('--checkpoint-every', type=int, default=CONFIG['checkpoint_every'])
    p.add_argument('--val-every', type=int, default=CONFIG['validate_every'] or 0, help='steps between validations on the val split, else the test split (0: never); the best is saved as model-best.pt')
    p.add_argument('--val-images', type=int, default=8)
    p.add_argument('--log-every', type=int, default=50)
    p.add_argument('--amp', choices=['bf16', 'off'], help='mixed precision (default: bf16 on CUDA, off on CPU)')
    p.add_argument('--data-device', choices=['cpu', 'device'], default='device', help='where the decoded dataset is kept')
    return p.parse_args(argv)


def main():
    global ARGS
    ARGS = args = parse_args()
    if args.lr is not None:
        CONFIG['optimizer']['lr'] = args.lr
    if not args.data:
        raise SystemExit('--data ROOT is required (the .net file declares no data:)')
    distributed = 'WORLD_SIZE' in os.environ and int(os.environ['WORLD_SIZE']) > 1
    if distributed:
        dist.init_process_group('nccl' if torch.cuda.is_available() else 'gloo')
        rank, world = dist.get_rank(), dist.get_world_size()
    else:
        rank, world = 0, 1
    local_rank = int(os.environ.get('LOCAL_RANK', 0))
    device = torch.device(f'cuda:{local_rank}' if torch.cuda.is_available() else 'cpu')
    if device.type == 'cuda':
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = True
    amp = (args.amp or ('bf16' if device.type == 'cuda' else 'off')) == 'bf16'
    if args.batch % world != 0:
        raise SystemExit(f'--batch {args.batch} must be divisible by the {world} processes')
    per_rank = args.batch // world
    os.makedirs(args.out, exist_ok=True)
    log = (lambda *a: print(*a, flush=True)) if rank == 0 else (lambda *a: None)

    torch.manual_seed(args.seed)
    generator = getattr(models, models.GENERATOR)().to(device)
    discriminator = getattr(models, models.DISCRIMINATOR)().to(device) if ADVERSARIAL else None
    if device.type == 'cuda':
        generator = generator.to(memory_format=torch.channels_last)
    opt_cfg = CONFIG['optimizer']
    adam = lambda params: torch.optim.Adam(params, lr=opt_cfg['lr'], betas=(opt_cfg['beta1'], opt_cfg['beta2']), eps=opt_cfg['eps'])
    optimizer = adam(generator.parameters())
    optimizer_d = adam(discriminator.parameters()) if discriminator else None

    # average: ema(decay): a copy of the generator that follows its weights; it is what is
    # validated and saved as model-latest.pt (the optimizer's own weights stay in state.pt).
    average = copy.deepcopy(generator).requires_grad_(False) if CONFIG['average'] else None
    shipped = average or generator

    state_path = os.path.join(args.out, 'state.pt')
    start, total, elapsed = 0, args.steps or CONFIG['iterations'], 0.0
    if args.resume:
        if not os.path.exists(state_path):
            raise SystemExit(f'--resume: {state_path} does not exist')
        state = torch.load(state_path, map_location='cpu')
        generator.load_state_dict(state['G'])
        if average:
            average.load_state_dict(state['average'])
        optimizer.load_state_dict(state['optimizer'])
        if discriminator:
            discriminator.load_state_dict(state['D'])
            optimizer_d.load_state_dict(state['optimizer_D'])
        start, total, elapsed = state['step'], state['total'] if args.steps is None else args.steps, state['time']
        args.minutes = state.get('minutes')
        log(f'resumed {args.out} at step {start} of {total}')

    g_ddp = torch.nn.parallel.DistributedDataParallel(generator, device_ids=[local_rank] if device.type == 'cuda' else None) if distributed else generator
    d_ddp = (torch.nn.parallel.DistributedDataParallel(discriminator, device_ids=[local_rank] if device.type == 'cuda' else None) if distributed else discriminator) if discriminator else None
    d_logit = (lambda image: d_ddp(image, logits=True)[0]) if discriminator else None

    pairs = list_pairs(args.data, 'train', args.blur)
    data_device = device if args.data_device == 'device' else torch.device('cpu')
    t0 = time.time()
    blur, sharp = load_pairs(pairs, data_device)
    log(f'{len(pairs)} training pairs from {args.data} loaded in {time.time() - t0:.1f} s; {world} process(es), batch {per_rank} each, patch {args.patch}, amp {"bf16" if amp else "off"}')
    # Validation scores the val split (as netc train does), else the test split; the best
    # validation's weights are kept as model-best.pt, the checkpoint to ship.
    val_pairs, best_score = [], None
    val_split = next((s for s in ('val', 'test') if os.path.isdir(os.path.join(args.data, s))), None)
    if args.val_every and rank == 0 and val_split:
        val_pairs = list_pairs(args.data, val_split, args.blur)
        val_pairs = val_pairs[:: max(1, len(val_pairs) // args.val_images)][: args.val_images]
        if val_split == 'test':
            log(f'validating on the test split ({args.data} has no val split): a checkpoint chosen by it is no longer scored on held-out data')
        if args.resume and os.path.exists(os.path.join(args.out, 'log.jsonl')):
            with open(os.path.join(args.out, 'log.jsonl')) as f:
                scores = [r['val_psnr'] for r in map(json.loads, f) if 'val_psnr' in r and r['step'] <= start]
            best_score = max(scores, default=None)

    def save(step):
        if rank != 0:
            return
        weights = {'G': plain_state(shipped)}
        if discriminator:
            weights['D'] = plain_state(discriminator)
        save_atomic(weights, os.path.join(args.out, 'model-latest.pt'))
        state = {'G': generator.state_dict(), 'optimizer': optimizer.state_dict(), 'step': step, 'total': total,
                 'time': elapsed, 'minutes': args.minutes, 'seed': args.seed}
        if average:
            state['average'] = average.state_dict()
        if discriminator:
            state.update({'D': discriminator.state_dict(), 'optimizer_D': optimizer_d.state_dict()})
        save_atomic(state, state_path)

    log_file = open(os.path.join(args.out, 'log.jsonl'), 'a' if args.resume else 'w') if rank == 0 else None
    step = start
    timed_from = None
    loop_start = time.time()
    while step < total:
        # Each step's randomness comes from (seed, rank, step) alone, so --resume repeats it.
        gen = torch.Generator().manual_seed(args.seed * 1_000_003 + rank * 7_919 + step)
        step_start = time.time()
        b, s = sample_batch(blur, sharp, per_rank, args.patch, CONFIG['augment'], gen, device, args.blur == 'blur_gamma')
        if device.type == 'cuda':
            b, s = b.contiguous(memory_format=torch.channels_last), s.contiguous(memory_format=torch.channels_last)
        lr = learning_rate(step, total)
        for group in optimizer.param_groups:
            group['lr'] = lr
        targets = target_pyramid(s)
        record = {'step': step + 1, 'lr': lr}
        if discriminator:
            for group in optimizer_d.param_groups:
                group['lr'] = lr
            with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                fakes = [o.float() for o in g_ddp(b)]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                d_loss = sum(F.softplus(-d_logit(targets[real]).float()).mean() + F.softplus(d_logit(fakes[fake]).float()).mean() for fake, real in ADVERSARIAL)
            optimizer_d.zero_grad(set_to_none=True)
            d_loss.backward()
            optimizer_d.step()
            record['discriminator'] = d_loss.item()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            outputs = [o.float() for o in g_ddp(b)]
        terms = loss_terms(outputs, targets, d_logit)
        loss = terms[OBJECTIVE]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if average:
            update_average(average, generator, CONFIG['average']['decay'])
        step += 1
        if not math.isfinite(loss.item()):
            raise SystemExit(f'step {step}: the loss is {loss.item()} (training diverged; try a lower --lr)')
        now = time.time()
        elapsed += now - step_start
        if step == start + 1:
            timed_from = (now, step)  # speed is measured after the first step (cudnn autotuning)
        if step == start + 6 and args.minutes and not args.resume:
            # The steps that fit in --minutes, from the speed of steps 2..6.
            per_step = (now - timed_from[0]) / 5
            t = torch.tensor([start + 6 + int((args.minutes * 60 - (now - loop_start)) / per_step)], device=device)
            if distributed:
                dist.broadcast(t, 0)
            total = max(step, int(t.item()))
            log(f'--minutes {args.minutes}: {total} steps in all ({per_step * 1000:.0f} ms per step)')
        record.update({'loss': loss.item(), **{k: v.item() for k, v in terms.items() if k not in record}, 'time': elapsed, 'seconds': now - step_start})
        if log_file:
            log_file.write(json.dumps(record) + '\n')
        if rank == 0 and (step % args.log_every == 0 or step == total):
            rate = (step - timed_from[1]) / (now - timed_from[0]) if timed_from and now > timed_from[0] else 0.0
            log(f'step {step}/{total}  loss {loss.item():.5f}  lr {lr:.2e}  {rate:.2f} it/s')
            log_file.flush()
        if args.val_every and step % args.val_every == 0 and val_pairs:
            shipped.eval()
            score, gain = validate(shipped, val_pairs, device, amp)
            shipped.train()
            better = best_score is None or score > best_score
            log(f'step {step}: validation PSNR {score:.2f} dB, {gain:+.2f} dB over the blurry input ({len(val_pairs)} {val_split} images)' + ('; best so far: model-best.pt' if better else ''))
            log_file.write(json.dumps({'step': step, 'val_psnr': score, 'val_gain': gain, 'split': val_split}) + '\n')
            if better:
                best_score = score
                save_atomic({'G': plain_state(shipped), 'step': step, 'val_psnr': score}, os.path.join(args.out, 'model-best.pt'))
        if args.checkpoint_every and step % args.checkpoint_every == 0 and step < total:
            save(step)
    save(step)
    log(f'trained to step {step}; weights {os.path.join(args.out, "model-latest.pt")}')
    if log_file:
        log_file.close()
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
`;
