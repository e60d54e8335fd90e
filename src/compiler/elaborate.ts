// Elaboration: evaluates the checked document for one input size, building the IR graphs.
// This module runs it: constants (in constant-order.ts's order, --set applied), the models
// (the first is the generator; the others are compiled on its finest output size), then
// the loss and train sections. The parts live in elaborate/: values.ts (the value model and
// shared state), expressions.ts, stages.ts, calls.ts (built-ins), loss.ts, train.ts; graphs
// are built by graph-builder.ts. Shape and type errors are reported at the expression that
// caused them; checks that need no evaluation are validation rules (validation/).
import type { Declaration, Document } from './ast.js';
import { BUILTINS, INPUT_TYPES } from './builtins.js';
import { constantOrder } from './constant-order.js';
import type { DiagnosticBag } from './diagnostics.js';
import { evaluate, tensorList } from './elaborate/expressions.js';
import { lowerLoss } from './elaborate/loss.js';
import { lowerTrain } from './elaborate/train.js';
import type { Elaboration, ElaborateOptions, Env, EvalContext } from './elaborate/values.js';
import { GraphBuilder, POISON, Scope } from './graph-builder.js';
import type { Graph, GraphValue, Program } from './ir.js';

export type { ElaborateOptions };

type ModelDecl = Extract<Declaration, { kind: 'model' }>;

export function elaborate(doc: Document, options: ElaborateOptions, report: DiagnosticBag): Program | undefined {
  const el: Elaboration = {
    doc, options, report, globals: new Map(), constants: {}, models: new Map(), blockStack: [], generatorOutputs: [], steps: 0,
  };
  for (const name of Object.keys(BUILTINS)) el.globals.set(name, { kind: 'builtin', name });
  for (const d of doc.declarations) {
    if (d.kind === 'block') el.globals.set(d.name.name, { kind: 'block', decl: d });
    if (d.kind === 'model') el.globals.set(d.name.name, { kind: 'model', decl: d });
  }
  evaluateConstants(el);
  const modelDecls = doc.declarations.filter((d): d is ModelDecl => d.kind === 'model');
  if (modelDecls.length === 0) return undefined; // reported by validation (SectionStructure)
  const [h, w] = options.input;
  const generator = model(el, modelDecls[0], [h, w]);
  el.generatorOutputs = generator?.outputs ?? [];
  const finest = el.generatorOutputs[0]?.shape;
  for (const decl of modelDecls.slice(1)) model(el, decl, finest ? [finest[1], finest[2]] : [h, w]);

  const lossDecl = doc.declarations.find((d) => d.kind === 'loss');
  const loss = lossDecl && generator ? lowerLoss(el, lossDecl) : undefined;
  const trainDecl = doc.declarations.find((d) => d.kind === 'train');
  const train = trainDecl ? lowerTrain(el, trainDecl) : undefined;
  if (report.hasErrors) return undefined;
  return {
    file: doc.file,
    sourceHash: options.sourceHash,
    constants: el.constants,
    overrides: options.set,
    inputSize: options.input,
    models: Object.fromEntries(el.models),
    generator: modelDecls[0].name.name,
    discriminator: el.discriminator,
    loss,
    train,
  };
}

/** Constants, each after those it names; a self-referent one is poison (NoCyclicConstants
 *  reports it); `--set` replaces a constant's value. */
function evaluateConstants(el: Elaboration): void {
  for (const { decl, selfReferent } of constantOrder(el.doc.declarations)) {
    const name = decl.name.name;
    if (selfReferent) {
      el.globals.set(name, POISON);
      continue;
    }
    let value = evaluate(el, decl.value, { env: el.globals, scope: new Scope([], []) });
    if (name in el.options.set) value = { kind: 'number', value: el.options.set[name] };
    if (value.kind === 'number') el.constants[name] = value.value;
    el.globals.set(name, value);
  }
}

function model(el: Elaboration, decl: ModelDecl, size: [number, number]): Graph | undefined {
  const graph = new GraphBuilder(decl.name.name, el.report);
  const env: Env = new Map(el.globals);
  for (const input of decl.inputs) {
    const channels = Object.hasOwn(INPUT_TYPES, input.type.name) ? INPUT_TYPES[input.type.name] : 3;
    env.set(input.name.name, graph.input(input.name.name, [1, size[0], size[1], channels], input.name.loc));
  }
  const outputs: GraphValue[] = [];
  const ctx: EvalContext = { env, scope: new Scope([], []) };
  for (const s of decl.body) {
    const value = evaluate(el, s.value, ctx);
    if (s.kind === 'assign') env.set(s.target.name, value);
    if (s.kind !== 'output') continue;
    const name = s.target?.name ?? (s.value.kind === 'name' ? s.value.name : `output${outputs.length}`);
    const tensors = tensorList(el, value, s.value.loc, 'an output');
    if (!tensors) continue;
    if (value.kind === 'list') tensors.forEach((t, i) => outputs.push({ name: `${name}[${i}]`, id: t.id, shape: t.shape }));
    else outputs.push({ name, id: tensors[0].id, shape: tensors[0].shape });
  }
  const finished = graph.finish(outputs);
  el.models.set(decl.name.name, finished);
  return finished;
}
