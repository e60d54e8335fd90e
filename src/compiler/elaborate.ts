// Elaboration: evaluates the checked document for one input size, building the IR graphs.
// Values flow as in the language: numbers, tensors (with inferred shapes), lists, stages
// (things a tensor can be sent through with `->`). Shape and type errors are reported here,
// located at the expression that caused them; after an error the value becomes `poison`
// so one mistake is reported once.
import { childExpressions, type Argument, type Declaration, type Document, type Expr, type Statement } from './ast.js';
import { BUILTINS, INPUT_TYPES, TRAIN_CONSTANTS, type BuiltinParam } from './builtins.js';
import { DiagnosticBag } from './diagnostics.js';
import { GraphBuilder, POISON, Scope, shapeText, type Poison, type Site, type Tensor } from './graph-builder.js';
import type {
  Augmentation, Graph, GraphValue, LossExpr, LossIR, OpName, Program, PyramidDownAttrs, SourceSpan, TrainIR,
} from './ir.js';
import { LIMITS, formatCount } from './limits.js';
import { pyramidLevelSide, pyramidMultiple } from './ops.js';

type Value =
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'list'; items: Value[] }
  | Tensor
  | { kind: 'stage'; label: string; apply: (x: Tensor, at: Site) => Value }
  | { kind: 'block'; decl: Extract<Declaration, { kind: 'block' }> }
  | { kind: 'model'; decl: Extract<Declaration, { kind: 'model' }> }
  | { kind: 'builtin'; name: string }
  | { kind: 'loss'; expr: LossExpr }
  | { kind: 'target'; level: number }
  | { kind: 'output'; index: number }
  | { kind: 'distribution'; mean: number; std: number }
  | { kind: 'augment'; augment: Augmentation }
  | { kind: 'setting'; name: string; args: Record<string, unknown> }
  | Poison;

type Env = Map<string, Value>;

export interface ElaborateOptions {
  input: [number, number];
  set: Record<string, number>;
  sourceHash: string;
}

export function elaborate(doc: Document, options: ElaborateOptions, report: DiagnosticBag): Program | undefined {
  return new Elaborator(doc, options, report).run();
}

class Elaborator {
  private readonly globals: Env = new Map();
  private readonly constants: Record<string, number> = {};
  private readonly models = new Map<string, Graph>();
  private readonly blockStack: string[] = [];
  private generatorOutputs: GraphValue[] = [];
  private discriminator?: string;
  /** Expressions evaluated so far (LIMITS.evaluationSteps). */
  private steps = 0;

  constructor(private readonly doc: Document, private readonly options: ElaborateOptions, private readonly report: DiagnosticBag) {}

  run(): Program | undefined {
    const { doc, report } = this;
    for (const name of Object.keys(BUILTINS)) this.globals.set(name, { kind: 'builtin', name });
    for (const d of doc.declarations) {
      if (d.kind === 'block') this.globals.set(d.name.name, { kind: 'block', decl: d });
      if (d.kind === 'model') this.globals.set(d.name.name, { kind: 'model', decl: d });
    }
    this.evaluateConstants();
    const modelDecls = doc.declarations.filter((d): d is Extract<Declaration, { kind: 'model' }> => d.kind === 'model');
    if (modelDecls.length === 0) {
      report.error('the file defines no model', { file: doc.file, line: 1, column: 1, endLine: 1, endColumn: 1, offset: 0, length: 1 });
      return undefined;
    }
    // The first model is the generator; the others are compiled on its finest output size.
    const [h, w] = this.options.input;
    const generator = this.model(modelDecls[0], [h, w]);
    this.generatorOutputs = generator?.outputs ?? [];
    const finest = this.generatorOutputs[0]?.shape;
    for (const decl of modelDecls.slice(1)) this.model(decl, finest ? [finest[1], finest[2]] : [h, w]);

    const lossDecl = doc.declarations.find((d) => d.kind === 'loss');
    const loss = lossDecl && generator ? this.loss(lossDecl as Extract<Declaration, { kind: 'loss' }>) : undefined;
    const trainDecl = doc.declarations.find((d) => d.kind === 'train') as Extract<Declaration, { kind: 'train' }> | undefined;
    const train = trainDecl ? this.train(trainDecl) : undefined;
    if (report.hasErrors) return undefined;
    return {
      file: doc.file,
      sourceHash: this.options.sourceHash,
      constants: this.constants,
      overrides: this.options.set,
      inputSize: this.options.input,
      models: Object.fromEntries(this.models),
      generator: modelDecls[0].name.name,
      discriminator: this.discriminator,
      loss,
      train,
    };
  }

  // ------------------------------------------------------------------ constants

  private evaluateConstants(): void {
    const consts = this.doc.declarations.filter((d): d is Extract<Declaration, { kind: 'const' }> => d.kind === 'const');
    // Constants may refer to constants defined anywhere in the file (no cycles).
    const pending = new Map(consts.map((c) => [c.name.name, c]));
    const evaluating = new Set<string>();
    const evaluate = (name: string): void => {
      const decl = pending.get(name);
      if (!decl) return;
      if (evaluating.has(name)) {
        this.report.error(`constant '${name}' is defined in terms of itself`, decl.name.loc);
        this.globals.set(name, POISON);
        pending.delete(name);
        return;
      }
      evaluating.add(name);
      for (const dep of namesIn(decl.value)) if (pending.has(dep)) evaluate(dep);
      pending.delete(name);
      let value = this.expr(decl.value, { env: this.globals, scope: new Scope([], []) });
      if (name in this.options.set) value = { kind: 'number', value: this.options.set[name] };
      if (value.kind === 'number') this.constants[name] = value.value;
      this.globals.set(name, value);
    };
    for (const c of consts) evaluate(c.name.name);
  }

  // ------------------------------------------------------------------ models

