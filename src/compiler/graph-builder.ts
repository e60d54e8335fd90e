// Building one IR graph during elaboration: nodes added after their op's shape rule and the
// size limits (limits.ts) are checked, parameter naming scopes, dead-code elimination.
import type { DiagnosticBag } from './diagnostics.js';
import type { Graph, GraphValue, Node, OpName, Shape, SourceSpan } from './ir.js';
import { LIMITS, elementCount, formatCount } from './limits.js';
import { opDef } from './ops.js';

export interface Tensor { kind: 'tensor'; id: string; shape: Shape; graph: GraphBuilder }
export interface Poison { kind: 'poison' }
export const POISON: Poison = { kind: 'poison' };

/** Where a stage is applied: the call site and the scope for parameter names. */
export interface Site { loc: SourceSpan; scope: Scope }

/** Naming scope: parameter path segments, the human-readable path, and counters so that
 *  the n-th conv in a scope is `conv{n}` and a block used twice gets `Block_1`. */
export class Scope {
  private counters = new Map<string, number>();
  constructor(readonly path: string[], readonly human: string[]) {}
  next(kind: string): number {
    const n = this.counters.get(kind) ?? 0;
    this.counters.set(kind, n + 1);
    return n;
  }
  child(segment: string, human: string): Scope {
    return new Scope([...this.path, segment], [...this.human, human]);
  }
  paramPath(leaf: string): string {
    return [...this.path, leaf].join('/');
  }
}

export const shapeText = (s: Shape): string => (s.length === 4 ? `${s[1]}x${s[2]}x${s[3]}` : `[${s.slice(1).join('x')}]`);

export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly inputs: GraphValue[] = [];
  private readonly byId = new Map<string, Node>();
  private counter = 0;
  /** Layers with repeats expanded (LIMITS.layers). */
  private expanded = 0;
  /** Set once a limit was reported: later failures are its consequence, not news. */
  limitReached = false;

  constructor(readonly name: string, private readonly report: DiagnosticBag) {}

  input(name: string, shape: Shape, loc: SourceSpan): Tensor | Poison {
    if (!this.withinTensorLimit(`input '${name}'`, shape, loc)) return POISON;
    const id = name;
    this.inputs.push({ name, id, shape });
    return { kind: 'tensor', id, shape, graph: this };
  }

  /** Whether a tensor of `shape` is within LIMITS.tensorElements; reports it if not.
   *  Activations print as HxWxC, parameters as their full shape. */
  withinTensorLimit(what: string, shape: Shape, loc: SourceSpan, parameter = false): boolean {
    const n = elementCount(shape);
    if (n <= LIMITS.tensorElements) return true;
    this.report.error(`${what} ${parameter ? `[${shape.join(', ')}]` : shapeText(shape)} has ${Number.isFinite(n) ? formatCount(n) : 'too many'} elements, more than the limit of ${formatCount(LIMITS.tensorElements)}`, loc);
    this.limitReached = true;
    return false;
  }

  /** Counts `layers` more expanded layers; reports once when the model outgrows LIMITS.layers. */
  grow(layers: number, loc: SourceSpan): boolean {
    this.expanded += layers;
    if (this.expanded <= LIMITS.layers) return true;
    if (!this.limitReached) this.report.error(`'${this.name}' grows past ${formatCount(LIMITS.layers)} layers here (repeats and loops expanded)`, loc);
    this.limitReached = true;
    return false;
  }

  get expandedLayers(): number {
    return this.expanded;
  }

  /** Adds a node after checking its shape rule and the limits; reports shape errors to
   *  `report` (when given) and returns poison on failure. */
  add(op: OpName, inputs: Tensor[], attrs: Record<string, unknown>, site: Site, what: string, layerName?: string, report?: DiagnosticBag): Tensor | Poison {
    if (this.limitReached || !this.grow(1, site.loc)) return POISON;
    const def = opDef(op);
    const shapes = inputs.map((t) => t.shape);
    const shape = def.shape(shapes, attrs as never);
    if (typeof shape === 'string') {
      report?.error(`${what}: ${shape}`, site.loc);
      return POISON;
    }
    if (!this.withinTensorLimit(`${what}: its output`, shape, site.loc)) return POISON;
    const params = def.params(shapes, attrs as never).map((p) => ({ ...p, name: site.scope.paramPath(`${layerName}.${p.name}`) }));
    for (const p of params) if (!this.withinTensorLimit(`${what}: its ${p.name.split('.').pop()}`, p.shape, site.loc, true)) return POISON;
    const id = `${op}_${this.counter++}`;
    this.push({ id, op, inputs: inputs.map((t) => t.id), attrs, params, shape, scope: [this.name, ...site.scope.human].join(' / '), loc: site.loc });
    return { kind: 'tensor', id, shape, graph: this };
  }

  push(node: Node): void {
    this.nodes.push(node);
    this.byId.set(node.id, node);
  }

  node(id: string): Node | undefined {
    return this.byId.get(id);
  }

  finish(outputs: GraphValue[]): Graph {
    // Dead-code elimination: affine folding can leave unused nodes behind.
    const live = new Set(outputs.map((o) => o.id));
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      if (live.has(this.nodes[i].id)) this.nodes[i].inputs.forEach((x) => live.add(x));
    }
    return { name: this.name, inputs: this.inputs, nodes: this.nodes.filter((n) => live.has(n.id)), outputs };
  }
}
