/**
 * The export's YAML of JSON values reads back as the value etcd holds, in YAML 1.2 and in YAML 1.1 (kubectl's
 * go-yaml): integers past 2^53 exact, multi-line data, strings YAML would take for booleans, numbers or dates, keys
 * with odd characters. The .json export keeps the stored bytes. The db is hashed before and after.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { exportObjects } from '../../electron/services/etcd-repair';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import { hashTree, tempDir } from '../helpers/etcd';

const te = new TextEncoder();

/** Stored JSON texts by object name (written as they are: the big integers are literals no double holds). */
const VALUES: Record<string, string> = {
  'big-ints':
    '{"apiVersion":"example.io/v1","kind":"Widget","metadata":{"name":"big-ints","namespace":"ns"},"spec":{"id":12345678901234567891,"neg":-9223372036854775808,"ok":42,"f":0.5}}',
  script: JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'script', namespace: 'ns', labels: { enabled: 'yes', port: '8080', when: '2024-01-02' } },
    data: { 'run.sh': '#!/bin/sh\nset -e\n  echo "a: b" # kept\n\nexit 0\n', 'no-newline': 'a\nb', 'odd key: #1': 'on', empty: '', nul: 'x\u0000y' },
  }),
};

let work = '';
let db = '';

beforeAll(async () => {
  work = await tempDir('export-yaml');
  db = path.join(work, 'db');
  const names = Object.keys(VALUES);
  const items: RevisionItem[] = names.map((name, i) => ({
    key: revisionKey(i + 2, 0),
    value: encodeKeyValue({
      key: te.encode(`/registry/widgets/ns/${name}`),
      createRevision: i + 2,
      modRevision: i + 2,
      version: 1,
      value: te.encode(VALUES[name]!),
      lease: 0n,
    }),
  }));
  const sink = memorySink();
  await writeEtcdBackend(sink, { revisions: items.values(), buckets: { meta: [[te.encode('consistent_index'), u64be(100)]] } });
  await fs.writeFile(db, sink.bytes());
});

afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('export: YAML of JSON values', () => {
  it('reads back as the stored value in YAML 1.2 and 1.1, big integers exact; the .json export keeps the bytes', async () => {
    const before = await hashTree(db);
    const out = path.join(work, 'yaml');
    const r = await exportObjects(db, out, { format: 'yaml' });
    expect(r.objects).toBe(Object.keys(VALUES).length);
    for (const [name, stored] of Object.entries(VALUES)) {
      const text = await fs.readFile(path.join(out, 'widgets', 'ns', `${name}.yaml`), 'utf8');
      // The stored JSON read with exact integers (the yaml package reads JSON, which is YAML 1.2).
      const want: unknown = parse(stored, { intAsBigInt: true });
      for (const version of ['1.2', '1.1'] as const) expect(parse(text, { version, intAsBigInt: true }), `${name} (YAML ${version}):\n${text}`).toEqual(want);
    }
    const big = await fs.readFile(path.join(out, 'widgets', 'ns', 'big-ints.yaml'), 'utf8');
    expect(big).toContain('id: 12345678901234567891\n');
    expect(big).toContain('neg: -9223372036854775808\n');

    const json = path.join(work, 'json');
    await exportObjects(db, json, { format: 'json' });
    for (const [name, stored] of Object.entries(VALUES)) expect(await fs.readFile(path.join(json, 'widgets', 'ns', `${name}.json`), 'utf8')).toBe(stored);
    expect(await hashTree(db)).toBe(before);
  }, 60_000);
});
