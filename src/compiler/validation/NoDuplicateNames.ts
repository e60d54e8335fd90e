// A name is defined once per scope: constants, blocks and models share the top level.
import type { ValidationRule } from './context.js';

export const NoDuplicateNames: ValidationRule = ({ names, report }) => {
  for (const { definition, previous } of names.duplicates) {
    const where = previous.loc ? ` (first defined at line ${previous.loc.line})` : '';
    report.error(`'${definition.name}' is already defined${where}`, definition.loc!);
  }
};
