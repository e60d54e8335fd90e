// Validation: every rule runs over the whole document and reports all it finds.
import type { Document } from '../ast.js';
import type { DiagnosticBag } from '../diagnostics.js';
import type { ValidationRule } from './context.js';
import { CoarseToFineCases } from './CoarseToFineCases.js';
import { KnownArguments } from './KnownArguments.js';
import { KnownReductions } from './KnownReductions.js';
import { NoCyclicConstants } from './NoCyclicConstants.js';
import { NoDuplicateNames } from './NoDuplicateNames.js';
import { NoRecursiveBlocks } from './NoRecursiveBlocks.js';
import { NoUndefinedNames } from './NoUndefinedNames.js';
import { NoUnusedValues } from './NoUnusedValues.js';
import { resolve } from './resolve.js';
import { SectionStructure } from './SectionStructure.js';

export const rules: ValidationRule[] = [
  SectionStructure, NoDuplicateNames, NoUndefinedNames, KnownArguments, NoRecursiveBlocks, NoCyclicConstants, CoarseToFineCases, KnownReductions, NoUnusedValues,
];

export function validate(doc: Document, report: DiagnosticBag): void {
  const names = resolve(doc);
  for (const rule of rules) rule({ doc, names, report });
}
