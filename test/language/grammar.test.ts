// The grammar itself: Chevrotain's validations (ambiguities, left recursion) pass, and the
// committed syntax diagrams are generated from the current grammar.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diagramsHtml } from '../../grammar/diagrams.js';
import { NetcParser } from '../../grammar/parser.js';

describe('grammar', () => {
  it('passes Chevrotain self-analysis with validations on', () => {
    expect(process.env.NETC_VALIDATE_GRAMMAR).toBe('1');
    expect(() => new NetcParser()).not.toThrow();
  });

  it('grammar/diagrams.html is up to date (npm run diagrams)', () => {
    expect(readFileSync('grammar/diagrams.html', 'utf8')).toBe(diagramsHtml());
  });

  it('the diagrams show every rule', () => {
    const html = diagramsHtml();
    for (const rule of ['program', 'blockDecl', 'modelDecl', 'lossDecl', 'trainDecl', 'statement', 'chainExpr', 'postfixExpr', 'reduceExpr', 'forExpr', 'coarseToFineExpr']) {
      expect(html).toContain(`"name": "${rule}"`);
    }
  });
});
