import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Real engines (dqlite-demo, sshd, chromium) share 2 cores: keep parallelism modest.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
