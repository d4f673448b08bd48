/**
 * etcd 3.4's default logger (capnslog, what a systemd etcd 3.4 writes to the journal unless `--logger=zap` is set)
 * says "starting" differently from 3.5's JSON: each real start of Debian's etcd 3.4 counts as one start in the
 * log view, with the data directory it names, so a crash loop shows as restarts there too.
 */
import { promises as fs } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeLogText } from '../../shared/logs';
import { requireEtcd, spawnEtcd, tempDir, waitHealthy } from '../helpers/etcd';

const haveEtcd = requireEtcd();
let root = '';
afterAll(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
});

describe('etcd 3.4 capnslog start lines', () => {
  it.skipIf(!haveEtcd)('two real starts on one data dir are two starts, each naming the data dir', async () => {
    root = await tempDir('etcd-capnslog');
    const dataDir = `${root}/etcd-data`;
    let log = '';
    for (let i = 0; i < 2; i++) {
      const node = await spawnEtcd({ dataDir });
      try {
        expect(await waitHealthy(node), node.output()).toBe(true);
      } finally {
        await node.stop();
      }
      log += node.output();
    }
    // The default logger, not zap: this is the text the pattern is for.
    expect(log).toMatch(/ I \| embed: data dir = /);
    const analysis = analyzeLogText('etcd', log);
    expect(analysis.counts['etcd.server-starting']).toBe(2);
    const starts = analysis.matches.filter((m) => m.signatureId === 'etcd.server-starting');
    expect(starts.map((m) => m.fields.dataDir)).toEqual([dataDir, dataDir]);
  });
});
