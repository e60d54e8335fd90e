// The values of the language during elaboration, and the state one elaboration shares
// across its parts (expressions, stages, built-in functions, loss and train lowering).
// Values flow as in the language: numbers, tensors (with inferred shapes), lists, stages
// (things a tensor can be sent through with `->`). After an error a value becomes `poison`,
// so one mistake is reported once.
import type { Declaration, Document, Expr } from '../ast.js';
import type { DiagnosticBag } from '../diagnostics.js';
import { shapeText, type Poison, type Scope, type Site, type Tensor } from '../graph-builder.js';
import type { Augmentation, Graph, GraphValue, LossExpr, SourceSpan } from '../ir.js';

export type Value =
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'list'; items: Value[] }
  | Tensor
  | Stage
  | { kind: 'block'; decl: BlockDecl }
  | { kind: 'model'; decl: Extract<Declaration, { kind: 'model' }> }
  | { kind: 'builtin'; name: string }
  | { kind: 'loss'; expr: LossExpr }
  | { kind: 'target'; level: number }
  | { kind: 'output'; index: number }
  | { kind: 'distribution'; mean: number; std: number }
  | { kind: 'augment'; augment: Augmentation }
  | { kind: 'setting'; name: string; args: Record<string, unknown> }
  | Poison;

/** Something a tensor can be sent through: a layer, a block instance, a composition. */
export interface Stage { kind: 'stage'; label: string; apply: (x: Tensor, at: Site) => Value }

export type BlockDecl = Extract<Declaration, { kind: 'block' }>;
export type CallExpr = Extract<Expr, { kind: 'call' }>;

export type Env = Map<string, Value>;

export interface EvalContext { env: Env; scope: Scope }

export interface ElaborateOptions {
  input: [number, number];
  set: Record<string, number>;
  sourceHash: string;
}

/** What the parts of one elaboration share. */
export interface Elaboration {
  readonly doc: Document;
  readonly options: ElaborateOptions;
  readonly report: DiagnosticBag;
  /** Built-ins, blocks, models and constants by name. */
  readonly globals: Env;
  /** Top-level constants after --set overrides. */
  readonly constants: Record<string, number>;
  readonly models: Map<string, Graph>;
  /** Blocks being elaborated (a recursive use becomes poison; NoRecursiveBlocks reports it). */
  readonly blockStack: string[];
  generatorOutputs: GraphValue[];
  discriminator?: string;
  /** Expressions evaluated so far (LIMITS.evaluationSteps). */
  steps: number;
}

/** The value in words, for messages: "the number 3", "a tensor 64x64x3". */
export function describe(v: Value): string {
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

/** The source text of a span. */
export function sourceText(doc: Document, loc: SourceSpan): string {
  return doc.source.slice(loc.offset, loc.offset + loc.length);
}

/** '' for the first use of a name in a scope, '_1' for the second, ... */
export function suffix(n: number): string {
  return n === 0 ? '' : `_${n}`;
}
