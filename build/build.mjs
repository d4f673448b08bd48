#!/usr/bin/env node
// Builds dist/: the Node-side bundles (esbuild) and the renderer (vite).
// Run by `npm run build` and by `prepare` on `npm install`. Quiet on success
// (one summary line), clear on failure (exit 1).
//
//   node build/build.mjs [--skip-renderer] [--if-stale]
//
// --if-stale (the `prepare` script): do nothing when dist/ is newer than every
// source. `npx lifeboat` in the checkout installs this folder into npx's cache,
// which runs `prepare`; without this, every first `npx lifeboat` silently
// rebuilt everything for seconds.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as vm from 'node:vm';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const skipRenderer = process.argv.includes('--skip-renderer');
const ifStale = process.argv.includes('--if-stale');

/** Newest modification time under `dir` (files only), skipping node_modules. */
function newestMtime(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

const OUTPUTS = ['main.cjs', 'preload.cjs', 'cli.cjs', 'validation-worker.cjs', 'wal-scan-worker.cjs', path.join('renderer', 'index.html')];
if (ifStale && OUTPUTS.every((o) => existsSync(path.join(dist, o)))) {
  const builtAt = Math.min(...OUTPUTS.map((o) => statSync(path.join(dist, o)).mtimeMs));
  const sources = ['electron', 'shared', 'renderer', 'build', 'package.json', 'package-lock.json'].map((p) => path.join(root, p));
  const changed = Math.max(...sources.map((p) => (existsSync(p) && statSync(p).isDirectory() ? newestMtime(p) : existsSync(p) ? statSync(p).mtimeMs : 0)));
  if (changed < builtAt) {
    process.stdout.write('lifeboat build: dist/ is up to date\n');
    process.exit(0);
  }
}
const started = Date.now();
// Vite warns that the renderer config is loaded as CJS; that is fine for us.
process.env.VITE_CONFIG_NATIVE_IGNORE_WARNING ??= 'true';

function fail(message) {
  process.stderr.write(`lifeboat build failed: ${message}\n`);
  process.exit(1);
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (err) {
  fail(`esbuild is not installed (${err.message}); run npm install`);
}

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

// Native or optional modules that must stay `require`d at run time.
const nodeExternals = ['electron', 'ssh2', 'cpu-features', 'bufferutil', 'utf-8-validate'];

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'silent',
  legalComments: 'none',
  define: { __LIFEBOAT_VERSION__: JSON.stringify(pkg.version) },
};

const targets = [
  { entry: 'electron/main.ts', out: 'main.cjs', external: nodeExternals },
  // Sandboxed preload: one self-contained CJS file, only `electron` external.
  { entry: 'electron/preload.ts', out: 'preload.cjs', external: ['electron'] },
  // Started on every run of `lifeboat` and every validation: loaded with a code cache (see codeCacheStub).
  { entry: 'electron/cli.ts', out: 'cli.cjs', external: nodeExternals, codeCache: true },
  { entry: 'electron/services/validation-worker.ts', out: 'validation-worker.cjs', external: nodeExternals, codeCache: true },
  // The etcd WAL scan's thread: the WAL reader alone, so it loads quickly beside the db walk.
  { entry: 'electron/services/wal-scan-worker.ts', out: 'wal-scan-worker.cjs', external: nodeExternals, codeCache: true },
  { entry: 'test/bench/bench.ts', out: 'bench.cjs', external: nodeExternals, optional: true },
  { entry: 'test/fuzz/run.ts', out: 'fuzz.cjs', external: nodeExternals, optional: true },
];

/**
 * How a bundle's source is wrapped into a CommonJS function, the same text for the cache made here and for the
 * stub that compiles it (V8 checks the source against the cache).
 */
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const WRAP_TAIL = '\n});';

/** The bundle a stub `out` loads. */
const bundleName = (out) => out.replace(/\.cjs$/, '.bundle.cjs');

/**
 * `out` itself: a stub that compiles the bundle with V8's code cache made at build time. Node 20 has no compile
 * cache of its own, and compiling a 1.5-2 MB bundle took 20-30 ms of every start of the CLI and of the validation
 * worker; with the cache, 5-7 ms. A cache V8 rejects (another Node binary, other V8 flags) or a missing one only
 * means the bundle compiles as usual. LIFEBOAT_CODE_CACHE_REPORT=1 says on stderr which it was (for tests).
 */
function codeCacheStub(out) {
  const bundle = bundleName(out);
  return `'use strict';
// Generated by build/build.mjs: loads ${bundle} with its V8 code cache (${bundle}.v8cache).
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire } = require('node:module');
const file = path.join(__dirname, ${JSON.stringify(bundle)});
let cachedData;
try {
  cachedData = fs.readFileSync(file + '.v8cache');
} catch {
  cachedData = undefined;
}
const script = new vm.Script(${JSON.stringify(WRAP_HEAD)} + fs.readFileSync(file, 'utf8') + ${JSON.stringify(WRAP_TAIL)}, { filename: file, cachedData });
if (process.env.LIFEBOAT_CODE_CACHE_REPORT === '1') {
  const state = cachedData === undefined ? 'missing' : script.cachedDataRejected ? 'rejected' : 'accepted';
  process.stderr.write(\`lifeboat: code cache \${state} (${bundle})\\n\`);
}
script.runInThisContext()(module.exports, createRequire(file), module, file, __dirname);
`;
}

/** The V8 code cache of `out`'s bundle, and its stub in place of the bundle's name. */
function writeCodeCache(out) {
  const file = path.join(dist, bundleName(out));
  const source = WRAP_HEAD + readFileSync(file, 'utf8') + WRAP_TAIL;
  writeFileSync(`${file}.v8cache`, new vm.Script(source, { filename: file }).createCachedData());
  writeFileSync(path.join(dist, out), codeCacheStub(out));
  rmSync(path.join(dist, `${out}.map`), { force: true }); // the map of the time `out` was the bundle
}

function formatMessages(kind, messages) {
  return messages
    .map((m) => {
      const loc = m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ` : '';
      return `  ${kind}: ${loc}${m.text}`;
    })
    .join('\n');
}

mkdirSync(dist, { recursive: true });
const results = await Promise.allSettled(
  targets
    .filter((t) => !t.optional || existsSync(path.join(root, t.entry)))
    .map((t) =>
      esbuild.build({
        ...common,
        entryPoints: [path.join(root, t.entry)],
        outfile: path.join(dist, t.codeCache ? bundleName(t.out) : t.out),
        external: t.external,
      }),
    ),
);
const failures = [];
const warnings = [];
for (const r of results) {
  if (r.status === 'rejected') {
    const errs = r.reason && Array.isArray(r.reason.errors) ? r.reason.errors : null;
    failures.push(errs ? formatMessages('error', errs) : `  ${String(r.reason && r.reason.message ? r.reason.message : r.reason)}`);
  } else if (r.value.warnings.length > 0) {
    warnings.push(formatMessages('warning', r.value.warnings));
  }
}
if (warnings.length > 0) process.stderr.write(`${[...new Set(warnings.join('\n').split('\n'))].join('\n')}\n`);
// Entry points share modules: report each distinct problem once.
const uniqueFailures = [...new Set(failures.join('\n').split('\n'))];
if (uniqueFailures.length > 0 && failures.length > 0) fail(`bundling the back end:\n${uniqueFailures.join('\n')}`);
for (const t of targets) if (t.codeCache) writeCodeCache(t.out);

let rendererNote = 'renderer';
const viteConfig = path.join(root, 'renderer', 'vite.config.ts');
if (skipRenderer) {
  rendererNote = 'renderer skipped (--skip-renderer)';
} else if (!existsSync(viteConfig)) {
  rendererNote = 'renderer skipped: renderer/vite.config.ts does not exist yet';
} else {
  let vite;
  try {
    vite = await import('vite');
  } catch (err) {
    fail(`vite is not installed (${err.message}); run npm install`);
  }
  // Stale assets from older builds must not be served next to new ones.
  rmSync(path.join(dist, 'renderer'), { recursive: true, force: true });
  try {
    // On install (`prepare`), one summary line: vite's advisory warnings (chunk sizes, plugin
    // timings, unused CSS) are for whoever changes the renderer and show in `npm run build`.
    await vite.build({ configFile: viteConfig, logLevel: ifStale ? 'error' : 'warn', mode: 'production' });
  } catch (err) {
    fail(`building the renderer (${path.relative(root, viteConfig)}):\n  ${err && err.message ? err.message : String(err)}`);
  }
  if (!existsSync(path.join(dist, 'renderer', 'index.html'))) {
    fail('the renderer build did not produce dist/renderer/index.html (check build.outDir in renderer/vite.config.ts)');
  }
}

const secs = ((Date.now() - started) / 1000).toFixed(1);
process.stdout.write(
  `lifeboat build: dist/ ready in ${secs}s (${rendererNote === 'renderer' ? 'main, preload, cli, worker, renderer' : `main, preload, cli, worker; ${rendererNote}`})\n`,
);