  private model(decl: Extract<Declaration, { kind: 'model' }>, size: [number, number]): Graph | undefined {
    const graph = new GraphBuilder(decl.name.name, this.report);
    const env: Env = new Map(this.globals);
    for (const input of decl.inputs) {
      const channels = INPUT_TYPES[input.type.name] ?? 3;
      env.set(input.name.name, graph.input(input.name.name, [1, size[0], size[1], channels], input.name.loc));
    }
    const outputs: GraphValue[] = [];
    const ctx: EvalContext = { env, scope: new Scope([], []) };
    for (const s of decl.body) {
      const value = this.expr(s.value, ctx);
      if (s.kind === 'assign') env.set(s.target.name, value);
      if (s.kind !== 'output') continue;
      const name = s.target?.name ?? (s.value.kind === 'name' ? s.value.name : `output${outputs.length}`);
      const tensors = this.tensorList(value, s.value.loc, 'an output');
      if (!tensors) continue;
      if (value.kind === 'list') tensors.forEach((t, i) => outputs.push({ name: `${name}[${i}]`, id: t.id, shape: t.shape }));
      else outputs.push({ name, id: tensors[0].id, shape: tensors[0].shape });
    }
    const finished = graph.finish(outputs);
    this.models.set(decl.name.name, finished);
    return finished;
  }

  /** A tensor or a list of tensors, else an error. */
  private tensorList(value: Value, loc: SourceSpan, what: string): Tensor[] | undefined {
    if (value.kind === 'poison') return undefined;
    if (value.kind === 'tensor') return [value];
    if (value.kind === 'list' && value.items.every((v) => v.kind === 'tensor')) return value.items as Tensor[];
    if (value.kind === 'list' && value.items.some((v) => v.kind === 'poison')) return undefined;
    this.report.error(`${what} must be a tensor or a list of tensors, not ${describe(value)}`, loc);
    return undefined;
  }

  // ------------------------------------------------------------------ expressions

  private expr(e: Expr, ctx: EvalContext): Value {
    if (++this.steps > LIMITS.evaluationSteps) {
      if (this.steps === LIMITS.evaluationSteps + 1) this.report.error(`the file takes more than ${formatCount(LIMITS.evaluationSteps)} evaluation steps to elaborate (loops or reductions too large); stopped here`, e.loc);
      return POISON;
    }
    switch (e.kind) {
      case 'number': return { kind: 'number', value: e.value };
      case 'string': return { kind: 'string', value: e.value };
      case 'bool': return { kind: 'bool', value: e.value };
      case 'name': {
        const v = ctx.env.get(e.name);
        if (!v) return POISON; // reported by validation
        return v;
      }
      case 'list': case 'tuple': return { kind: 'list', items: e.items.map((i) => this.expr(i, ctx)) };
      case 'range': {
        const from = this.integer(this.expr(e.from, ctx), e.from.loc, 'a range start');
        const to = this.integer(this.expr(e.to, ctx), e.to.loc, 'a range end');
        if (from === undefined || to === undefined) return POISON;
        if (to <= from) {
          this.report.error(`empty range ${from}..${to}`, e.loc);
          return POISON;
        }
        if (to - from > LIMITS.range) {
          this.report.error(`range ${from}..${to} is too long (at most ${formatCount(LIMITS.range)} items)`, e.loc);
          return POISON;
        }
        return { kind: 'list', items: Array.from({ length: to - from }, (_, i) => ({ kind: 'number', value: from + i })) };
      }
      case 'negate': return this.arithmetic('*', { kind: 'number', value: -1 }, this.expr(e.operand, ctx), e.loc, ctx);
      case 'binary': return this.arithmetic(e.op, this.expr(e.left, ctx), this.expr(e.right, ctx), e.loc, ctx);
      case 'index': return this.index(this.expr(e.target, ctx), this.expr(e.index, ctx), e);
      case 'chain': return this.chain(e, ctx);
      case 'repeat': return this.repeat(e, ctx);
      case 'call': return this.call(e, ctx);
      case 'reduce': return this.reduce(e, ctx);
      case 'for': return this.forLoop(e, ctx);
      case 'coarseToFine': return this.coarseToFine(e, ctx);
    }
  }

  private integer(v: Value, loc: SourceSpan, what: string): number | undefined {
    if (v.kind === 'poison') return undefined;
    if (v.kind !== 'number' || !Number.isInteger(v.value)) {
      this.report.error(`${what} must be an integer, not ${describe(v)}`, loc);
      return undefined;
    }
    return v.value;
  }

  private index(target: Value, index: Value, e: Extract<Expr, { kind: 'index' }>): Value {
    if (target.kind === 'poison' || index.kind === 'poison') return POISON;
    if (target.kind !== 'list') {
      this.report.error(`cannot index ${describe(target)}`, e.target.loc);
      return POISON;
    }
    const i = this.integer(index, e.index.loc, 'an index');
    if (i === undefined) return POISON;
    if (i < 0 || i >= target.items.length) {
      this.report.error(`index ${i} is out of range: the list has ${target.items.length} item${target.items.length === 1 ? '' : 's'} (0..${target.items.length - 1})`, e.index.loc);
      return POISON;
    }
    return target.items[i];
  }

  /** Stage-like values applied to the block's or loop's implicit `input` where a tensor is needed. */
  private asTensorish(v: Value, ctx: EvalContext, loc: SourceSpan): Value {
    const stage = this.asStage(v);
    if (!stage) return v;
    const input = ctx.env.get('input');
    if (input?.kind === 'tensor') return stage.apply(input, { loc, scope: ctx.scope });
    return v;
  }

