// The netc syntax tree: what the file says, with a source span on every node.
import type { SourceSpan } from './ir.js';

export type Expr =
  | { kind: 'number'; value: number; loc: SourceSpan }
  | { kind: 'string'; value: string; loc: SourceSpan }
  | { kind: 'bool'; value: boolean; loc: SourceSpan }
  | { kind: 'name'; name: string; loc: SourceSpan }
  | { kind: 'call'; callee: string; calleeLoc: SourceSpan; args: Argument[]; loc: SourceSpan }
  | { kind: 'index'; target: Expr; index: Expr; loc: SourceSpan }
  | { kind: 'repeat'; target: Expr; count: Expr; loc: SourceSpan }
  | { kind: 'binary'; op: '+' | '-' | '*' | '/'; left: Expr; right: Expr; loc: SourceSpan }
  | { kind: 'negate'; operand: Expr; loc: SourceSpan }
  /** a -> b -> c */
  | { kind: 'chain'; stages: Expr[]; loc: SourceSpan }
  | { kind: 'tuple'; items: Expr[]; loc: SourceSpan }
  | { kind: 'list'; items: Expr[]; loc: SourceSpan }
  | { kind: 'range'; from: Expr; to: Expr; loc: SourceSpan }
  | { kind: 'reduce'; fn: string; fnLoc: SourceSpan; variable: Name; over: Expr; body: Expr; loc: SourceSpan }
  | { kind: 'for'; variables: Name[]; over: Expr; body: Statement[]; loc: SourceSpan }
  | { kind: 'coarseToFine'; levels: Expr; cases: CoarseToFineCase[]; loc: SourceSpan };

export interface Name { name: string; loc: SourceSpan }
export interface Argument { name?: Name; value: Expr; loc: SourceSpan }
export interface CoarseToFineCase { which: Name; params: Name[]; body: Expr; loc: SourceSpan }

export type Statement =
  | { kind: 'assign'; target: Name; value: Expr; loc: SourceSpan }
  | { kind: 'output'; target?: Name; value: Expr; loc: SourceSpan }
  | { kind: 'expr'; value: Expr; loc: SourceSpan };

export type Declaration =
  | { kind: 'const'; name: Name; value: Expr; loc: SourceSpan }
  | { kind: 'block'; name: Name; params: { name: Name; default?: Expr }[]; body: Statement[]; loc: SourceSpan }
  | { kind: 'model'; name: Name; inputs: { name: Name; type: Name }[]; body: Statement[]; loc: SourceSpan }
  | { kind: 'loss'; body: Statement[]; loc: SourceSpan }
  | { kind: 'train'; settings: { key: Name; values: Expr[]; loc: SourceSpan }[]; loc: SourceSpan };

export interface Document {
  file: string;
  source: string;
  declarations: Declaration[];
}

/** The expressions directly inside `e` (a `for` body's statements included), so that
 *  passes over the tree need no switch of their own. */
export function childExpressions(e: Expr): Expr[] {
  switch (e.kind) {
    case 'call': return e.args.map((a) => a.value);
    case 'index': return [e.target, e.index];
    case 'repeat': return [e.target, e.count];
    case 'binary': return [e.left, e.right];
    case 'negate': return [e.operand];
    case 'chain': return e.stages;
    case 'tuple': case 'list': return e.items;
    case 'range': return [e.from, e.to];
    case 'reduce': return [e.over, e.body];
    case 'for': return [e.over, ...e.body.map((s) => s.value)];
    case 'coarseToFine': return [e.levels, ...e.cases.map((c) => c.body)];
    default: return [];
  }
}

/** Every expression of a declaration (its own and nested ones), depth first. */
export function* expressionsOf(d: Declaration): Generator<Expr> {
  const roots: Expr[] = d.kind === 'const' ? [d.value]
    : d.kind === 'block' ? [...d.params.flatMap((p) => (p.default ? [p.default] : [])), ...d.body.map((s) => s.value)]
    : d.kind === 'train' ? d.settings.flatMap((s) => s.values)
    : d.body.map((s) => s.value);
  const stack = [...roots].reverse();
  while (stack.length) {
    const e = stack.pop()!;
    yield e;
    stack.push(...[...childExpressions(e)].reverse()); // copy: some children are the node's own arrays
  }
}
