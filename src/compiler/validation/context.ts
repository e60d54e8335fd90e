// What a validation rule sees: the document, its name resolution, and where to report.
import type { Document } from '../ast.js';
import type { DiagnosticBag } from '../diagnostics.js';
import type { Resolution } from './resolve.js';

export interface ValidationContext {
  doc: Document;
  names: Resolution;
  report: DiagnosticBag;
}

export type ValidationRule = (context: ValidationContext) => void;