  private arithmetic(op: '+' | '-' | '*' | '/', leftRaw: Value, rightRaw: Value, loc: SourceSpan, ctx: EvalContext): Value {
    if (leftRaw.kind === 'poison' || rightRaw.kind === 'poison') return POISON;
    const left = this.asTensorish(leftRaw, ctx, loc);
    const right = this.asTensorish(rightRaw, ctx, loc);
    if (left.kind === 'poison' || right.kind === 'poison') return POISON;
    if (left.kind === 'number' && right.kind === 'number') {
      if (op === '/' && right.value === 0) {
        this.report.error('division by zero', loc);
        return POISON;
      }
      return { kind: 'number', value: op === '+' ? left.value + right.value : op === '-' ? left.value - right.value : op === '*' ? left.value * right.value : left.value / right.value };
    }
    if (left.kind === 'loss' || right.kind === 'loss') return this.lossArithmetic(op, left, right, loc);
    // Lists map elementwise: `out + 0.5` shifts every pyramid level.
    if (left.kind === 'list' || right.kind === 'list') {
      const n = left.kind === 'list' ? left.items.length : (right as { items: Value[] }).items.length;
      if (left.kind === 'list' && right.kind === 'list' && left.items.length !== right.items.length) {
        this.report.error(`'${op}' on lists of different lengths (${left.items.length} and ${right.items.length})`, loc);
        return POISON;
      }
      const at = (v: Value, i: number) => (v.kind === 'list' ? v.items[i] : v);
      return { kind: 'list', items: Array.from({ length: n }, (_, i) => this.arithmetic(op, at(left, i), at(right, i), loc, ctx)) };
    }
    if (left.kind === 'tensor' && right.kind === 'tensor') {
      if (op === '+') return left.graph.add('add', [left, right], {}, { loc, scope: ctx.scope }, 'add', undefined, this.report);
      this.report.error(`'${op}' between two tensors is not supported (only '+', a residual sum)`, loc);
      return POISON;
    }
    if (left.kind === 'tensor' && right.kind === 'number') {
      const c = right.value;
      if (op === '/' && c === 0) {
        this.report.error('division by zero', loc);
        return POISON;
      }
      return this.affine(left, op === '*' ? c : op === '/' ? 1 / c : 1, op === '+' ? c : op === '-' ? -c : 0, loc, ctx);
    }
    if (left.kind === 'number' && right.kind === 'tensor') {
      if (op === '/') {
        this.report.error('dividing a number by a tensor is not supported', loc);
        return POISON;
      }
      return this.affine(right, op === '-' ? -1 : op === '*' ? left.value : 1, op === '*' ? 0 : left.value, loc, ctx);
    }
    this.report.error(`cannot apply '${op}' to ${describe(left)} and ${describe(right)}`, loc);
    return POISON;
  }

  /** y = x * scale + shift, folded into the producing affine node when there is one. */
  private affine(x: Tensor, scale: number, shift: number, loc: SourceSpan, ctx: EvalContext): Value {
    const producer = x.graph.node(x.id);
    if (producer?.op === 'affine') {
      const a = producer.attrs as { scale: number; shift: number };
      const source = x.graph.node(producer.inputs[0]);
      const input: Tensor = { kind: 'tensor', id: producer.inputs[0], shape: source?.shape ?? x.shape, graph: x.graph };
      const inputShape = source?.shape ?? x.graph.inputs.find((i) => i.id === producer.inputs[0])?.shape ?? x.shape;
      return x.graph.add('affine', [{ ...input, shape: inputShape }], { scale: a.scale * scale, shift: a.shift * scale + shift }, { loc, scope: ctx.scope }, 'affine', undefined, this.report);
    }
    return x.graph.add('affine', [x], { scale, shift }, { loc, scope: ctx.scope }, 'affine', undefined, this.report);
  }

  /** Values that can follow `->`: layers, blocks, composed chains. */
  private asStage(v: Value): Extract<Value, { kind: 'stage' }> | undefined {
    if (v.kind === 'stage') return v;
    if (v.kind === 'block') return this.blockStage(v.decl, [], v.decl.name.loc);
    if (v.kind === 'builtin' && BUILTINS[v.name].context === 'layer') return this.layerStage(v.name, [], undefined);
    return undefined;
  }

  private chain(e: Extract<Expr, { kind: 'chain' }>, ctx: EvalContext): Value {
    let current = this.expr(e.stages[0], ctx);
    for (const stageExpr of e.stages.slice(1)) {
      const next = this.expr(stageExpr, ctx);
      if (current.kind === 'poison' || next.kind === 'poison') return POISON;
      const stage = this.asStage(next);
      if (!stage) {
        this.report.error(`${describe(next)} cannot follow '->': expected a layer or a block`, stageExpr.loc);
        return POISON;
      }
      current = this.applyStage(current, stage, { loc: stageExpr.loc, scope: ctx.scope }, e.stages[0].loc);
      if (current.kind === 'poison') return POISON;
    }
    return current;
  }

  /** Sends a tensor (or each of a list of tensors) through a stage; composes two stages. */
  private applyStage(value: Value, stage: Extract<Value, { kind: 'stage' }>, site: Site, valueLoc: SourceSpan): Value {
    if (value.kind === 'tensor') return stage.apply(value, site);
    if (value.kind === 'list') return { kind: 'list', items: value.items.map((v) => this.applyStage(v, stage, site, valueLoc)) };
    const first = this.asStage(value);
    if (first) {
      return { kind: 'stage', label: `${first.label} -> ${stage.label}`, apply: (x, at) => {
        const mid = first.apply(x, at);
        return mid.kind === 'poison' ? mid : this.applyStage(mid, stage, { ...site, scope: at.scope }, valueLoc);
      } };
    }
    this.report.error(`${describe(value)} cannot be sent through '->': expected a tensor, a layer or a block`, valueLoc);
    return POISON;
  }

