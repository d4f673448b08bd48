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
 * The one local PATH of `lifeboat validate [--json] [--addresses A] PATH` (the options the worker
 * does not see), else undefined: the CLI then sends the request itself.
 */
const lonePath = (args) => {
  try {
    const { parseArgs } = require('node:util');
    const options = { json: { type: 'boolean' }, addresses: { type: 'string' }, 'node-path': { type: 'string' } };
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return positionals.length === 1 && values['node-path'] === undefined ? path.resolve(positionals[0]) : undefined;
  } catch {
    return undefined; // A usage error: the CLI says so.
  }
};

/**
 * `lifeboat validate`: the validation worker thread starts now and loads its bundle while this
 * thread loads the CLI's (about 0.1 s each). For a lone PATH it is asked to validate it at once
 * (the same request ValidationService would send, which it checks), and its replies are kept
 * until the CLI listens. Unref'd until the CLI takes it, so a usage error still exits at once.
 */
const prestartValidationWorker = (args) => {
  const script = path.join(dist, 'validation-worker.cjs');
  if (!fs.existsSync(script)) return undefined;
  try {
    const { Worker } = require('node:worker_threads');
    const worker = new Worker(script, { resourceLimits: { maxOldGenerationSizeMb: VALIDATION_WORKER_HEAP_MB } });
    // Until the CLI listens: an error before then must not throw here (the CLI then finds it exited and starts its own).
    worker.on('error', () => {});
    const early = { worker, script, heapMb: VALIDATION_WORKER_HEAP_MB };
    const target = lonePath(args);
    let running;
    if (target !== undefined) {
      const request = { type: 'validate', path: target };
      const replies = [];
      const keep = (msg) => replies.push(msg);
      worker.on('message', keep);
      worker.postMessage(request);
      running = { request, replies, stopBuffering: () => worker.off('message', keep) };
    }
    // After the listener: adding a 'message' listener refs the worker again.
    worker.unref();
    return running ? { ...early, running } : early;
  } catch {
    return undefined; // The CLI starts its own.
  }
};

const argv = process.argv.slice(2);
const validationWorker = argv[0] === 'validate' ? prestartValidationWorker(argv.slice(1)) : undefined;
require(cli).run(argv, validationWorker ? { validationWorker } : {});
