// A constant may not be defined in terms of itself, directly or through other constants.
import { constantOrder } from '../constant-order.js';
import type { ValidationRule } from './context.js';

export const NoCyclicConstants: ValidationRule = ({ doc, report }) => {
  for (const step of constantOrder(doc.declarations)) {
    if (step.selfReferent) report.error(`constant '${step.decl.name.name}' is defined in terms of itself`, step.decl.name.loc);
  }
};
