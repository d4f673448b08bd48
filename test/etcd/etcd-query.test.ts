/**
 * `etcd.query` answered over real etcd data dirs (the bundled samples, made by
 * etcd 3.4): WAL records, the page map, one page, keys and values, read
 * through subdirectories (member/wal, member/snap/db) of a read-only source,
 * and refused when the query is malformed or names something outside the report.
 */
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DirectorySource } from '../../shared/bytes/byte-source';
import type { ValidationReport } from '../../shared/contract/report';
import { answerEtcdQuery, EtcdQueryError, openRelative, parseEtcdQuery, MAX_KEYS_PER_QUERY } from '../../shared/formats/etcd/query';
import { hashTree } from '../helpers/etcd';
import { etcdQueryReport } from '../helpers/etcd-query-report';
import { sampleObjects } from '../../build/etcd-samples';

const SAMPLES = path.resolve(__dirname, '../../resources/samples');
const opened: (DirectorySource & { close(): Promise<void> })[] = [];

afterAll(async () => {
  for (const d of opened) await d.close();
});

async function reportOf(id: string): Promise<{ dir: DirectorySource; report: ValidationReport }> {
  const made = await etcdQueryReport(path.join(SAMPLES, id));
  opened.push(made.dir);
  return made;
}

describe('answerEtcdQuery over the healthy sample', () => {
  it('lists WAL records by page, the same records whatever the paging', async () => {
    const before = await hashTree(path.join(SAMPLES, 'etcd-healthy'));
    const { dir, report } = await reportOf('etcd-healthy');
    const file = report.etcd!.wal!.files[0]!.file;
    expect(file).toBe('member/wal/0000000000000000-0000000000000000.wal');
    const first = await answerEtcdQuery(dir, report, { kind: 'wal-records', file, fromRecord: 0, limit: 50 });
    expect(first).toHaveLength(50);
    expect(first[0]).toMatchObject({ number: 0, offset: 0 });
    expect(first.map((r) => r.number)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const second = await answerEtcdQuery(dir, report, { kind: 'wal-records', file, fromRecord: 20, limit: 10 });
    expect(second).toEqual(first.slice(20, 30));
    // Entries carry their raft index; the puts of the sample objects are in there.
    const withIndex = first.filter((r) => r.index !== undefined);
    expect(withIndex.length).toBeGreaterThan(10);
    expect(first.some((r) => r.summary.includes('/registry/'))).toBe(true);
    expect(await hashTree(path.join(SAMPLES, 'etcd-healthy'))).toBe(before);
  });

  it('draws every page of the db and details one', async () => {
    const { dir, report } = await reportOf('etcd-healthy');
    const map = await answerEtcdQuery(dir, report, { kind: 'page-map' });
    expect(map.codes.length).toBe(report.etcd!.bbolt!.pageCount);
    expect(map.codes.slice(0, 2)).toBe('mm');
    expect(map.codes).not.toMatch(/[xd]/);
    const leaf = map.codes.indexOf('l');
    const detail = await answerEtcdQuery(dir, report, { kind: 'page', page: leaf });
    expect(detail).toMatchObject({ id: leaf, headerId: leaf, type: 'leaf', offset: leaf * map.pageSize });
    expect(detail.elements.length).toBe(detail.count);
    await expect(answerEtcdQuery(dir, report, { kind: 'page', page: map.codes.length })).rejects.toMatchObject({ code: 'out-of-range' });
  });

  it('lists the keys etcd serves, and reads a value as the JSON written', async () => {
    const { dir, report } = await reportOf('etcd-healthy');
    const expected = sampleObjects(180, 1).filter((_, i) => i < 4 || (i - 4) % 9 !== 0);
    const page = await answerEtcdQuery(dir, report, { kind: 'keys', offset: 0, limit: 1000 });
    const live = page.items.filter((k) => !k.tombstone).map((k) => k.key);
    expect(live.sort()).toEqual(expected.map((o) => o.key).sort());
    expect(page.items.filter((k) => k.tombstone)).toHaveLength(20);
    const cm = expected.find((o) => o.key.startsWith('/registry/configmaps/default/'))!;
    const value = await answerEtcdQuery(dir, report, { kind: 'value', key: cm.key });
    expect(JSON.parse(value.display)).toEqual(JSON.parse(cm.value));
    expect(value.k8s).toMatchObject({ encoding: 'json', kind: 'ConfigMap' });
    // A prefix query (what a group in the key browser asks for).
    const pods = await answerEtcdQuery(dir, report, { kind: 'keys', prefix: '/registry/pods/shop/', offset: 0, limit: 100 });
    expect(pods.items.map((k) => k.key)).toEqual(
      [
        ...new Set(
          sampleObjects(180, 1)
            .map((o) => o.key)
            .filter((k) => k.startsWith('/registry/pods/shop/')),
        ),
      ].sort(),
    );
  });
});

describe('answerEtcdQuery over the field-report sample', () => {
  it('shows the branch element that points at page 0', async () => {
    const { dir, report } = await reportOf('etcd-field-report');
    const map = await answerEtcdQuery(dir, report, { kind: 'page-map' });
    expect(map.codes.length).toBe(report.etcd!.bbolt!.pageCount);
    // The bad pointer's branch page lists a child page 0.
    let found: number | null = null;
    for (let p = 0; p < map.codes.length && found === null; p++) {
      if (map.codes[p] !== 'b') continue;
      const d = await answerEtcdQuery(dir, report, { kind: 'page', page: p });
      if (d.elements.some((e) => e.childPage === 0)) found = p;
    }
    expect(found).not.toBeNull();
  });
});

describe('queries are checked', () => {
  it('parses and bounds untrusted queries', () => {
    expect(parseEtcdQuery({ kind: 'keys', offset: 0, limit: 10_000_000 })).toEqual({ kind: 'keys', offset: 0, limit: MAX_KEYS_PER_QUERY });
    expect(() => parseEtcdQuery({ kind: 'keys', offset: -1, limit: 5 })).toThrow(EtcdQueryError);
    expect(() => parseEtcdQuery({ kind: 'page', page: 1.5 })).toThrow(/page id/);
    expect(() => parseEtcdQuery({ kind: 'value', key: 'x'.repeat(70_000) })).toThrow(/longer than/);
    expect(() => parseEtcdQuery({ kind: 'drop-tables' })).toThrow(/query.kind/);
    expect(() => parseEtcdQuery(null)).toThrow(/object/);
  });

  it('refuses a WAL file the report does not list, and paths leaving the directory', async () => {
    const { dir, report } = await reportOf('etcd-healthy');
    await expect(answerEtcdQuery(dir, report, { kind: 'wal-records', file: 'member/snap/db', fromRecord: 0, limit: 5 })).rejects.toMatchObject({
      code: 'unknown-file',
    });
    await expect(openRelative(dir, '../dqlite-healthy/metadata1')).rejects.toMatchObject({ code: 'unknown-file' });
    const notEtcd: ValidationReport = { ...report, engine: 'dqlite', etcd: undefined };
    await expect(answerEtcdQuery(dir, notEtcd, { kind: 'page-map' })).rejects.toMatchObject({ code: 'not-etcd' });
  });
});