  private repeat(e: Extract<Expr, { kind: 'repeat' }>, ctx: EvalContext): Value {
    const target = this.expr(e.target, ctx);
    const countValue = this.expr(e.count, ctx);
    if (target.kind === 'poison' || countValue.kind === 'poison') return POISON;
    const stage = this.asStage(target);
    if (!stage) {
      this.report.error(`only a layer or a block can be repeated, not ${describe(target)}`, e.target.loc);
      return POISON;
    }
    const count = this.integer(countValue, e.count.loc, 'a repeat count');
    if (count === undefined) return POISON;
    if (count < 1) {
      this.report.error(`a repeat count must be at least 1, got ${count}`, e.count.loc);
      return POISON;
    }
    if (count > LIMITS.repeat) {
      this.report.error(`a repeat count must be at most ${formatCount(LIMITS.repeat)}, got ${formatCount(count)}`, e.count.loc);
      return POISON;
    }
    const label = `${stage.label} x ${count}`;
    return {
      kind: 'stage', label, apply: (x, site) => {
        // The body is built once, on a graph of its own; iteration i owns params `prefix.i/...`.
        const body = new GraphBuilder(label, this.report);
        const bodyInput = body.input('input', x.shape, site.loc);
        if (bodyInput.kind === 'poison') return POISON;
        const segment = `${stage.label}${suffix(site.scope.next(stage.label))}`;
        const out = stage.apply(bodyInput, { loc: site.loc, scope: new Scope([], []) });
        if (out.kind === 'poison') return POISON;
        if (out.kind !== 'tensor') {
          this.report.error(`a repeated stage must produce a tensor`, e.loc);
          return POISON;
        }
        if (shapeText(out.shape) !== shapeText(x.shape)) {
          this.report.error(`'${stage.label}' cannot be repeated: it maps ${shapeText(x.shape)} to ${shapeText(out.shape)}, and a repeated stage must keep its shape`, e.loc);
          return POISON;
        }
        if (!x.graph.grow(count * body.expandedLayers, e.loc)) return POISON;
        const graph = body.finish([{ name: 'output', id: out.id, shape: out.shape }]);
        const id = `repeat_${x.graph.nodes.length}_${segment}`;
        x.graph.push({
          id, op: 'repeat', inputs: [x.id], attrs: { count }, params: [], shape: x.shape,
          scope: [x.graph.name, ...site.scope.human, label].join(' / '), loc: e.loc,
          repeat: { count, body: graph, paramPrefix: site.scope.paramPath(segment) },
        });
        return { kind: 'tensor', id, shape: x.shape, graph: x.graph };
      },
    };
  }

  // ------------------------------------------------------------------ calls

  private call(e: Extract<Expr, { kind: 'call' }>, ctx: EvalContext): Value {
    const callee = ctx.env.get(e.callee);
    if (!callee || callee.kind === 'poison') return POISON;
    if (callee.kind === 'block') return this.blockStage(callee.decl, e.args, e.loc, ctx);
    if (callee.kind !== 'builtin') {
      this.report.error(`'${e.callee}' is ${describe(callee)}, not something that can be called`, e.calleeLoc);
      return POISON;
    }
    const builtin = BUILTINS[e.callee];
    if (builtin.context === 'layer') return this.layerStage(e.callee, e.args, e.loc, ctx) ?? POISON;
    const args = this.bind(builtin.params, e.args, ctx, e.callee);
    if (!args) return POISON;
    switch (e.callee) {
      case 'concat': return this.concat(args.values as Value[], e, ctx);
      case 'pyramid': return this.pyramid(args, e, ctx);
      case 'mse': case 'l1': return this.distance(e.callee, args, e);
      case 'gan': return this.gan(args, e);
      case 'normal': return { kind: 'distribution', mean: args.mean as number, std: args.std as number };
      case 'saturation': return { kind: 'augment', augment: { kind: 'saturation', low: args.low as number, high: args.high as number } };
      case 'noise': {
        const sigma = args.sigma as Value;
        if (sigma.kind === 'number') return { kind: 'augment', augment: { kind: 'noise', sigmaMean: sigma.value, sigmaStd: 0 } };
        if (sigma.kind === 'distribution') return { kind: 'augment', augment: { kind: 'noise', sigmaMean: sigma.mean, sigmaStd: sigma.std } };
        this.report.error(`noise: sigma must be a number or normal(mean, std), not ${describe(sigma)}`, e.loc);
        return POISON;
      }
      default: return { kind: 'setting', name: e.callee, args };
    }
  }

  /** Binds call arguments to a signature, checking types. Missing/unknown names were
   *  reported by validation; here they just make the call poison. */
  private bind(params: BuiltinParam[], args: Argument[], ctx: EvalContext, what: string): Record<string, unknown> | undefined {
    const bound: Record<string, unknown> = {};
    const rest = params.find((p) => p.rest);
    if (rest) bound[rest.name] = [];
    let position = 0;
    let ok = true;
    for (const arg of args) {
      const param = arg.name ? params.find((p) => p.name === arg.name!.name) : rest ?? params[position++];
      if (!param) return undefined;
      const value = this.expr(arg.value, ctx);
      if (value.kind === 'poison') { ok = false; continue; }
      const checked = this.checkType(value, param, arg.value.loc, what);
      if (checked === undefined) { ok = false; continue; }
      if (param.rest) (bound[param.name] as unknown[]).push(checked);
      else bound[param.name] = checked;
    }
    for (const p of params) {
      if (p.name in bound || p.rest) continue;
      if (p.default === undefined) return undefined;
      bound[p.name] = typeof p.default === 'function' ? (p.default as (b: Record<string, unknown>) => unknown)(bound) : p.default;
    }
    return ok ? bound : undefined;
  }

  private checkType(value: Value, param: BuiltinParam, loc: SourceSpan, what: string): unknown {
    const fail = (expected: string) => {
      this.report.error(`${what}: '${param.name}' must be ${expected}, not ${describe(value)}`, loc);
      return undefined;
    };
    switch (param.type) {
      case 'int':
        if (value.kind !== 'number' || !Number.isInteger(value.value)) return fail('an integer');
        return value.value;
      case 'number': return value.kind === 'number' ? value.value : fail('a number');
      case 'bool': return value.kind === 'bool' ? value.value : fail('true or false');
      case 'string': return value.kind === 'string' ? value.value : fail('a string');
      default: return value;
    }
  }

