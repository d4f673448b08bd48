#!/usr/bin/env node
'use strict';
// The CLI is bundled by `npm run build` into dist/cli.cjs.
const path = require('node:path');
const fs = require('node:fs');

const dist = path.join(__dirname, '..', 'dist');
const cli = path.join(dist, 'cli.cjs');
if (!fs.existsSync(cli)) {
  process.stderr.write('lifeboat: run `npm run build` first\n');
  process.exit(2);
}

/** ValidationService's default heap cap per worker (validation-service.ts): a different cap makes it start its own. */
const VALIDATION_WORKER_HEAP_MB = 2048;

/**
 * `lifeboat validate`: the validation worker thread starts now and loads its bundle while this
 * thread loads the CLI's (about 0.1 s each). Unref'd until the CLI takes it, so a usage error
 * still exits at once.
 */
const prestartValidationWorker = () => {
  const script = path.join(dist, 'validation-worker.cjs');
  if (!fs.existsSync(script)) return undefined;
  try {
    const { Worker } = require('node:worker_threads');
    const worker = new Worker(script, { resourceLimits: { maxOldGenerationSizeMb: VALIDATION_WORKER_HEAP_MB } });
    worker.unref();
    // Until the CLI listens: an error before then must not throw here (the CLI then finds it exited and starts its own).
    worker.on('error', () => {});
    return { worker, script, heapMb: VALIDATION_WORKER_HEAP_MB };
  } catch {
    return undefined; // The CLI starts its own.
  }
};

const argv = process.argv.slice(2);
const validationWorker = argv[0] === 'validate' ? prestartValidationWorker() : undefined;
require(cli).run(argv, validationWorker ? { validationWorker } : {});
