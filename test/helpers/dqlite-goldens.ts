/**
 * The real data directories the oracle suite damages, built once with
 * dqlite-demo and cached (see `golden` in dqlite-demo.ts).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { golden, keyMap, writeKeys, type Golden } from './dqlite-demo';

/** Big enough values that ~500 entries fill an 8 MiB segment. */
export const VALUE_SIZE = 3000;

/**
 * Crashed node (SIGKILL) after 3000 writes: closed segments 1-1, 2-511,
 * 512-1013, 1014-1024, 1025-1494, 1495-1977, 1978-2048, 2049-2529,
 * snapshots at 1024 and 2048, `open-8` holding 2530-3014 and two zeroed spares.
 * (Exact boundaries depend on entry sizes; tests read them from the names.)
 */
export function goldenKilled(): Promise<Golden> {
  return golden('killed', async ({ start }) => {
    const node = await start();
    await writeKeys(node, 0, 3000, VALUE_SIZE);
    await node.kill();
    return keyMap(0, 3000, VALUE_SIZE);
  });
}

/** Cleanly stopped node (SIGTERM) after 2700 writes: only closed segments. */
export function goldenStopped(): Promise<Golden> {
  return golden('stopped', async ({ start }) => {
    const node = await start();
    await writeKeys(node, 0, 2700, VALUE_SIZE);
    await node.stop();
    return keyMap(0, 2700, VALUE_SIZE);
  });
}

/** `dqlite .reconfigure`: appends one closed N-N segment with a RAFT_CHANGE (80 bytes, term 1). */
export function reconfigure(dataDir: string): void {
  const r = spawnSync('dqlite', ['-s', '127.0.0.1:1', 'k8s', `.reconfigure ${dataDir}/ ${path.join(dataDir, 'cluster.yaml')}`], {
    encoding: 'utf8',
    timeout: 30000,
  });
  if (r.status !== 0 || !/OK/.test(r.stdout)) throw new Error(`.reconfigure failed: ${r.stdout} ${r.stderr}`);
}

/**
 * The field report's shape: older closed segments, a short closed segment X,
 * the 80-byte `.reconfigure` segment right after it, then more writes with
 * two snapshots beyond it, ending in a crash (open segments).
 */
export function goldenField(): Promise<Golden> {
  return golden('field', async ({ start, parent, dbAddress }) => {
    let node = await start();
    await writeKeys(node, 0, 1100, VALUE_SIZE);
    await node.stop();
    node = await start();
    await writeKeys(node, 1100, 1110, VALUE_SIZE);
    await node.stop();
    reconfigure(path.join(parent, dbAddress));
    node = await start();
    await writeKeys(node, 1110, 3300, VALUE_SIZE);
    await node.kill();
    return keyMap(0, 3300, VALUE_SIZE);
  });
}