  private layerStage(name: string, args: Argument[], loc: SourceSpan | undefined, ctx?: EvalContext): Extract<Value, { kind: 'stage' }> | undefined {
    const a = ctx ? this.bind(BUILTINS[name].params, args, ctx, name) : this.bind(BUILTINS[name].params, [], { env: this.globals, scope: new Scope([], []) }, name);
    if (!a) return ctx ? (POISON as never) : undefined;
    const positive = (key: string, min = 1): boolean => {
      if ((a[key] as number) >= min) return true;
      this.report.error(`${name}: '${key}' must be at least ${min}, got ${a[key]}`, loc!);
      return false;
    };
    const label = name;
    const layer = (op: OpName, attrs: Record<string, unknown>) => ({
      kind: 'stage' as const, label,
      apply: (x: Tensor, site: Site) => x.graph.add(op, [x], attrs, { loc: loc ?? site.loc, scope: site.scope }, name, `${name}${site.scope.next(name)}`, this.report),
    });
    switch (name) {
      case 'conv': {
        if (!positive('filters') || !positive('kernel') || !positive('stride') || !positive('pad', 0)) return POISON as never;
        const k = a.kernel as number, s = a.stride as number, p = a.pad as number;
        return layer('conv2d', { filters: a.filters, kernel: [k, k], stride: [s, s], pad: [p, p, p, p], bias: a.bias });
      }
      case 'relu': return layer('relu', {});
      case 'sigmoid': return layer('sigmoid', {});
      case 'flatten': return layer('flatten', {});
      case 'leaky_relu': return layer('leaky_relu', { alpha: a.slope });
      case 'pixel_shuffle': return positive('factor') ? layer('pixel_shuffle', { factor: a.factor }) : (POISON as never);
      case 'dense': return positive('units') ? layer('dense', { units: a.units, bias: a.bias }) : (POISON as never);
      case 'scale': return layer('affine', { scale: a.factor, shift: 0 });
      case 'shift': return layer('affine', { scale: 1, shift: a.offset });
    }
    return undefined;
  }

  /** A block instance: a stage that elaborates the block body on its input, in a scope of
   *  its own (`Block`, or `Block_1` for the second use in the same scope). */
  private blockStage(decl: Extract<Declaration, { kind: 'block' }>, args: Argument[], loc: SourceSpan, ctx?: EvalContext): Extract<Value, { kind: 'stage' }> {
    const name = decl.name.name;
    const bound = new Map<string, Value>();
    args.forEach((arg, i) => {
      const param = arg.name ? decl.params.find((p) => p.name.name === arg.name!.name) : decl.params[i];
      if (param && ctx) bound.set(param.name.name, this.expr(arg.value, ctx));
    });
    return {
      kind: 'stage', label: name, apply: (x, site) => {
        if (this.blockStack.includes(name)) return POISON; // reported by NoRecursiveBlocks
        const env: Env = new Map(this.globals);
        for (const p of decl.params) {
          const v = bound.get(p.name.name) ?? (p.default ? this.expr(p.default, { env: this.globals, scope: site.scope }) : POISON);
          env.set(p.name.name, v);
        }
        env.set('input', x);
        const scope = site.scope.child(`${name}${suffix(site.scope.next(`block:${name}`))}`, name);
        this.blockStack.push(name);
        try {
          const result = this.body(decl.body, { env, scope });
          return result;
        } finally {
          this.blockStack.pop();
        }
      },
    };
  }

  /** Evaluates statements; the result is the last statement's value (coerced to a tensor
   *  by applying a trailing stage to `input`). */
  private body(statements: Statement[], ctx: EvalContext): Value {
    let result: Value = POISON;
    for (const s of statements) {
      result = this.asTensorish(this.expr(s.value, ctx), ctx, s.value.loc);
      if (s.kind === 'assign') ctx.env.set(s.target.name, result);
    }
    return result;
  }

  private forLoop(e: Extract<Expr, { kind: 'for' }>, ctx: EvalContext): Value {
    const over = this.expr(e.over, ctx);
    if (over.kind === 'poison') return POISON;
    if (over.kind !== 'list') {
      this.report.error(`for: expected a list or a range to loop over, not ${describe(over)}`, e.over.loc);
      return POISON;
    }
    // A loop is a stage: each iteration's body is applied to the previous one's output.
    return {
      kind: 'stage', label: 'for', apply: (x, site) => {
        let current: Value = x;
        for (const item of over.items) {
          if (current.kind !== 'tensor') return POISON;
          const env: Env = new Map(ctx.env);
          const values = e.variables.length === 1 ? [item] : item.kind === 'list' ? item.items : [];
          if (values.length !== e.variables.length) {
            this.report.error(`for: each item must have ${e.variables.length} values to unpack, got ${describe(item)}`, e.over.loc);
            return POISON;
          }
          e.variables.forEach((v, i) => env.set(v.name, values[i]));
          env.set('input', current);
          current = this.body(e.body, { env, scope: site.scope });
        }
        return current;
      },
    };
  }

  private concat(values: Value[], e: Extract<Expr, { kind: 'call' }>, ctx: EvalContext): Value {
    const tensors: Tensor[] = [];
    for (const [i, raw] of values.entries()) {
      const v = this.asTensorish(raw, ctx, e.args[i].value.loc);
      if (v.kind === 'poison') return POISON;
      if (v.kind !== 'tensor') {
        this.report.error(`concat: expected tensors, got ${describe(v)}`, e.args[i].value.loc);
        return POISON;
      }
      tensors.push(v);
    }
    if (tensors.length < 2) {
      this.report.error('concat needs at least two tensors', e.loc);
      return POISON;
    }
    if (tensors.some((t) => t.graph !== tensors[0].graph)) {
      this.report.error('concat: the tensors come from different models', e.loc);
      return POISON;
    }
    const out = tensors[0].graph.add('concat', tensors, { axis: 3 }, { loc: e.loc, scope: ctx.scope }, 'concat', undefined, undefined);
    if (out.kind === 'poison' && !tensors[0].graph.limitReached) {
      const sizes = tensors.map((t) => `${t.shape[1]}x${t.shape[2]}`).join(' and ');
      this.report.error(`concat needs equal spatial sizes, got ${sizes}${this.sizeHint()}`, e.loc);
    }
    return out;
  }

  private sizeHint(): string {
    const levels = this.constants.scales;
    const [h, w] = this.options.input;
    if (!levels) return '';
    const m = pyramidMultiple(levels);
    return h % m || w % m ? ` (the input ${h}x${w} is not divisible by ${m} = 2^(scales-1); netc deblur pads images to a multiple of ${m})` : '';
  }

