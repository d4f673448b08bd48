/**
 * A MicroK8s-shaped backend made by the real engines: dqlite-demo's node
 * (real libraft and libdqlite) with a `k8s` database holding kine's table,
 * written through the real `dqlite` shell as kine writes it (creates,
 * updates, deletes, compact_rev_key, gap rows; JSON values over several
 * overflow pages, Kubernetes protobuf values, Secrets, an encrypted value),
 * then crashed. `lifeboat salvage DIR --out OUT` rebuilds the database and
 * writes every live key as an object file: the files are exactly the live
 * keys sqlite3 selects from the rebuilt database, each document holds the
 * value written, Secrets and encrypted values are 0600, deleted keys are
 * absent. The same export from the rebuilt file alone (`salvage k8s.db
 * --out`, the k3s path) gives the same files. The input is never written.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { DqliteRebuildReport } from '../../shared/contract/dqlite';
import type { KineExportResult } from '../../shared/contract/kine';
import { kineLiveKeysCommand } from '../../shared/formats/dqlite/fresh-backend';
import { ensureBuilt, runCli } from '../cli/fixtures';
import { freePort, requireDqliteDemo, startNode } from '../helpers/dqlite-demo';
import { KINE_SCHEMA, kineRows } from '../helpers/kine-db';

const enabled = requireDqliteDemo() && (spawnSync('dqlite', ['--help']).status === 0 || process.env.CI === 'true');
const tmp = mkdtempSync(path.join(tmpdir(), 'lifeboat-kine-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Statements for the real dqlite shell, several per run as its argument (its interactive reader cuts long lines;
 * an argument is whole up to Linux's 128 KiB per argument, so runs are kept under 100 KB).
 */
function dqliteShell(server: string, statements: string[]): void {
  const runs: string[][] = [[]];
  let size = 0;
  for (const s of statements) {
    if (size + s.length > 100_000 && runs.at(-1)!.length > 0) {
      runs.push([]);
      size = 0;
    }
    runs.at(-1)!.push(s);
    size += s.length;
  }
  for (const run of runs) {
    const r = spawnSync('dqlite', ['-s', server, 'k8s', run.join(' ')], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0 || /Error/i.test(r.stdout + r.stderr)) throw new Error(`dqlite shell: ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 500)}`);
  }
}

function hashTree(dir: string): string {
  const h = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    h.update(name);
    if (statSync(p).isFile()) h.update(readFileSync(p));
  }
  return h.digest('hex');
}

/** Every file below `dir`: relative path -> bytes. */
function filesOf(dir: string, rel = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) for (const [k, v] of filesOf(dir, r)) out.set(k, v);
    else out.set(r, readFileSync(path.join(dir, r)));
  }
  return out;
}

describe.skipIf(!enabled)('kine objects from a real dqlite backend', () => {
  it('exports exactly the live keys, each with the value written, from the rebuilt k8s database', async () => {
    await ensureBuilt();
    const parent = path.join(tmp, 'node');
    const server = `127.0.0.1:${await freePort()}`;
    const node = await startNode(parent, server);
    /** What each key holds last (null: deleted). */
    const { rows, latest } = kineRows({ configmaps: 60, pods: 20, pad: 45000 });
    try {
      dqliteShell(server, [...KINE_SCHEMA, ...rows]);
    } finally {
      await node.kill();
    }
    const input = node.dataDir;
    const before = hashTree(input);
    const out = path.join(tmp, 'out');
    const r = await runCli(['salvage', input, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as DqliteRebuildReport;
    expect(hashTree(input)).toBe(before);
    const k8s = report.databases.find((d) => d.name === 'k8s')!;
    expect(k8s).toBeDefined();
    const objects = report.objects!;
    expect(objects.output).toBe(path.join(out, 'objects'));
    const live = [...latest].filter(([, v]) => v !== null) as [string, Buffer][];
    expect(objects.objects).toBe(live.length);
    expect(objects.deletedKeys).toBe([...latest.values()].filter((v) => v === null).length);
    expect(objects.problems).toEqual([]);
    // sqlite3 on the rebuilt database selects the same live keys.
    const query = kineLiveKeysCommand(path.join(out, k8s.file)).replace(/^sqlite3 \S+ "(.*)"$/, '$1');
    const theirs = spawnSync('sqlite3', [path.join(out, k8s.file), `${query};`], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n');
    expect(theirs.sort()).toEqual(live.map(([k]) => k).sort());
    // Each file: the value written (JSON as its document, protobuf by its raw bytes), secrets 0600.
    const files = filesOf(objects.output);
    expect(files.size).toBe(live.length);
    for (const [key, value] of live) {
      const parts = key.split('/');
      const [resource, ns, name] = [parts[2]!, parts[3]!, parts[4]!];
      const rel = path.join(resource, ns, `${name}.yaml`);
      const text = files.get(rel);
      expect(text, rel).toBeDefined();
      const doc = parseYaml(text!.toString('utf8')) as Record<string, unknown> & { lifeboat?: Record<string, unknown> };
      if (value[0] === 0x7b) expect(doc).toEqual(JSON.parse(value.toString('utf8')));
      else {
        expect(Buffer.from(doc.lifeboat!.rawValueBase64 as string, 'base64').equals(value), rel).toBe(true);
        expect(doc.lifeboat!.kineKey).toBe(key);
      }
      const mode = statSync(path.join(objects.output, rel)).mode & 0o777;
      expect(mode, rel).toBe(resource === 'secrets' ? 0o600 : 0o644);
    }
    expect(existsSync(path.join(objects.output, 'pods', 'default', 'pod-3.yaml'))).toBe(true);

    // The k3s path: the rebuilt file alone (a kine SQLite database) exports the same files.
    const k3s = path.join(tmp, 'k3s-out');
    const again = await runCli(['salvage', path.join(out, k8s.file), '--out', k3s, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const k3sReport = JSON.parse(again.stdout) as KineExportResult;
    expect(k3sReport.objects).toBe(live.length);
    const k3sFiles = filesOf(k3s);
    expect([...k3sFiles.keys()].sort()).toEqual([...files.keys()].sort());
    for (const [rel, bytes] of files) expect(k3sFiles.get(rel)!.equals(bytes), rel).toBe(true);
  }, 240_000);
});
