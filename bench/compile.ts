// Compile-time benchmark: parse + check + shape inference + fusion + cost of the model files.
import { readFileSync } from 'node:fs';
import { compileSource } from '../src/compiler/index.js';
import { graphCost } from '../src/compiler/cost.js';

export interface CompileBench { file: string; medianMs: number; minMs: number; runs: number }

export function benchCompile(file: string, runs = 30): CompileBench {
  const source = readFileSync(file, 'utf8');
  const once = () => {
    const { program } = compileSource(source, file);
    graphCost(program.models[program.generator]);
  };
  for (let i = 0; i < 3; i++) once(); // warm-up: JIT and Chevrotain's lookahead caches
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    once();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { file, medianMs: times[Math.floor(runs / 2)], minMs: times[0], runs };
}

/** Time for a fresh process to compile, as a user sees it: `netc compile file --json`. */
export function benchColdStart(file: string): number {
  const t0 = performance.now();
  compileSource(readFileSync(file, 'utf8'), file);
  return performance.now() - t0;
}
