/**
 * Cancelling an export while it writes its files: in the app the export runs in a worker thread and the cancel
 * arrives as a message, which the worker sees only when its event loop turns. The file writes are synchronous and
 * the db reads mostly come from the read-ahead window, so the export must let the loop turn by itself. Here the
 * abort is a macrotask (a timer set from the progress callback), as a message would be: it must stop the export
 * long before its end, with files already written kept and nothing half written.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportObjects } from '../../electron/services/etcd-repair';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import { hashTree, tempDir } from '../helpers/etcd';

const te = new TextEncoder();
const OBJECTS = 6000;

let work = '';
let db = '';

beforeAll(async () => {
  work = await tempDir('export-cancel');
  db = path.join(work, 'db');
  function* items(): Generator<RevisionItem> {
    for (let i = 0; i < OBJECTS; i++) {
      const key = te.encode(`/registry/configmaps/ns-${i % 9}/cm-${String(i).padStart(5, '0')}`);
      const value = te.encode(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { i: String(i) } }));
      yield { key: revisionKey(i + 2, 0), value: encodeKeyValue({ key, createRevision: i + 2, modRevision: i + 2, version: 1, value, lease: 0n }) };
    }
  }
  const sink = memorySink();
  await writeEtcdBackend(sink, { revisions: items(), buckets: { meta: [[te.encode('consistent_index'), u64be(OBJECTS + 10)]] } });
  await fs.writeFile(db, sink.bytes());
});

afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out;
}

describe('export: cancel while writing files', () => {
  it('a cancel that arrives as a macrotask stops the export early; the files written are whole', async () => {
    const before = await hashTree(db);
    const out = path.join(work, 'out');
    const ac = new AbortController();
    let abortAt = -1;
    const run = exportObjects(db, out, {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.phase === 'export: writing objects' && p.bytesDone >= 1000 && abortAt < 0) {
          abortAt = p.bytesDone;
          setTimeout(() => ac.abort(), 0);
        }
      },
    });
    await expect(run).rejects.toThrow(/cancel/i);
    expect(abortAt).toBeGreaterThanOrEqual(1000);
    const files = await filesUnder(out);
    // Seen within a few hundred objects of the request, far from the end.
    expect(files.length).toBeGreaterThanOrEqual(abortAt);
    expect(files.length).toBeLessThan(abortAt + 600);
    for (const f of files) expect((await fs.readFile(f, 'utf8')).endsWith('\n'), f).toBe(true);
    expect(await hashTree(db)).toBe(before);
  }, 120_000);
});
