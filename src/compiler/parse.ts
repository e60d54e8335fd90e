// Front end: text -> tokens -> concrete syntax tree (Chevrotain) -> AST (this visitor).
import type { CstElement, CstNode, IToken } from 'chevrotain';
import { netcLexer } from '../../grammar/tokens.js';
import { parser } from '../../grammar/parser.js';
import type { Argument, Declaration, Document, Expr, Name, Statement } from './ast.js';
import { DiagnosticBag } from './diagnostics.js';
import type { SourceSpan } from './ir.js';

type Ctx = Record<string, CstElement[] | undefined>;

const BaseVisitor = parser.getBaseCstVisitorConstructor();

function isToken(e: CstElement): e is IToken {
  return (e as IToken).image !== undefined;
}

/** Builds the AST from a CST that parsed without errors. */
class AstBuilder extends BaseVisitor {
  constructor(private readonly file: string) {
    super();
    this.validateVisitor();
  }

  span(first: IToken, last: IToken = first): SourceSpan {
    return {
      file: this.file,
      line: first.startLine ?? 1,
      column: first.startColumn ?? 1,
      endLine: last.endLine ?? first.startLine ?? 1,
      endColumn: last.endColumn ?? first.startColumn ?? 1,
      offset: first.startOffset,
      length: (last.endOffset ?? last.startOffset) - first.startOffset + 1,
    };
  }

  /** The span of a rule's children (Chevrotain passes the children, not the node). */
  ctxSpan(ctx: Ctx): SourceSpan {
    const tokens = collectTokens({ name: '', children: ctx as CstNode['children'] });
    return this.span(tokens[0], tokens[tokens.length - 1]);
  }

  name(token: IToken): Name {
    return { name: token.image, loc: this.span(token) };
  }

  tokens(ctx: Ctx, key: string): IToken[] {
    return (ctx[key] ?? []) as IToken[];
  }

  nodes(ctx: Ctx, key: string): CstNode[] {
    return (ctx[key] ?? []) as CstNode[];
  }

  program(ctx: Ctx): Declaration[] {
    return this.nodes(ctx, 'declaration').map((d) => this.visit(d));
  }

  declaration(ctx: Ctx): Declaration {
    const [child] = Object.values(ctx).flat() as CstNode[];
    return this.visit(child);
  }

  constDecl(ctx: Ctx): Declaration {
    return { kind: 'const', name: this.name(this.tokens(ctx, 'Identifier')[0]), value: this.visit(this.nodes(ctx, 'expression')[0]), loc: this.ctxSpan(ctx) };
  }

  blockDecl(ctx: Ctx): Declaration {
    return {
      kind: 'block',
      name: this.name(this.tokens(ctx, 'Identifier')[0]),
      params: this.nodes(ctx, 'blockParam').map((p) => this.visit(p)),
      body: this.visit(this.nodes(ctx, 'body')[0]),
      loc: this.ctxSpan(ctx),
    };
  }

  blockParam(ctx: Ctx): { name: Name; default?: Expr } {
    const value = this.nodes(ctx, 'expression')[0];
    return { name: this.name(this.tokens(ctx, 'Identifier')[0]), default: value ? this.visit(value) : undefined };
  }

  modelDecl(ctx: Ctx): Declaration {
    return {
      kind: 'model',
      name: this.name(this.tokens(ctx, 'Identifier')[0]),
      inputs: this.nodes(ctx, 'modelInput').map((p) => this.visit(p)),
      body: this.visit(this.nodes(ctx, 'body')[0]),
      loc: this.ctxSpan(ctx),
    };
  }

  modelInput(ctx: Ctx): { name: Name; type: Name } {
    const [name, type] = this.tokens(ctx, 'Identifier');
    return { name: this.name(name), type: this.name(type) };
  }

  lossDecl(ctx: Ctx): Declaration {
    return { kind: 'loss', body: this.visit(this.nodes(ctx, 'body')[0]), loc: this.ctxSpan(ctx) };
  }

  trainDecl(ctx: Ctx): Declaration {
    return { kind: 'train', settings: this.nodes(ctx, 'setting').map((s) => this.visit(s)), loc: this.ctxSpan(ctx) };
  }

  setting(ctx: Ctx): { key: Name; values: Expr[]; loc: SourceSpan } {
    return {
      key: this.name(this.tokens(ctx, 'Identifier')[0]),
      values: this.nodes(ctx, 'expression').map((e) => this.visit(e)),
      loc: this.ctxSpan(ctx),
    };
  }

  body(ctx: Ctx): Statement[] {
    return this.nodes(ctx, 'statement').map((s) => this.visit(s));
  }

