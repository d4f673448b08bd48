import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EtcdInputError, repairEtcdCopy } from '../../../electron/services/etcd-repair';
import { localDirectory } from '../../../electron/services/fs-source';
import { validateDirectory } from '../../../shared/validate';
import { hashTree } from '../../helpers/etcd';
import { check, checkPlain, type FuzzTarget } from '../target';
import { etcdSampleDir } from './corpus';
import { checkFindingsInside, mutateDataDir, type Dir } from './etcd-salvage';

interface RepairCorpus {
  dirs: Dir[];
  /** This process's folder for each input's data dir and its repaired copy (emptied before every input). */
  work: string;
}

export const etcdRepair: FuzzTarget<Dir, RepairCorpus> = {
  name: 'etcd-repair',
  what: 'lifeboat repair over mutated real data dirs (db pages, elements and metas, WAL bytes, a file gone): a refusal with its reason, or a repaired copy that the start-up model says etcd starts on unless the repair itself says it cannot, the input byte-identical, findings inside their files',
  corpus: () => ({
    dirs: [etcdSampleDir('etcd-healthy'), etcdSampleDir('etcd-field-report')],
    work: mkdtempSync(path.join(tmpdir(), 'lifeboat-fuzz-repair-')),
  }),
  generate: (r, corpus) => mutateDataDir(r, corpus.dirs),
  dispose: (corpus) => rmSync(corpus.work, { recursive: true, force: true }),
  run: async (files, corpus) => {
    rmSync(corpus.work, { recursive: true, force: true });
    const input = path.join(corpus.work, 'etcd-data');
    const out = path.join(corpus.work, 'repaired');
    for (const [rel, bytes] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(input, rel)), { recursive: true });
      writeFileSync(path.join(input, rel), bytes);
    }
    const before = await hashTree(input);
    let result;
    try {
      result = await repairEtcdCopy(input, out);
    } catch (err) {
      // A refusal that says why (not a member dir, nothing to repair from) is an answer; anything else escaped.
      if (err instanceof EtcdInputError) return;
      throw err;
    } finally {
      check((await hashTree(input)) === before, 'repair changed its input');
    }
    checkPlain(result, 'repair result');
    checkFindingsInside(result.findings, files);
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
