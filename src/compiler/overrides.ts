// The rule for a top-level constant override, one for every place a value can come from:
// `--set NAME=VALUE` on the command line and the `set` a checkpoint records (model.json's
// netc.set). Whether the file has that constant, and whether the value is usable (repeat
// counts, sizes: src/compiler/limits.ts), the compiler checks next, at the constant's uses.

/** What a constant's name looks like (the language's identifiers). */
export const OVERRIDE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why `name = value` cannot be an override, or undefined when it can. */
export function overrideProblem(name: string, value: unknown): string | undefined {
  if (!OVERRIDE_NAME.test(name)) return `'${name.slice(0, 64)}' is not a constant name`;
  if (typeof value !== 'number' || !Number.isFinite(value)) return `'${String(value).slice(0, 64)}' is not a number`;
  return undefined;
}
