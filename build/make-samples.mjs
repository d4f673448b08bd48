// Regenerates resources/samples/ with real dqlite-demo runs (see build/make-samples.ts).
// Usage: node build/make-samples.mjs [--etcd-only]   (needs dqlite-demo and the `dqlite` shell, Debian go-dqlite; etcd 3.4 for the etcd samples)
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = mkdtempSync(path.join(tmpdir(), 'lifeboat-make-samples-'));
const bundle = path.join(out, 'make-samples.cjs');
try {
  await build({
    entryPoints: [path.join(here, 'make-samples.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: bundle,
    logLevel: 'warning',
  });
  // The bundle lives in a temp dir, so tell it where the repository is.
  const r = spawnSync(process.execPath, [bundle, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, LIFEBOAT_REPO_ROOT: path.resolve(here, '..') },
  });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
