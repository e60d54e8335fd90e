// Warns about values that are assigned and never used: usually a typo or a forgotten edge.
import { TRAIN_CONSTANTS } from '../builtins.js';
import type { ValidationRule } from './context.js';

export const NoUnusedValues: ValidationRule = ({ names, report }) => {
  for (const def of names.definitions) {
    if (!def.loc || def.uses > 0) continue;
    if (def.kind === 'value') report.warning(`'${def.name}' is assigned but never used`, def.loc);
    if (def.kind === 'constant' && !TRAIN_CONSTANTS.includes(def.name)) report.warning(`constant '${def.name}' is never used`, def.loc);
    if (def.kind === 'block') report.warning(`block '${def.name}' is never used`, def.loc);
  }
};
