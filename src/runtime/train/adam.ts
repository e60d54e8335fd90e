// Adam as torch.optim.Adam computes it (the update itself is optim.ts: one native pass on
// the oneDNN backend, tfjs ops elsewhere; bias corrections on the host in float64). The moments are named slots
// ('<prefix>m/<param>', '<prefix>v/<param>') that a checkpoint saves and restores exactly, and
// the learning rate is an argument of each update (the schedule lives in the trainer).
import type { HostArray, ParamMap } from '../params.js';
import { adamStepAttrs, applyAdamUpdates } from '../optim.js';
import { tf } from '../tf.js';

export interface AdamSettings {
  beta1: number;
  beta2: number;
  eps: number;
}

export class Adam {
  /** Updates applied so far. */
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(private readonly params: ParamMap, private readonly settings: AdamSettings, private readonly prefix = 'adam/') {
    for (const [name, p] of params) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  /** One update with `grads` (by parameter name; missing gradients count as zero). */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    this.step += 1;
    const attrs = adamStepAttrs(this.settings, lr, this.step);
    // PyTorch skips parameters without a gradient.
    const updates = [...this.params].filter(([name]) => grads[name]).map(([name, p]) => ({ p, m: this.m.get(name)!, v: this.v.get(name)!, g: grads[name] }));
    applyAdamUpdates(updates, attrs);
  }

  /** The moment slots by name, for a checkpoint. */
  slots(): Map<string, tf.Tensor> {
    const slots = new Map<string, tf.Tensor>();
    for (const name of this.params.keys()) {
      slots.set(`${this.prefix}m/${name}`, this.m.get(name)!);
      slots.set(`${this.prefix}v/${name}`, this.v.get(name)!);
    }
    return slots;
  }

  /** Restores the moments from checkpoint slots (every parameter's m and v must be there). */
  restore(slots: Map<string, HostArray>, step: number): void {
    for (const [name, p] of this.params) {
      for (const [kind, moments] of [['m', this.m], ['v', this.v]] as const) {
        const key = `${this.prefix}${kind}/${name}`;
        const saved = slots.get(key);
        if (!saved) throw new Error(`optimizer slot '${key}' is missing`);
        if (saved.shape.join(',') !== p.shape.join(',')) throw new Error(`optimizer slot '${key}' has shape [${saved.shape}], expected [${p.shape}]`);
        const value = tf.tensor(saved.data, saved.shape, 'float32');
        moments.get(name)!.assign(value);
        value.dispose();
      }
    }
    this.step = step;
  }

  dispose(): void {
    for (const variable of [...this.m.values(), ...this.v.values()]) variable.dispose();
    this.m.clear();
    this.v.clear();
  }
}
