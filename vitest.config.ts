import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: tests that train or run the native addon would fight over them.
    pool: 'forks',
    maxWorkers: 2,
    // The CLI skips Chevrotain's grammar validation for start-up time; tests run it.
    env: { NETC_VALIDATE_GRAMMAR: '1' },
  },
});
