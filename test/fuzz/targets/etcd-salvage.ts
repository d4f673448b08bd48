import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EtcdInputError, salvageSourceToSnapshotDb } from '../../../electron/services/etcd-repair';
import { inspectBbolt } from '../../../shared/formats/etcd/bbolt-db';
import type { Finding } from '../../../shared/contract/findings';
import { mutateBytes, type Rng } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { etcdSampleDir } from './corpus';
import { mutateDb } from './etcd-bbolt';
import { guardedSource, nestedDirectory } from './etcd-corpus';

export type Dir = Record<string, Uint8Array>;

interface SalvageCorpus {
  dirs: Dir[];
  /** This process's folder for the snapshot each input's salvage writes (emptied before every input). */
  out: string;
}

const DB = 'member/snap/db';

/**
 * One of the data dirs with damage a salvage or repair must survive: the db's pages, elements or metas
 * (`mutateDb`), the WAL's bytes, both, or a file gone. The etcd-salvage and etcd-repair targets share it.
 */
export function mutateDataDir(r: Rng, dirs: readonly Dir[]): Dir {
  const files: Dir = { ...r.pick(dirs) };
  const wal = Object.keys(files).find((n) => n.endsWith('.wal'));
  const way = r.int(10);
  if (way < 5 && files[DB]) files[DB] = mutateDb(r, files[DB]);
  else if (way < 8 && wal) files[wal] = mutateBytes(r, files[wal], 16 * 1024);
  else if (way < 9) {
    if (files[DB]) files[DB] = mutateDb(r, files[DB]);
    if (wal) files[wal] = mutateBytes(r, files[wal], 16 * 1024);
  } else delete files[r.pick(Object.keys(files))];
  return files;
}

/** Every finding that names a file of the input and an offset points inside that file. */
export function checkFindingsInside(findings: readonly Finding[], files: Dir): void {
  for (const f of findings) {
    if (f.file === null || f.offset === null) continue;
    const bytes = files[f.file];
    if (bytes) check(f.offset >= 0 && f.offset <= bytes.length, `${f.code} at ${f.offset} outside ${f.file} (${bytes.length} bytes)`);
  }
}

export const etcdSalvage: FuzzTarget<Dir, SalvageCorpus> = {
  name: 'etcd-salvage',
  what: 'lifeboat salvage --snapshot over mutated real data dirs (db pages, elements and metas, WAL bytes, a file gone): a refusal with its reason or a snapshot.db whose SHA-256 trailer matches, that is a sound bbolt file, with findings inside their files and the key counts adding up',
  corpus: () => ({
    dirs: [etcdSampleDir('etcd-healthy'), etcdSampleDir('etcd-field-report')],
    out: mkdtempSync(path.join(tmpdir(), 'lifeboat-fuzz-salvage-')),
  }),
  generate: (r, corpus) => mutateDataDir(r, corpus.dirs),
  dispose: (corpus) => rmSync(corpus.out, { recursive: true, force: true }),
  run: async (files, corpus) => {
    rmSync(corpus.out, { recursive: true, force: true });
    mkdirSync(corpus.out, { recursive: true });
    const outFile = path.join(corpus.out, 'snapshot.db');
    let report;
    try {
      report = await salvageSourceToSnapshotDb(nestedDirectory('etcd-data', files), false, 'etcd-data', outFile);
    } catch (err) {
      // A refusal that says why (nothing to salvage, not an etcd dir) is an answer; anything else escaped.
      if (err instanceof EtcdInputError) return;
      throw err;
    }
    const out = new Uint8Array(readFileSync(outFile));
    check(out.length % 512 === 32, `snapshot.db of ${out.length} bytes: not pages + a 32-byte trailer`);
    const digest = createHash('sha256')
      .update(out.subarray(0, out.length - 32))
      .digest('hex');
    check(Buffer.from(out.subarray(out.length - 32)).toString('hex') === digest, 'the trailer is not the SHA-256 of the bytes before it');
    check(report.sha256 === digest, `report.sha256 ${report.sha256} is not the trailer ${digest}`);
    const written = await inspectBbolt(guardedSource('snapshot.db', out), 'snapshot.db', { snapshotDb: true });
    const broken = written.findings.filter((f) => f.severity === 'error');
    check(broken.length === 0, `the written snapshot.db is not sound: ${broken.map((f) => f.message).join('; ')}`);
    const { tree, wal } = report.sources;
    check(tree + report.sources['orphaned-leaf'] + wal === report.keysWritten, 'keys by source do not add up to keysWritten');
    if (report.revisionRange) check(report.revisionRange[0] <= report.revisionRange[1], `revision range ${report.revisionRange.join('..')}`);
    checkFindingsInside(report.findings, files);
    checkPlain(report, 'report');
    // Past its key-state budget a salvage reads the keys in passes by key hash: the same snapshot.db and report
    // (but time and bytes read). A budget of a few keys forces passes on every fourth input.
    if (Object.values(files).reduce((n, b) => n + b.length, 0) % 4 === 0) {
      const partedFile = path.join(corpus.out, 'parted.db');
      const parted = await salvageSourceToSnapshotDb(nestedDirectory('etcd-data', files), false, 'etcd-data', partedFile, { keyStateBudget: 2048 });
      check(Buffer.compare(readFileSync(partedFile), out) === 0, 'a salvage in passes by key hash wrote another snapshot.db than one holding every key');
      const comparable = (r: typeof report) => JSON.stringify({ ...r, elapsedMs: 0, bytesRead: 0, output: '' });
      const a = comparable(report);
      const b = comparable(parted);
      if (a !== b) {
        let at = 0;
        while (at < a.length && a[at] === b[at]) at++;
        check(
          false,
          `a salvage in passes by key hash reported otherwise than one holding every key, from: …${a.slice(Math.max(0, at - 80), at + 120)} / …${b.slice(Math.max(0, at - 80), at + 120)}`,
        );
      }
    }
  },
  files: (d) => d,
  size: (d) => Object.values(d).reduce((n, b) => n + b.length, 0),
};
