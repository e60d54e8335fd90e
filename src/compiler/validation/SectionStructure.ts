// File structure: at least one model, at most one loss and one train section, known train
// settings given once (one value each, but a list for augment), known model input types,
// every model has an output, a block ends in a result, each line of the loss section names
// a term.
import { INPUT_TYPES, TRAIN_SETTINGS, suggest } from '../builtins.js';
import type { ValidationRule } from './context.js';

export const SectionStructure: ValidationRule = ({ doc, report }) => {
  if (!doc.declarations.some((d) => d.kind === 'model')) {
    report.error('the file defines no model', { file: doc.file, line: 1, column: 1, endLine: 1, endColumn: 1, offset: 0, length: 1 });
  }
  const seen = new Map<string, number>();
  for (const d of doc.declarations) {
    if (d.kind === 'loss' || d.kind === 'train') {
      if (seen.has(d.kind)) report.error(`a file has one '${d.kind}' section; another one starts at line ${seen.get(d.kind)}`, d.loc);
      else seen.set(d.kind, d.loc.line);
    }
    if (d.kind === 'model') {
      for (const input of d.inputs) {
        if (!Object.hasOwn(INPUT_TYPES, input.type.name)) report.error(`unknown input type '${input.type.name}' (known: ${Object.keys(INPUT_TYPES).join(', ')})`, input.type.loc);
      }
      if (!d.body.some((s) => s.kind === 'output')) report.error(`model '${d.name.name}' has no output statement`, d.name.loc);
    }
    if (d.kind === 'block') {
      const last = d.body[d.body.length - 1];
      if (!last) report.error(`block '${d.name.name}' is empty`, d.name.loc);
      else if (last.kind === 'output') report.error(`'output' belongs in a model; a block's result is its last line`, last.loc);
    }
    if (d.kind === 'loss') {
      for (const s of d.body) if (s.kind !== 'assign') report.error(`each line of the loss section names a term: 'name = ...'`, s.loc);
    }
    if (d.kind === 'train') {
      const keys = new Set<string>();
      for (const s of d.settings) {
        if (!Object.hasOwn(TRAIN_SETTINGS, s.key.name)) report.error(`unknown train setting '${s.key.name}'${suggest(s.key.name, Object.keys(TRAIN_SETTINGS))}`, s.key.loc);
        else if (keys.has(s.key.name)) report.error(`train setting '${s.key.name}' is given twice`, s.key.loc);
        else if (!TRAIN_SETTINGS[s.key.name].list && s.values.length !== 1) report.error(`train setting '${s.key.name}' takes one value`, s.loc);
        keys.add(s.key.name);
      }
    }
  }
};
