// Name resolution shared by the validation rules: which definition each name refers to.
// Scopes are lexical; within a body a name must be assigned before it is used.
import type { Declaration, Document, Expr, Statement } from '../ast.js';
import { BUILTINS, LOSS_NAMES } from '../builtins.js';
import type { SourceSpan } from '../ir.js';

export type DefinitionKind = 'constant' | 'block' | 'model' | 'parameter' | 'input' | 'value' | 'variable' | 'builtin' | 'output';

export interface Definition {
  name: string;
  kind: DefinitionKind;
  loc?: SourceSpan;
  uses: number;
}

export interface Reference {
  name: string;
  loc: SourceSpan;
  /** Undefined when nothing visible has that name. */
  definition?: Definition;
  /** The name was called: `name(...)`. */
  called: boolean;
  /** Names visible at the reference, for suggestions. */
  visible: () => string[];
}

export interface Resolution {
  definitions: Definition[];
  references: Reference[];
  /** Top-level definitions by name (first one wins). */
  globals: Map<string, Definition>;
  /** Definitions that collide with an earlier one in the same scope. */
  duplicates: { definition: Definition; previous: Definition }[];
}

class Scope {
  readonly names = new Map<string, Definition>();
  constructor(readonly parent?: Scope) {}
  lookup(name: string): Definition | undefined {
    return this.names.get(name) ?? this.parent?.lookup(name);
  }
  all(): string[] {
    return [...this.names.keys(), ...(this.parent?.all() ?? [])];
  }
}

export function resolve(doc: Document): Resolution {
  const result: Resolution = { definitions: [], references: [], globals: new Map(), duplicates: [] };
  const builtins = new Scope();
  for (const name of Object.keys(BUILTINS)) builtins.names.set(name, { name, kind: 'builtin', uses: 0 });
  const globals = new Scope(builtins);

  const define = (scope: Scope, name: string, kind: DefinitionKind, loc?: SourceSpan): Definition => {
    const def: Definition = { name, kind, loc, uses: 0 };
    const previous = scope.names.get(name);
    if (previous && previous.kind !== 'builtin') result.duplicates.push({ definition: def, previous });
    else scope.names.set(name, def);
    result.definitions.push(def);
    return def;
  };
  const refer = (scope: Scope, name: string, loc: SourceSpan, called: boolean) => {
    const definition = scope.lookup(name);
    if (definition) definition.uses++;
    // Suggestions may only name what is visible here, so take the snapshot now.
    const visible = definition ? [] : scope.all();
    result.references.push({ name, loc, definition, called, visible: () => visible });
  };

  // Blocks and models may be used before (above) their definition; constants too, since
  // they are all evaluated before any model.
  for (const d of doc.declarations) {
    if (d.kind === 'const') define(globals, d.name.name, 'constant', d.name.loc);
    if (d.kind === 'block') define(globals, d.name.name, 'block', d.name.loc);
    if (d.kind === 'model') define(globals, d.name.name, 'model', d.name.loc);
  }
  for (const [name, def] of globals.names) result.globals.set(name, def);
  // Model outputs are visible in the loss section.
  const outputs = new Scope(globals);
  for (const d of doc.declarations) {
    if (d.kind !== 'model') continue;
    for (const s of d.body) {
      if (s.kind === 'output') {
        const name = s.target?.name ?? (s.value.kind === 'name' ? s.value.name : undefined);
        if (name && !outputs.names.has(name)) outputs.names.set(name, { name, kind: 'output', loc: s.target?.loc, uses: 0 });
      }
    }
  }

  const expr = (scope: Scope, e: Expr): void => {
    switch (e.kind) {
      case 'number': case 'string': case 'bool': return;
      case 'name': return refer(scope, e.name, e.loc, false);
      case 'call':
        refer(scope, e.callee, e.calleeLoc, true);
        for (const a of e.args) expr(scope, a.value);
        return;
      case 'index': expr(scope, e.target); expr(scope, e.index); return;
      case 'repeat': expr(scope, e.target); expr(scope, e.count); return;
      case 'binary': expr(scope, e.left); expr(scope, e.right); return;
      case 'negate': expr(scope, e.operand); return;
      case 'chain': e.stages.forEach((s) => expr(scope, s)); return;
      case 'tuple': case 'list': e.items.forEach((s) => expr(scope, s)); return;
      case 'range': expr(scope, e.from); expr(scope, e.to); return;
      case 'reduce': {
        expr(scope, e.over);
        const inner = new Scope(scope);
        define(inner, e.variable.name, 'variable', e.variable.loc);
        expr(inner, e.body);
        return;
      }
      case 'for': {
        expr(scope, e.over);
        const inner = new Scope(scope);
        inner.names.set('input', { name: 'input', kind: 'input', uses: 0 });
        for (const v of e.variables) define(inner, v.name, 'variable', v.loc);
        body(inner, e.body);
        return;
      }
      case 'coarseToFine': {
        expr(scope, e.levels);
        for (const c of e.cases) {
          const inner = new Scope(scope);
          for (const p of c.params) define(inner, p.name, 'parameter', p.loc);
          expr(inner, c.body);
        }
      }
    }
  };
  // Assignments in the loss section are loss terms: logged, so never 'unused'.
  const body = (scope: Scope, statements: Statement[], kind: DefinitionKind = 'value') => {
    for (const s of statements) {
      expr(scope, s.value);
      if (s.kind === 'assign') define(scope, s.target.name, kind, s.target.loc);
    }
  };

  for (const d of doc.declarations) declaration(d);
  function declaration(d: Declaration) {
    switch (d.kind) {
      case 'const': return expr(globals, d.value);
      case 'block': {
        const scope = new Scope(globals);
        scope.names.set('input', { name: 'input', kind: 'input', uses: 0 });
        for (const p of d.params) {
          if (p.default) expr(globals, p.default);
          define(scope, p.name.name, 'parameter', p.name.loc);
        }
        return body(scope, d.body);
      }
      case 'model': {
        const scope = new Scope(globals);
        for (const i of d.inputs) define(scope, i.name.name, 'input', i.name.loc);
        return body(scope, d.body);
      }
      case 'loss': {
        const scope = new Scope(outputs);
        for (const name of LOSS_NAMES) scope.names.set(name, { name, kind: 'input', uses: 0 });
        return body(scope, d.body, 'output');
      }
      case 'train':
        for (const s of d.settings) s.values.forEach((v) => expr(globals, v));
    }
  }
  return result;
}
