/**
 * The browser's way into an etcd data dir (renderer/src/lib/file-source.ts,
 * what the Web Worker validates): the bundled samples as picked files with
 * their relative paths (member/wal/..., member/snap/db) and a lone
 * snapshot.db give the same report and the same etcd.query answers as the
 * back end reading the same files from disk.
 */
import { openAsBlob, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pickedDirectory, pickedFromFileList, type PickedInput } from '../../renderer/src/lib/file-source';
import { localDirectory } from '../../electron/services/fs-source';
import { validateDirectory } from '../../shared/validate';
import { answerEtcdQuery } from '../../shared/formats/etcd/query';
import type { EtcdQuery } from '../../shared/contract/etcd';
import type { ValidationReport } from '../../shared/contract/report';

const SAMPLES = path.resolve(__dirname, '../../resources/samples');

/** Every file under `root` as a File with `webkitRelativePath` = `<root name>/<path>`, as `<input webkitdirectory>` gives them. */
async function asPicked(root: string): Promise<PickedInput> {
  const files: File[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) await walk(p, `${rel}/${name}`);
      else {
        const f = new File([await openAsBlob(p)], name);
        Object.defineProperty(f, 'webkitRelativePath', { value: `${rel}/${name}` });
        files.push(f);
      }
    }
  };
  await walk(root, path.basename(root));
  return pickedFromFileList(files)!;
}

/** What must not depend on where the bytes come from. */
function same(r: ValidationReport) {
  return { engine: r.engine, root: r.root, startable: r.startable, dataLoss: r.dataLoss, findings: r.findings, summary: r.summary, etcd: r.etcd };
}

const QUERIES: EtcdQuery[] = [
  { kind: 'wal-records', file: 'member/wal/0000000000000000-0000000000000000.wal', fromRecord: 300, limit: 40 },
  { kind: 'page-map' },
  { kind: 'page', page: 2 },
  { kind: 'keys', search: 'secret', offset: 0, limit: 50 },
  { kind: 'value', key: '/registry/services/default/service-0003' },
];

describe('etcd data dirs picked in the browser', () => {
  for (const id of ['etcd-healthy', 'etcd-field-report']) {
    it(`${id}: the same report and query answers as from disk`, async () => {
      const picked = await asPicked(path.join(SAMPLES, id));
      expect(picked.kind).toBe('directory');
      expect(picked.files.map((f) => f.path)).toContain('member/snap/db');
      const browser = pickedDirectory(picked);
      const disk = localDirectory(path.join(SAMPLES, id));
      try {
        const [a, b] = [await validateDirectory(browser), await validateDirectory(disk)];
        expect(a.engine).toBe('etcd');
        expect(same(a)).toEqual(same(b));
        for (const q of QUERIES) expect(await answerEtcdQuery(browser, a, q), `${id} ${q.kind}`).toEqual(await answerEtcdQuery(disk, b, q));
      } finally {
        await disk.close();
      }
    });
  }

  it('a lone db file is an etcd input on its own, and its keys can be listed', async () => {
    const f = new File([await openAsBlob(path.join(SAMPLES, 'etcd-healthy', 'member', 'snap', 'db'))], 'db');
    const picked = pickedFromFileList([f])!;
    expect(picked).toMatchObject({ kind: 'file', rootName: 'db' });
    const dir = pickedDirectory(picked);
    const report = await validateDirectory(dir);
    expect(report.engine).toBe('etcd');
    expect(report.etcd?.layout.input).toBe('db-file');
    const keys = await answerEtcdQuery(dir, report, { kind: 'keys', offset: 0, limit: 1000 });
    expect(keys.items.filter((k) => !k.tombstone)).toHaveLength(160);
  });
});
