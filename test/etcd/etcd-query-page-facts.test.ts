/**
 * A query session reads a db's pages once for the page map and every click
 * on a page after it (`EtcdQuerySession.pageFacts`): each page's detail must
 * be exactly what a query without the session answers (which walks the tree,
 * or scans every header, again), on the healthy sample, on the field report's
 * damaged tree, and on a copy whose two metas are broken (no meta leads to a
 * tree: the pages as their headers say); and after the map, a click reads
 * only the page it shows, not the whole db again.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ByteSource, DirectorySource } from '../../shared/bytes/byte-source';
import type { ValidationReport } from '../../shared/contract/report';
import { answerEtcdQuery, EtcdQuerySession } from '../../shared/formats/etcd/query';
import { flipByte } from '../helpers/etcd-damage';
import { hashTree } from '../helpers/etcd';
import { etcdQueryReport } from '../helpers/etcd-query-report';

const SAMPLES = path.resolve(__dirname, '../../resources/samples');
const work = mkdtempSync(path.join(tmpdir(), 'lifeboat-page-facts-'));
const opened: (DirectorySource & { close(): Promise<void> })[] = [];

afterAll(async () => {
  for (const d of opened) await d.close();
  rmSync(work, { recursive: true, force: true });
});

/** `dir` with every byte read through it counted. */
function counting(dir: DirectorySource, counter: { bytes: number }): DirectorySource {
  const wrapSource = (s: ByteSource): ByteSource => ({
    name: s.name,
    size: s.size,
    read: (offset, length) => {
      counter.bytes += Math.max(0, Math.min(length, s.size - offset));
      return s.read(offset, length);
    },
  });
  return {
    name: dir.name,
    list: () => dir.list(),
    open: async (name) => wrapSource(await dir.open(name)),
    subdir: async (name) => counting(await dir.subdir!(name), counter),
  };
}

async function reportOf(root: string): Promise<{ dir: DirectorySource; report: ValidationReport }> {
  const made = await etcdQueryReport(root);
  opened.push(made.dir);
  return made;
}

async function bothMetasBroken(): Promise<string> {
  const root = path.join(work, 'no-meta');
  cpSync(path.join(SAMPLES, 'etcd-healthy'), root, { recursive: true });
  const db = path.join(root, 'member/snap/db');
  await flipByte(db, 72);
  await flipByte(db, 4096 + 72);
  return root;
}

describe('page facts kept by the query session', () => {
  for (const [name, rootOf] of [
    ['the healthy sample', async () => path.join(SAMPLES, 'etcd-healthy')],
    ['the field report (a branch element pointing at page 0)', async () => path.join(SAMPLES, 'etcd-field-report')],
    ['a copy with both metas broken', bothMetasBroken],
  ] as const) {
    it(`answers every page of ${name} as a query without the session does, and a click reads only its page`, async () => {
      const root = await rootOf();
      const before = await hashTree(root);
      const { dir, report } = await reportOf(root);
      const counter = { bytes: 0 };
      const viaSession = counting(dir, counter);
      const session = new EtcdQuerySession();

      const plainMap = await answerEtcdQuery(dir, report, { kind: 'page-map' });
      const map = await answerEtcdQuery(viaSession, report, { kind: 'page-map' }, undefined, session);
      expect(map).toEqual(plainMap);
      if (name === 'a copy with both metas broken') expect(map.byHeaderScan).toBe(true);
      else expect(map.byHeaderScan).toBeUndefined();

      const pages = map.codes.length;
      expect(pages).toBe(report.etcd!.bbolt!.pageCount);
      let readByClicks = 0;
      let biggestClick = 0;
      for (let page = 0; page < pages; page++) {
        const plain = await answerEtcdQuery(dir, report, { kind: 'page', page });
        const start = counter.bytes;
        const kept = await answerEtcdQuery(viaSession, report, { kind: 'page', page }, undefined, session);
        biggestClick = Math.max(biggestClick, counter.bytes - start);
        readByClicks += counter.bytes - start;
        expect(kept).toEqual(plain);
      }
      // The first query through the session (the map) read the db once; the clicks read at most a page each
      // (usually nothing: the page is in a chunk already read). Without the session each click reads the whole tree.
      const dbSize = report.etcd!.bbolt!.size;
      expect(dbSize).toBeGreaterThan(16 * 4096);
      expect(readByClicks).toBeLessThan(dbSize);
      expect(biggestClick).toBeLessThan(dbSize / 4);
      expect(await hashTree(root)).toBe(before);
    });
  }
});
