// The order in which top-level constants are evaluated: each after the constants it names
// (constants may refer to constants defined anywhere in the file). A constant reached again
// while its own definition is being evaluated is self-referent: validation reports it
// (NoCyclicConstants), elaboration makes it poison at that point.
import type { Declaration } from './ast.js';
import { childExpressions, type Expr } from './ast.js';

type ConstDecl = Extract<Declaration, { kind: 'const' }>;

export interface ConstantStep {
  decl: ConstDecl;
  /** Reached again through its own definition: poison from here on. */
  selfReferent: boolean;
}

export function constantOrder(declarations: Declaration[]): ConstantStep[] {
  const consts = declarations.filter((d): d is ConstDecl => d.kind === 'const');
  const pending = new Map(consts.map((c) => [c.name.name, c]));
  const evaluating = new Set<string>();
  const steps: ConstantStep[] = [];
  const visit = (name: string): void => {
    const decl = pending.get(name);
    if (!decl) return;
    if (evaluating.has(name)) {
      steps.push({ decl, selfReferent: true });
      pending.delete(name);
      return;
    }
    evaluating.add(name);
    for (const dep of namesIn(decl.value)) if (pending.has(dep)) visit(dep);
    pending.delete(name);
    steps.push({ decl, selfReferent: false });
  };
  for (const c of consts) visit(c.name.name);
  return steps;
}

/** Every name an expression mentions, innermost last. */
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