  statement(ctx: Ctx): Statement {
    const loc = this.ctxSpan(ctx);
    const value: Expr = this.visit(this.nodes(ctx, 'expression')[0]);
    const target = this.tokens(ctx, 'Identifier')[0];
    if (ctx.Output) return { kind: 'output', target: target ? this.name(target) : undefined, value, loc };
    if (target) return { kind: 'assign', target: this.name(target), value, loc };
    return { kind: 'expr', value, loc };
  }

  /** Left-associative binary operators: operands and operators interleave by position. */
  binaryChain(operands: CstNode[], operators: IToken[]): Expr {
    const ops = [...operators].sort((a, b) => a.startOffset - b.startOffset);
    let result: Expr = this.visit(operands[0]);
    ops.forEach((op, i) => {
      const right: Expr = this.visit(operands[i + 1]);
      result = { kind: 'binary', op: op.image as '+' | '-' | '*' | '/', left: result, right, loc: spanOf(result.loc, right.loc) };
    });
    return result;
  }

  expression(ctx: Ctx): Expr {
    return this.binaryChain(this.nodes(ctx, 'chainExpr'), [...this.tokens(ctx, 'Plus'), ...this.tokens(ctx, 'Minus')]);
  }

  chainExpr(ctx: Ctx): Expr {
    const stages = this.nodes(ctx, 'mulExpr').map((s) => this.visit(s) as Expr);
    return stages.length === 1 ? stages[0] : { kind: 'chain', stages, loc: this.ctxSpan(ctx) };
  }

  mulExpr(ctx: Ctx): Expr {
    return this.binaryChain(this.nodes(ctx, 'unaryExpr'), [...this.tokens(ctx, 'Star'), ...this.tokens(ctx, 'Slash')]);
  }

  unaryExpr(ctx: Ctx): Expr {
    if (ctx.Minus) return { kind: 'negate', operand: this.visit(this.nodes(ctx, 'unaryExpr')[0]), loc: this.ctxSpan(ctx) };
    return this.visit(this.nodes(ctx, 'postfixExpr')[0]);
  }

  postfixExpr(ctx: Ctx): Expr {
    // Postfix operators apply left to right in source order.
    const suffixes = [
      ...this.nodes(ctx, 'expression').map((e) => ({ kind: 'index' as const, node: e, at: collectTokens(e)[0].startOffset })),
      ...this.nodes(ctx, 'count').map((e) => ({ kind: 'repeat' as const, node: e, at: collectTokens(e)[0].startOffset })),
    ].sort((a, b) => a.at - b.at);
    let result: Expr = this.visit(this.nodes(ctx, 'primary')[0]);
    const closers = this.tokens(ctx, 'RBracket');
    let bracket = 0;
    for (const suffix of suffixes) {
      const operand: Expr = this.visit(suffix.node);
      if (suffix.kind === 'index') {
        const close = closers[bracket++];
        result = { kind: 'index', target: result, index: operand, loc: spanOf(result.loc, this.span(close)) };
      } else {
        result = { kind: 'repeat', target: result, count: operand, loc: spanOf(result.loc, operand.loc) };
      }
    }
    return result;
  }

  primary(ctx: Ctx): Expr {
    const loc = this.ctxSpan(ctx);
    const token = (key: string) => this.tokens(ctx, key)[0];
    if (ctx.NumberLiteral) return { kind: 'number', value: Number(token('NumberLiteral').image), loc };
    if (ctx.StringLiteral) return { kind: 'string', value: token('StringLiteral').image.slice(1, -1), loc };
    if (ctx.True) return { kind: 'bool', value: true, loc };
    if (ctx.False) return { kind: 'bool', value: false, loc };
    if (ctx.Identifier) return { kind: 'name', name: token('Identifier').image, loc };
    const [child] = Object.values(ctx).flat() as CstNode[];
    return this.visit(child);
  }

  reduceExpr(ctx: Ctx): Expr {
    const fn = this.tokens(ctx, 'fn')[0];
    return {
      kind: 'reduce',
      fn: fn.image,
      fnLoc: this.span(fn),
      variable: this.name(this.tokens(ctx, 'variable')[0]),
      over: this.visit(this.nodes(ctx, 'range')[0]),
      body: this.visit(this.nodes(ctx, 'postfixExpr')[0]),
      loc: this.ctxSpan(ctx),
    };
  }

  range(ctx: Ctx): Expr {
    return { kind: 'range', from: this.visit(this.nodes(ctx, 'from')[0]), to: this.visit(this.nodes(ctx, 'to')[0]), loc: this.ctxSpan(ctx) };
  }

