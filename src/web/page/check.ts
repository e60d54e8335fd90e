// Checking the editor's text with netc's own compiler pipeline (the same code and messages
// as `netc compile`), hashing with @noble/hashes instead of node:crypto.
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { CompileError, type Diagnostic } from '../../compiler/diagnostics.js';
import { compileSourceWith, type CompileResult } from '../../compiler/pipeline.js';
import { UserError } from '../../errors.js';

const sha256Hex = (text: string) => bytesToHex(sha256(utf8ToBytes(text)));

export type Checked =
  | { ok: true; result: CompileResult; diagnostics: Diagnostic[] }
  /** `problem`: an error that is not about a place in the text (a bad --set, a crash). */
  | { ok: false; diagnostics: Diagnostic[]; problem?: string };

export function check(text: string, file: string, set: Record<string, number>, input: [number, number]): Checked {
  try {
    const result = compileSourceWith(sha256Hex, text, file, { set, input });
    return { ok: true, result, diagnostics: result.diagnostics };
  } catch (err) {
    if (err instanceof CompileError) return { ok: false, diagnostics: err.diagnostics };
    if (err instanceof UserError) return { ok: false, diagnostics: [], problem: err.message };
    return { ok: false, diagnostics: [], problem: `internal error (please report): ${(err as Error).stack ?? String(err)}` };
  }
}
