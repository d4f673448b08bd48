import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EtcdInputError, repairEtcdCopy } from '../../../electron/services/etcd-repair';
import { localDirectory } from '../../../electron/services/fs-source';
import { validateDirectory } from '../../../shared/validate';
import { mutateBytes } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { etcdSampleDir } from './corpus';
import { mutateDb } from './etcd-bbolt';

type Dir = Record<string, Uint8Array>;

interface RepairCorpus {
  dirs: Dir[];
  /** This process's folder for each input's data dir and its repaired copy (emptied before every input). */
  work: string;
}

const DB = 'member/snap/db';

/** Every file under `dir` with its bytes' SHA-256, by relative path. */
function hashes(dir: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of hashes(dir, r)) out.set(k, v);
    else
      out.set(
        r,
        createHash('sha256')
          .update(readFileSync(path.join(dir, r)))
          .digest('hex'),
      );
  }
  return out;
}

export const etcdRepair: FuzzTarget<Dir, RepairCorpus> = {
  name: 'etcd-repair',
  what: 'lifeboat repair over mutated real data dirs (db pages, elements and metas, WAL bytes, a file gone): a refusal with its reason, or a repaired copy that the start-up model says etcd starts on unless the repair itself says it cannot, the input byte-identical, findings inside their files',
  corpus: () => ({
    dirs: [etcdSampleDir('etcd-healthy'), etcdSampleDir('etcd-field-report')],
    work: mkdtempSync(path.join(tmpdir(), 'lifeboat-fuzz-repair-')),
  }),
  generate: (r, corpus) => {
    const files: Dir = { ...r.pick(corpus.dirs) };
    const wal = Object.keys(files).find((n) => n.endsWith('.wal'));
    const way = r.int(10);
    if (way < 5 && files[DB]) files[DB] = mutateDb(r, files[DB]);
    else if (way < 8 && wal) files[wal] = mutateBytes(r, files[wal], 16 * 1024);
    else if (way < 9) {
      if (files[DB]) files[DB] = mutateDb(r, files[DB]);
      if (wal) files[wal] = mutateBytes(r, files[wal], 16 * 1024);
    } else delete files[r.pick(Object.keys(files))];
    return files;
  },
  run: async (files, corpus) => {
    rmSync(corpus.work, { recursive: true, force: true });
    const input = path.join(corpus.work, 'etcd-data');
    const out = path.join(corpus.work, 'repaired');
    for (const [rel, bytes] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(input, rel)), { recursive: true });
      writeFileSync(path.join(input, rel), bytes);
    }
    const before = hashes(input);
    let result;
    try {
      result = await repairEtcdCopy(input, out);
    } catch (err) {
      // A refusal that says why (not a member dir, nothing to repair from) is an answer; anything else escaped.
      if (err instanceof EtcdInputError) return;
      throw err;
    } finally {
      const after = hashes(input);
      check(JSON.stringify([...after]) === JSON.stringify([...before]), 'repair changed its input');
    }
    checkPlain(result, 'repair result');
    for (const f of result.findings) {
      if (f.file === null || f.offset === null) continue;
      const bytes = files[f.file];
      if (bytes) check(f.offset >= 0 && f.offset <= bytes.length, `${f.code} at ${f.offset} outside ${f.file} (${bytes.length} bytes)`);
    }
    // A copy the repair did not say etcd refuses must be one the start-up model says etcd starts on.
    const refused = result.findings.some((f) => f.severity === 'error');
    const local = localDirectory(out);
    try {
      const report = await validateDirectory(local);
      if (!refused)
        check(
          report.startable,
          `the repaired copy would not start: ${report.findings
            .filter((f) => f.severity === 'error')
            .map((f) => f.message)
            .join('; ')}`,
        );
    } finally {
      await local.close();
    }
  },
  files: (d) => d,
  size: (d) => Object.values(d).reduce((n, b) => n + b.length, 0),
};