  private pyramid(args: Record<string, unknown>, e: Extract<Expr, { kind: 'call' }>, ctx: EvalContext): Value {
    const image = this.asTensorish(args.image as Value, ctx, e.loc);
    const levels = args.levels as number;
    if (levels < 1 || levels > LIMITS.pyramidLevels) {
      this.report.error(`pyramid: 'levels' must be ${levels < 1 ? 'at least 1' : `at most ${LIMITS.pyramidLevels}`}, got ${formatCount(levels)}`, e.args[1]?.loc ?? e.loc);
      return POISON;
    }
    const down: PyramidDownAttrs = { sigma: args.sigma as number, radius: args.radius as number };
    if (image.kind === 'target') return { kind: 'list', items: Array.from({ length: levels }, (_, i) => ({ kind: 'target', level: i })) };
    if (image.kind !== 'tensor') {
      if (image.kind !== 'poison') this.report.error(`pyramid: expected an image, got ${describe(image)}`, e.args[0].loc);
      return POISON;
    }
    const items: Value[] = [image];
    for (let i = 1; i < levels; i++) {
      const prev = items[i - 1] as Tensor;
      const next = prev.graph.add('pyramid_down', [prev], { ...down }, { loc: e.loc, scope: ctx.scope }, 'pyramid', undefined, undefined);
      if (next.kind === 'poison') {
        if (prev.graph.limitReached) return POISON;
        this.report.error(`pyramid: level ${i - 1} is ${prev.shape[1]}x${prev.shape[2]}, which cannot be halved exactly${this.sizeHint()}`, e.loc);
        return POISON;
      }
      items.push(next);
    }
    return { kind: 'list', items };
  }

  private coarseToFine(e: Extract<Expr, { kind: 'coarseToFine' }>, ctx: EvalContext): Value {
    const levels = this.expr(e.levels, ctx);
    if (levels.kind === 'poison') return POISON;
    if (levels.kind !== 'list' || levels.items.length === 0) {
      this.report.error(`coarse_to_fine expects a pyramid (a list of images), not ${describe(levels)}`, e.levels.loc);
      return POISON;
    }
    const coarsest = e.cases.find((c) => c.which.name === 'coarsest');
    const finer = e.cases.find((c) => c.which.name === 'finer');
    let ok = true;
    for (const c of e.cases) {
      const arity = c.which.name === 'coarsest' ? 1 : c.which.name === 'finer' ? 2 : 0;
      if (!arity) { this.report.error(`unknown coarse_to_fine case '${c.which.name}': use coarsest(b) and finer(b, coarser)`, c.which.loc); ok = false; }
      else if (c.params.length !== arity) { this.report.error(`'${c.which.name}' takes ${arity} parameter${arity > 1 ? 's' : ''}, got ${c.params.length}`, c.which.loc); ok = false; }
    }
    if (!coarsest) { this.report.error(`coarse_to_fine needs a 'coarsest(b) = ...' case`, e.loc); ok = false; }
    if (!finer && levels.items.length > 1) { this.report.error(`coarse_to_fine needs a 'finer(b, coarser) = ...' case`, e.loc); ok = false; }
    if (!ok) return POISON;
    const k = levels.items.length;
    const outputs: Value[] = new Array(k).fill(POISON);
    for (let s = k - 1; s >= 0; s--) {
      const c = s === k - 1 ? coarsest! : finer!;
      const env: Env = new Map(ctx.env);
      env.set(c.params[0].name, levels.items[s]);
      if (s < k - 1) env.set(c.params[1].name, outputs[s + 1]);
      const scope = ctx.scope.child(`scale${s}`, `scale ${s}`);
      const out = this.asTensorish(this.expr(c.body, { env, scope }), { env, scope }, c.body.loc);
      if (out.kind === 'poison') return POISON;
      if (out.kind !== 'tensor') {
        this.report.error(`a coarse_to_fine case must produce a tensor, not ${describe(out)}`, c.body.loc);
        return POISON;
      }
      outputs[s] = out;
    }
    return { kind: 'list', items: outputs };
  }

  // ------------------------------------------------------------------ loss

  private loss(decl: Extract<Declaration, { kind: 'loss' }>): LossIR | undefined {
    const env: Env = new Map(this.globals);
    env.set('sharp', { kind: 'target', level: 0 });
    // The generator's outputs by name: a list output L[0..K-1] binds L to a list.
    const groups = new Map<string, Value[]>();
    this.generatorOutputs.forEach((o, i) => {
      const m = /^(.*)\[(\d+)\]$/.exec(o.name);
      const base = m ? m[1] : o.name;
      if (!groups.has(base)) groups.set(base, []);
      groups.get(base)!.push({ kind: 'output', index: i });
    });
    for (const [name, items] of groups) env.set(name, items.length === 1 && !this.generatorOutputs.some((o) => o.name.startsWith(`${name}[`)) ? items[0] : { kind: 'list', items });
    let target: LossIR['target'] | undefined;
    const terms: LossIR['terms'] = [];
    const ctx: EvalContext = { env, scope: new Scope([], []) };
    for (const s of decl.body) {
      if (s.kind !== 'assign') {
        this.report.error(`each line of the loss section names a term: 'name = ...'`, s.loc);
        continue;
      }
      if (s.value.kind === 'call' && s.value.callee === 'pyramid') {
        const v = this.expr(s.value, ctx);
        if (v.kind === 'list') {
          const args = this.bind(BUILTINS.pyramid.params, s.value.args, ctx, 'pyramid');
          target = { levels: v.items.length, down: { sigma: args?.sigma as number, radius: args?.radius as number } };
        }
        env.set(s.target.name, v);
        continue;
      }
      const v = this.expr(s.value, ctx);
      if (v.kind === 'poison') continue;
      if (v.kind !== 'loss') {
        this.report.error(`a loss term must be a loss (mse, l1, gan and arithmetic on them), not ${describe(v)}`, s.value.loc);
        continue;
      }
      terms.push({ name: s.target.name, expr: v.expr, loc: s.loc });
      env.set(s.target.name, { kind: 'loss', expr: { kind: 'term', name: s.target.name } });
    }
    if (!terms.length) return undefined;
    const objective = terms.find((t) => t.name === 'total')?.name ?? terms[terms.length - 1].name;
    // Terms the objective does not use are still logged, except adversarial ones: they
    // would need a discriminator that nothing trains (e.g. with --set gan_weight=0).
    const byName = new Map(terms.map((t) => [t.name, t.expr]));
    const used = new Set<string>();
    const visit = (e: LossExpr): boolean => {
      switch (e.kind) {
        case 'term': if (!used.has(e.name)) { used.add(e.name); return visit(byName.get(e.name)!); } return false;
        case 'binary': return visit(e.left) || visit(e.right);
        case 'reduce': return e.terms.some(visit);
        case 'adversarial': return true;
        default: return false;
      }
    };
    used.add(objective);
    const adversarial = visit(byName.get(objective)!);
    if (!adversarial) this.discriminator = undefined;
    const hasAdversarial = (e: LossExpr): boolean =>
      e.kind === 'adversarial' || (e.kind === 'binary' && (hasAdversarial(e.left) || hasAdversarial(e.right))) || (e.kind === 'reduce' && e.terms.some(hasAdversarial));
    const kept = terms.filter((t) => used.has(t.name) || !hasAdversarial(t.expr));
    return { target: target ?? { levels: 1, down: { sigma: 2 / 3, radius: 3 } }, terms: kept, objective };
  }

