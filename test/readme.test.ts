// The README's figures are what netc prints: the `netc compile` transcript under "What
// `netc compile` reports for DeepDeblur" (every line but the '...' elisions, in order, the
// receptive fields 1166/998/662 px and the 65.0 MiB peak included) is run and compared.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, netc } from './helpers/spawn-cli.js';

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The transcript of a `$ npx netc ...` line in a README code block: the command and the lines after it. */
function transcript(command: string): string[] {
  const blocks = README.split('```').filter((_, i) => i % 2 === 1);
  const block = blocks.find((b) => b.includes(`$ npx netc ${command}\n`));
  if (!block) throw new Error(`README has no transcript of 'netc ${command}'`);
  return block.split('\n').slice(block.split('\n').findIndex((l) => l === `$ npx netc ${command}`) + 1).filter((l) => l.trim() !== '');
}

describe('README', () => {
  it('the netc compile transcript is what netc compile prints', () => {
    const command = 'compile models/deepdeblur-pytorch.net --input 256x256';
    const shown = transcript(command);
    expect(shown.join('\n')).toContain('receptive field 1166 px');
    expect(shown.join('\n')).toContain('peak activations 65.0 MiB');
    const r = netc(command.split(' '));
    expect(r.status, r.stderr).toBe(0);
    const printed = r.stdout.split('\n');
    let at = 0;
    for (const line of shown) {
      if (line.trim() === '...') continue;
      const found = printed.indexOf(line, at);
      expect(found, `README line not printed (in this order): ${line}`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
  });
});
