// train.py's `augment: shake(min, max)`: netc's camera-shake kernels (src/runtime/data/
// kernels.ts) and its shakeCrop (src/runtime/data/batches.ts) in numpy and torch, inserted
// into the exported train.py (pytorch-train-script.ts). The same distribution as netc's,
// from numpy's generator (not the same draws); test/pytorch-export.test.ts compares them.
export const SHAKE_FUNCTIONS = String.raw`SHAKE_ANXIETY = 0.005  # netc's kernels.ts: how strongly shake and pull steer the velocity
SENSOR_NOISE = (4e-4, 2e-3)  # the largest Poisson gain and read noise drawn per crop
GAMMA = 2.2


def shake_kernels(rng, n, min_length, max_length, steps=1000):
    """n random camera-shake kernels (float64, odd sides, each summing to 1), as netc's
    src/runtime/data/kernels.ts makes them (Boracchi & Foi 2012): the same distribution from
    numpy's generator, not the same draws. The n random walks advance together."""
    length = min_length + (max_length - min_length) * rng.random(n)
    exposure = 0.5 + 0.5 * rng.random(n)
    centripetal = 0.7 * rng.random(n)
    gaussian_shake = 10 * rng.random(n)
    big_shake = 2 * rng.random(n) / steps
    speed = (length / exposure) / (steps - 1)
    angle = 2 * math.pi * rng.random(n)
    v = np.stack([np.cos(angle), np.sin(angle)], 1) * speed[:, None]
    p = np.zeros((n, 2))
    path = np.zeros((steps, n, 2))
    for t in range(1, steps):
        jerk = rng.random(n) < big_shake
        turn = math.pi + (rng.random(n) - 0.5)
        c, s = np.cos(turn), np.sin(turn)
        dv = np.where(jerk[:, None], 2 * np.stack([v[:, 0] * c - v[:, 1] * s, v[:, 0] * s + v[:, 1] * c], 1), 0)
        dv += SHAKE_ANXIETY * (gaussian_shake[:, None] * rng.standard_normal((n, 2)) - centripetal[:, None] * p) * speed[:, None]
        v = v + dv
        v = v / np.maximum(np.hypot(v[:, :1], v[:, 1:]), 1e-300) * speed[:, None]
        p = p + v
        path[t] = p
    kernels = []
    for k in range(n):
        used = path[:max(2, round(steps * exposure[k])), k]
        used = used - used.mean(0)
        half = math.ceil(max(1.0, np.abs(used).max())) + 1
        size = 2 * half + 1
        w = _splat(used + half, size)
        w = _recentre(w, size)
        kernels.append(w / w.sum())
    return kernels


def _splat(points, size):
    """Points (x, y) splatted with bilinear weights on a size x size grid."""
    w = np.zeros((size, size))
    x0, y0 = np.floor(points[:, 0]).astype(int), np.floor(points[:, 1]).astype(int)
    fx, fy = points[:, 0] - x0, points[:, 1] - y0
    for dy, dx, weight in ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)), (1, 0, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(w, (y0 + dy, x0 + dx), weight)
    return w


def _recentre(w, size):
    """The weights moved by the sub-pixel offset of their centre of mass onto the centre
    pixel (bilinear resampling, as kernels.ts's recentre; outside the grid they are 0)."""
    ys, xs = np.mgrid[0:size, 0:size]
    half = (size - 1) / 2
    dx, dy = (w * xs).sum() / w.sum() - half, (w * ys).sum() / w.sum() - half
    padded = np.pad(w, 1)  # a border of zeros: indices clipped onto it read 0
    sx, sy = xs + dx + 1, ys + dy + 1
    x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
    fx, fy = sx - x0, sy - y0
    at = lambda yy, xx: padded[np.clip(yy, 0, size + 1), np.clip(xx, 0, size + 1)]
    return (1 - fx) * (1 - fy) * at(y0, x0) + fx * (1 - fy) * at(y0, x0 + 1) + (1 - fx) * fy * at(y0 + 1, x0) + fx * fy * at(y0 + 1, x0 + 1)


def shake_crop(sharp, patch, kernel, top_fraction, left_fraction, linear, gen):
    """augment shake: a patch x patch crop of a sharp image (uint8 CHW) and its blurred copy,
    made with the kernel in linear light (or on the stored values when the data is 'blur'),
    sensor noise, 8-bit levels; as netc's shakeCrop."""
    size = kernel.shape[0]
    side = patch + size - 1
    h, w = sharp.shape[1], sharp.shape[2]
    if h < side or w < side:
        raise SystemExit(f'a {w}x{h} image is too small for {patch}x{patch} crops blurred by shake kernels of {size}x{size}')
    top, left = int(top_fraction * (h - side + 1)), int(left_fraction * (w - side + 1))
    region = sharp[:, top:top + side, left:left + side].double() / 255
    # conv2d correlates; a blur convolves: the kernel turned by 180 degrees.
    k = torch.from_numpy(kernel[::-1, ::-1].copy()).to(region.device)[None, None].expand(3, 1, size, size)
    lin = F.conv2d((region ** GAMMA)[None], k, groups=3)[0]
    gain = SENSOR_NOISE[0] * torch.rand((), generator=gen).item()
    read = SENSOR_NOISE[1] * torch.rand((), generator=gen).item()
    sd = torch.sqrt(gain * lin + read * read)
    noise = torch.randn(lin.shape, generator=gen, dtype=lin.dtype).to(lin.device)
    if linear:
        b = (lin + sd * noise).clamp(0, 1) ** (1 / GAMMA)
    else:
        b = (F.conv2d(region[None], k, groups=3)[0] + sd * noise).clamp(0, 1)
    half = (size - 1) // 2
    s = region[:, half:half + patch, half:half + patch]
    return (torch.round(b * 255) / 255).float(), s.float()`;