  callExpr(ctx: Ctx): Expr {
    const callee = this.tokens(ctx, 'Identifier')[0];
    return {
      kind: 'call',
      callee: callee.image,
      calleeLoc: this.span(callee),
      args: this.nodes(ctx, 'argument').map((a) => this.visit(a)),
      loc: this.ctxSpan(ctx),
    };
  }

  argument(ctx: Ctx): Argument {
    const name = this.tokens(ctx, 'Identifier')[0];
    return { name: name ? this.name(name) : undefined, value: this.visit(this.nodes(ctx, 'expression')[0]), loc: this.ctxSpan(ctx) };
  }

  parenExpr(ctx: Ctx): Expr {
    const items = this.nodes(ctx, 'expression').map((e) => this.visit(e) as Expr);
    if (items.length === 1) return items[0];
    return { kind: 'tuple', items, loc: this.ctxSpan(ctx) };
  }

  listExpr(ctx: Ctx): Expr {
    return { kind: 'list', items: this.nodes(ctx, 'expression').map((e) => this.visit(e)), loc: this.ctxSpan(ctx) };
  }

  forExpr(ctx: Ctx): Expr {
    const over = this.nodes(ctx, 'range')[0] ?? this.nodes(ctx, 'expression')[0];
    return {
      kind: 'for',
      variables: this.tokens(ctx, 'Identifier').map((t) => this.name(t)),
      over: this.visit(over),
      body: this.visit(this.nodes(ctx, 'body')[0]),
      loc: this.ctxSpan(ctx),
    };
  }

  coarseToFineExpr(ctx: Ctx): Expr {
    return {
      kind: 'coarseToFine',
      levels: this.visit(this.nodes(ctx, 'expression')[0]),
      cases: this.nodes(ctx, 'ctfCase').map((c) => this.visit(c)),
      loc: this.ctxSpan(ctx),
    };
  }

  ctfCase(ctx: Ctx) {
    return {
      which: this.name(this.tokens(ctx, 'which')[0]),
      params: this.tokens(ctx, 'param').map((t) => this.name(t)),
      body: this.visit(this.nodes(ctx, 'expression')[0]),
      loc: this.ctxSpan(ctx),
    };
  }
}

function collectTokens(node: CstNode): IToken[] {
  const out: IToken[] = [];
  const walk = (n: CstNode) => {
    for (const children of Object.values(n.children)) {
      for (const child of children) {
        if (isToken(child)) out.push(child);
        else walk(child);
      }
    }
  };
  walk(node);
  return out.sort((a, b) => a.startOffset - b.startOffset);
}

function spanOf(a: SourceSpan, b: SourceSpan): SourceSpan {
  return { ...a, endLine: b.endLine, endColumn: b.endColumn, length: b.offset + b.length - a.offset };
}

/** Parses `source`; syntax errors go to `diagnostics` (all of them, with recovery). */
export function parseDocument(source: string, file: string, diagnostics: DiagnosticBag): Document | undefined {
  const lexed = netcLexer.tokenize(source);
  for (const e of lexed.errors) {
    const loc: SourceSpan = { file, line: e.line ?? 1, column: e.column ?? 1, endLine: e.line ?? 1, endColumn: e.column ?? 1, offset: e.offset, length: e.length };
    const text = source.slice(e.offset, e.offset + e.length);
    diagnostics.error(text.startsWith('"') ? 'unterminated string (a string ends on the same line)' : `unexpected character '${text}'`, loc);
  }
  parser.input = lexed.tokens;
  const cst = parser.program();
  let lastLine = -1;
  for (const e of parser.errors) {
    const t = e.token;
    // After a syntax error the parser resynchronizes; a second error on the same line is
    // almost always a consequence of the first.
    if (t.startLine === lastLine) continue;
    lastLine = t.startLine ?? -1;
    const atEnd = t.tokenType.name === 'EOF' || Number.isNaN(t.startOffset);
    const last = lexed.tokens[lexed.tokens.length - 1];
    const anchor = atEnd && last ? last : t;
    const loc: SourceSpan = atEnd && !last
      ? { file, line: 1, column: 1, endLine: 1, endColumn: 1, offset: 0, length: 1 }
      : {
          file, line: anchor.startLine ?? 1, column: anchor.startColumn ?? 1, endLine: anchor.endLine ?? 1,
          endColumn: anchor.endColumn ?? 1, offset: anchor.startOffset, length: anchor.image.length,
        };
    diagnostics.error(e.message, loc);
  }
  if (lexed.errors.length || parser.errors.length) return undefined;
  return { file, source, declarations: new AstBuilder(file).visit(cst) };
}
