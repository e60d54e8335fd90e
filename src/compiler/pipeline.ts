// The compiler pipeline on source text, free of Node-only modules so that the browser
// playground (src/web/) runs the very same checks as the CLI. The caller supplies the
// sha256 function (node:crypto in src/compiler/index.ts, @noble/hashes in the page).
// Pipeline: parse (grammar/) -> AST -> validate (one rule per file) -> elaborate (shapes,
// IR) -> fuse (schedule). `debug` prints each stage (NETC_DEBUG=1..3 on the CLI).
import { UserError } from '../errors.js';
import { CompileError, DiagnosticBag, type Diagnostic } from './diagnostics.js';
import { elaborate } from './elaborate.js';
import { fuseGraph } from './fuse.js';
import type { Program } from './ir.js';
import { parseDocument } from './parse.js';
import type { Document } from './ast.js';
import { validate } from './validation/index.js';

export interface CompileOptions {
  /** [H, W] of the generator input; default 256x256. */
  input?: [number, number];
  /** Top-level constant overrides (`--set blocks=9`). */
  set?: Record<string, number>;
  /** Run the fusion pass (default true). */
  fuse?: boolean;
  /** Called with each stage's result: 'ast', 'ir', 'fused'. */
  debug?: (stage: string, value: unknown) => void;
}

export interface CompileResult {
  program: Program;
  /** Warnings (errors throw CompileError). */
  diagnostics: Diagnostic[];
  source: string;
}

/** Hex sha256 of a text (Program.sourceHash, which checkpoints record). */
export type Sha256Hex = (text: string) => string;

export function compileSourceWith(sha256: Sha256Hex, source: string, file: string, options: CompileOptions = {}): CompileResult {
  const report = new DiagnosticBag();
  const doc = parseDocument(source, file, report);
  if (doc) {
    options.debug?.('ast', doc.declarations);
    validate(doc, report);
  }
  const fail = () => new CompileError(report.sorted(), source);
  if (!doc) throw fail();
  checkOverrides(doc, options.set ?? {});
  // Elaboration runs even after validation errors (their values become poison), so shape
  // and type errors elsewhere in the file are reported in the same run.
  const input = options.input ?? [256, 256];
  let program = elaborate(doc, { input, set: options.set ?? {}, sourceHash: sha256(source) }, report);
  if (!program || report.hasErrors) throw fail();
  options.debug?.('ir', program);
  if (options.fuse !== false) {
    program = { ...program, models: Object.fromEntries(Object.entries(program.models).map(([k, g]) => [k, fuseGraph(g)])) };
    options.debug?.('fused', program);
  }
  return { program, diagnostics: report.sorted(), source };
}

/** `--set NAME=VALUE` must name a top-level constant of the file. */
function checkOverrides(doc: Document, set: Record<string, number>): void {
  const constants = doc.declarations.flatMap((d) => (d.kind === 'const' ? [d.name.name] : []));
  for (const name of Object.keys(set)) {
    if (!constants.includes(name)) {
      const known = constants.length ? `its constants: ${constants.join(', ')}` : 'it has no constants';
      throw new UserError(`--set ${name}=${set[name]}: ${doc.file} has no top-level constant '${name}' (${known})`);
    }
  }
}
