// Every name refers to something visible: a constant, block, model, built-in, parameter,
// input, or a value assigned earlier in the same body.
import { suggest } from '../builtins.js';
import type { ValidationRule } from './context.js';

export const NoUndefinedNames: ValidationRule = ({ names, report }) => {
  for (const ref of names.references) {
    if (ref.definition) continue;
    const what = ref.called ? 'layer, block or function' : 'name';
    report.error(`unknown ${what} '${ref.name}'${suggest(ref.name, ref.visible())}`, ref.loc);
  }
};
