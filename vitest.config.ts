import { defineConfig } from 'vitest/config';
import { ALONE_FILES } from './test/suite/alone-files';

const shared = {
  environment: 'node' as const,
  testTimeout: 60_000,
  hookTimeout: 180_000,
};

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          ...shared,
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: ALONE_FILES,
          // Real engines (dqlite-demo, sshd, chromium) share 2 cores: keep parallelism modest.
          maxWorkers: 2,
          fileParallelism: true,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          // Docker's network changes and machine-wide sudoers rules: after the rest, one file at a time.
          name: 'alone',
          include: ALONE_FILES,
          maxWorkers: 1,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