  private lossArithmetic(op: '+' | '-' | '*' | '/', left: Value, right: Value, loc: SourceSpan): Value {
    const asLoss = (v: Value): LossExpr | undefined => (v.kind === 'loss' ? v.expr : v.kind === 'number' ? { kind: 'const', value: v.value } : undefined);
    const l = asLoss(left);
    const r = asLoss(right);
    if (!l || !r) {
      this.report.error(`cannot apply '${op}' to ${describe(left)} and ${describe(right)}`, loc);
      return POISON;
    }
    return { kind: 'loss', expr: foldLoss(op, l, r) };
  }

  private distance(fn: 'mse' | 'l1', args: Record<string, unknown>, e: Extract<Expr, { kind: 'call' }>): Value {
    const output = args.output as Value;
    const target = args.target as Value;
    if (output.kind !== 'output') {
      this.report.error(`${fn}: the first argument must be a generator output (e.g. L[k]), not ${describe(output)}`, e.args[0].loc);
      return POISON;
    }
    if (target.kind !== 'target') {
      this.report.error(`${fn}: the second argument must be a level of the sharp pyramid (e.g. S[k]), not ${describe(target)}`, e.args[1].loc);
      return POISON;
    }
    const outShape = this.generatorOutputs[output.index].shape;
    const [h] = this.options.input;
    if (outShape[1] !== pyramidLevelSide(h, target.level)) {
      this.report.error(`${fn}: output ${this.generatorOutputs[output.index].name} is ${outShape[1]}x${outShape[2]} but sharp level ${target.level} is ${pyramidLevelSide(h, target.level)}x${pyramidLevelSide(this.options.input[1], target.level)}`, e.loc);
      return POISON;
    }
    return { kind: 'loss', expr: { kind: 'distance', fn, output: output.index, target: { level: target.level } } };
  }

  private gan(args: Record<string, unknown>, e: Extract<Expr, { kind: 'call' }>): Value {
    const d = args.discriminator as Value;
    const real = args.real as Value;
    const fake = args.fake as Value;
    if (d.kind !== 'model') {
      this.report.error(`gan: the first argument must be a model (the discriminator), not ${describe(d)}`, e.args[0].loc);
      return POISON;
    }
    if (real.kind !== 'target') {
      this.report.error(`gan: 'real' must be the sharp image, not ${describe(real)}`, e.args[1].loc);
      return POISON;
    }
    if (fake.kind !== 'output') {
      this.report.error(`gan: 'fake' must be a generator output, not ${describe(fake)}`, e.args[2].loc);
      return POISON;
    }
    const graph = this.models.get(d.decl.name.name);
    if (graph && (graph.outputs.length !== 1 || graph.outputs[0].shape.join() !== '1,1')) {
      this.report.error(`gan: the discriminator must output one value per image, but '${d.decl.name.name}' outputs ${graph.outputs.map((o) => shapeText(o.shape)).join(', ')}`, e.args[0].loc);
      return POISON;
    }
    this.discriminator = d.decl.name.name;
    return { kind: 'loss', expr: { kind: 'adversarial', discriminator: d.decl.name.name, fakeOutput: fake.index, real: { level: real.level } } };
  }

  private reduce(e: Extract<Expr, { kind: 'reduce' }>, ctx: EvalContext): Value {
    if (e.fn !== 'mean' && e.fn !== 'sum') {
      this.report.error(`unknown reduction '${e.fn}': use mean(k in a..b) or sum(k in a..b)`, e.fnLoc);
      return POISON;
    }
    const over = this.expr(e.over, ctx);
    if (over.kind !== 'list') return POISON;
    const terms: LossExpr[] = [];
    for (const item of over.items) {
      const env: Env = new Map(ctx.env);
      env.set(e.variable.name, item);
      const v = this.expr(e.body, { env, scope: ctx.scope });
      if (v.kind === 'poison') return POISON;
      if (v.kind === 'number') { terms.push({ kind: 'const', value: v.value }); continue; }
      if (v.kind !== 'loss') {
        this.report.error(`${e.fn}: the body must be a loss, not ${describe(v)}`, e.body.loc);
        return POISON;
      }
      terms.push(v.expr);
    }
    return { kind: 'loss', expr: { kind: 'reduce', fn: e.fn, terms } };
  }

  // ------------------------------------------------------------------ train

  private train(decl: Extract<Declaration, { kind: 'train' }>): TrainIR | undefined {
    const ctx: EvalContext = { env: this.globals, scope: new Scope([], []) };
    const constant = (name: string): number | undefined => {
      const v = this.constants[name];
      if (v === undefined) {
        this.report.error(`the train section needs a top-level constant '${name}' (e.g. '${name} = ...')`, decl.loc);
      } else if (!(v > 0)) {
        this.report.error(`'${name}' must be positive, got ${v}`, decl.loc);
      }
      return v;
    };
    const patch = constant('patch'), batch = constant('batch'), iterations = constant('iterations');
    const batchElements = (batch ?? 0) * (patch ?? 0) ** 2 * 3;
    if (batchElements > LIMITS.tensorElements) {
      this.report.error(`a training batch of ${batch} patches of ${patch}x${patch} is ${Number.isSafeInteger(batchElements) ? formatCount(batchElements) : 'too many'} elements, more than the limit of ${formatCount(LIMITS.tensorElements)}`, decl.loc);
    }
    const train: TrainIR = {
      patch: patch ?? 0, batch: batch ?? 0, iterations: iterations ?? 0,
      optimizer: { kind: 'adam', lr: this.constants.lr ?? 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
      schedule: { kind: 'constant' },
      augment: [],
    };
    for (const s of decl.settings) {
      const values = s.values.map((v) => this.expr(v, ctx));
      if (values.some((v) => v.kind === 'poison')) continue;
      const single = (): Value | undefined => {
        if (values.length === 1) return values[0];
        this.report.error(`train setting '${s.key.name}' takes one value`, s.loc);
        return undefined;
      };
      switch (s.key.name) {
        case 'optimizer': {
          const v = single();
          if (v?.kind === 'setting' && v.name === 'adam') {
            const a = v.args as Record<string, number>;
            train.optimizer = { kind: 'adam', lr: a.lr, beta1: a.beta1, beta2: a.beta2, eps: a.eps };
          } else if (v) this.report.error(`optimizer: expected adam(...), got ${describe(v)}`, s.values[0].loc);
          break;
        }
        case 'schedule': {
          const v = single();
          if (v?.kind === 'builtin' && v.name === 'constant') train.schedule = { kind: 'constant' };
          else if (v?.kind === 'setting' && v.name === 'step') {
            const at = v.args.at as Value;
            const points = at.kind === 'number' ? [at.value] : at.kind === 'list' && at.items.every((i) => i.kind === 'number') ? at.items.map((i) => Math.round((i as { value: number }).value)) : undefined;
            if (!points) this.report.error(`step: 'at' must be an iteration or a list of iterations`, s.values[0].loc);
            else train.schedule = { kind: 'step', at: points.map(Math.round), factor: v.args.factor as number };
          } else if (v) this.report.error(`schedule: expected constant or step(at, factor), got ${describe(v)}`, s.values[0].loc);
          break;
        }
        case 'augment':
          values.forEach((v, i) => {
            if (v.kind === 'augment') train.augment.push(v.augment);
            else if (v.kind === 'builtin' && ['flip', 'rot90', 'permute_channels'].includes(v.name)) train.augment.push({ kind: v.name as 'flip' });
            else this.report.error(`augment: '${s.values[i].kind === 'name' || s.values[i].kind === 'call' ? source(this.doc, s.values[i].loc) : describe(v)}' is not an augmentation (flip, rot90, permute_channels, saturation, noise)`, s.values[i].loc);
          });
          break;
        case 'data': {
          const v = single();
          if (v?.kind === 'setting' && v.name === 'gopro') {
            const blur = v.args.blur as string;
            if (blur !== 'blur' && blur !== 'blur_gamma') this.report.error(`gopro: blur must be "blur" or "blur_gamma"`, s.values[0].loc);
            train.data = { kind: 'gopro', root: v.args.root as string, blur: blur as 'blur' };
          } else if (v) this.report.error(`data: expected gopro("path"), got ${describe(v)}`, s.values[0].loc);
          break;
        }
        case 'checkpoint_every': case 'validate_every': {
          const v = single();
          const n = v ? this.integer(v, s.values[0].loc, s.key.name) : undefined;
          if (n !== undefined) train[s.key.name === 'checkpoint_every' ? 'checkpointEvery' : 'validateEvery'] = n;
        }
      }
    }
    void TRAIN_CONSTANTS;
    return train;
  }
}

interface EvalContext { env: Env; scope: Scope }

/** Constant folding, so that `content + 0 * adversarial` (e.g. `--set gan_weight=0`)
 *  leaves the adversarial term out of the objective and the trainer skips the
 *  discriminator entirely. */
function foldLoss(op: '+' | '-' | '*' | '/', l: LossExpr, r: LossExpr): LossExpr {
  const value = (e: LossExpr) => (e.kind === 'const' ? e.value : undefined);
  const a = value(l), b = value(r);
  if (a !== undefined && b !== undefined) return { kind: 'const', value: op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : a / b };
  if (op === '*' && (a === 0 || b === 0)) return { kind: 'const', value: 0 };
  if (op === '/' && a === 0) return { kind: 'const', value: 0 };
  if ((op === '+' || op === '-') && b === 0) return l;
  if (op === '+' && a === 0) return r;
  if ((op === '*' && b === 1) || (op === '/' && b === 1)) return l;
  if (op === '*' && a === 1) return r;
  return { kind: 'binary', op, left: l, right: r };
}

function suffix(n: number): string {
  return n === 0 ? '' : `_${n}`;
}

function source(doc: Document, loc: SourceSpan): string {
  return doc.source.slice(loc.offset, loc.offset + loc.length);
}

function describe(v: Value): string {
  switch (v.kind) {
    case 'number': return `the number ${v.value}`;
    case 'string': return `the string "${v.value}"`;
    case 'bool': return `${v.value}`;
    case 'list': return `a list of ${v.items.length}`;
    case 'tensor': return `a tensor ${shapeText(v.shape)}`;
    case 'stage': return `the layer '${v.label}'`;
    case 'block': return `the block '${v.decl.name.name}'`;
    case 'model': return `the model '${v.decl.name.name}'`;
    case 'builtin': return `the built-in '${v.name}'`;
    case 'loss': return 'a loss';
    case 'target': return `sharp level ${v.level}`;
    case 'output': return 'a generator output';
    case 'distribution': return 'a distribution';
    case 'augment': return `the augmentation '${v.augment.kind}'`;
    case 'setting': return `${v.name}(...)`;
    case 'poison': return 'an invalid value';
  }
}

function namesIn(e: Expr): string[] {
  const names: string[] = [];
  const stack = [e];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.kind === 'name') names.push(x.name);
    stack.push(...childExpressions(x));
  }
  return names;
}
