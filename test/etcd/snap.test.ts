/**
 * .snap files: the reader's checks and texts (etcd's `snap: empty snapshot`,
 * `snap: crc mismatch`), the encoder round trip, and the choice of the .snap
 * etcd loads, checked against real etcd 3.4's own log line ("recovered store
 * from snapshot at index N") on copies with a broken newest .snap and with an
 * orphan .snap newer than the WAL's commit.
 */
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFileSource, localDirectory } from '../../electron/services/fs-source';
import { memorySource } from '../../shared/bytes/byte-source';
import { copyDir, hashTree, makeGolden, requireEtcd, tempDir, tryStartEtcd, type EtcdGolden } from '../helpers/etcd';
import { GOLDEN_SPECS, flipByte } from '../helpers/etcd-damage';
import { decodeSnapBytes, encodeSnapFile, readSnapFile, SNAP_ERRORS } from '../../shared/formats/etcd/snap';
import { chooseSnap } from '../../shared/formats/etcd/snap-choice';
import { scanWal } from '../../shared/formats/etcd/wal';
import { snapName } from '../../shared/formats/etcd/wal-name';
import type { SnapFileInfo } from '../../shared/contract/etcd';

const haveEtcd = requireEtcd();

const store = (id: string, name: string) =>
  JSON.stringify({
    Root: {
      Path: '/',
      Children: {
        '0': {
          Path: '/0',
          Children: {
            members: {
              Path: '/0/members',
              Children: {
                [id]: {
                  Path: `/0/members/${id}`,
                  Children: {
                    attributes: { Value: JSON.stringify({ name, clientURLs: ['http://10.0.0.1:2379'] }) },
                    raftAttributes: { Value: JSON.stringify({ peerURLs: ['http://10.0.0.1:2380'], isLearner: true }) },
                  },
                },
              },
            },
            removed_members: { Children: { '1234abcd': { Value: 'removed' } } },
          },
        },
      },
    },
  });

function snapBytes(index: number, term: number): Uint8Array {
  return encodeSnapFile({
    data: new TextEncoder().encode(store('8e9e05c52164694d', 'infra1')),
    index,
    term,
    confState: { voters: [0x8e9e05c52164694dn], learners: [0x42n], votersOutgoing: [], learnersNext: [], autoLeave: false },
  });
}

describe('.snap reader', () => {
  it('decodes what the encoder wrote: metadata, conf state, v2 members', async () => {
    const { info, findings } = await readSnapFile(memorySource('x', snapBytes(402, 3)), `member/snap/${snapName(3, 402)}`);
    expect(findings).toEqual([]);
    expect(info).toMatchObject({ ok: true, error: null, index: 402, term: 3, voters: ['8e9e05c52164694d'], learners: ['42'] });
    expect(info.members).toEqual([
      { id: '8e9e05c52164694d', name: 'infra1', peerURLs: ['http://10.0.0.1:2380'], clientURLs: ['http://10.0.0.1:2379'], isLearner: true },
    ]);
    expect(decodeSnapBytes(snapBytes(1, 1)).removedMembers).toEqual(['1234abcd']);
  });

  it('gives etcd texts for empty, zero-CRC, flipped and truncated files, and never throws', async () => {
    expect(decodeSnapBytes(new Uint8Array(0)).error).toBe(SNAP_ERRORS.empty);
    expect(decodeSnapBytes(Uint8Array.from([0x08, 0x00, 0x12, 0x01, 0x00])).error).toBe(SNAP_ERRORS.empty);
    const b = snapBytes(10, 2);
    const flipped = b.slice();
    flipped[flipped.length - 1]! ^= 1;
    const r = decodeSnapBytes(flipped);
    expect(r.error).toBe(SNAP_ERRORS.crc);
    expect(r.crcStored).not.toBe(r.crcComputed);
    expect(decodeSnapBytes(b.subarray(0, b.length - 3)).error).toBe('unexpected EOF');
    const { info, findings } = await readSnapFile(memorySource('x', flipped), 'member/snap/x.snap');
    expect(info.ok).toBe(false);
    expect(findings.map((f) => [f.code, f.file, f.engineError])).toEqual([['snap.crc', 'member/snap/x.snap', 'snap: crc mismatch']]);
  });

  it('a CRC-valid wrapper around bytes that are not a raft snapshot: snap.decode; a huge file: snap.too-large, unread', async () => {
    const garbage = Uint8Array.from([0x12, 0x03, 0x0a, 0x05, 0x01]);
    const crc = (await import('../../shared/formats/etcd/crc32c')).crc32c(garbage);
    const v = [0x08];
    for (let x = crc; ; x = Math.floor(x / 128)) {
      if (x < 0x80) {
        v.push(x);
        break;
      }
      v.push((x & 0x7f) | 0x80);
    }
    const file = Uint8Array.from([...v, 0x12, garbage.length, ...garbage]);
    const { info, findings } = await readSnapFile(memorySource('x', file), 'member/snap/x.snap');
    expect(info.ok).toBe(false);
    expect(findings.map((f) => [f.code, f.engineError])).toEqual([['snap.decode', 'unexpected EOF']]);
    let reads = 0;
    const huge = { name: 'h', size: 300 * 1024 * 1024, read: async () => (reads++, new Uint8Array(0)) };
    const big = await readSnapFile(huge, 'member/snap/h.snap');
    expect(big.findings.map((f) => f.code)).toEqual(['snap.too-large']);
    expect(reads).toBe(0);
  });

  it('names a file whose name and content disagree', async () => {
    const { findings } = await readSnapFile(memorySource('x', snapBytes(10, 2)), `member/snap/${snapName(2, 11)}`);
    expect(findings.map((f) => f.code)).toEqual(['snap.name-mismatch']);
  });
});

function info(file: string, term: number, index: number, ok = true): SnapFileInfo {
  return { file, term, index, size: 1, ok, error: ok ? null : 'snap: crc mismatch', voters: [], learners: [], members: [], matchesWal: false, chosen: false };
}

describe('snap choice (LoadNewestAvailable)', () => {
  const wal = [
    { index: 0, term: 0 },
    { index: 100, term: 2 },
    { index: 200, term: 2 },
    { index: 300, term: 3 },
  ];
  it('takes the newest name that reads and has a WAL record with index <= commit', () => {
    const snaps = [info('s/' + snapName(2, 100), 2, 100), info('s/' + snapName(2, 200), 2, 200), info('s/' + snapName(3, 300), 3, 300)];
    expect(chooseSnap(snaps, wal, 300).chosen?.index).toBe(300);
    // 300 is beyond the commit: not valid, so 200.
    const c = chooseSnap(snaps, wal, 250);
    expect(c.chosen?.index).toBe(200);
    expect(c.orphans).toEqual(['s/' + snapName(3, 300)]);
  });
  it('skips (and etcd renames) broken files before the chosen one, not after', () => {
    const snaps = [info('s/' + snapName(2, 100), 2, 100, false), info('s/' + snapName(2, 200), 2, 200), info('s/' + snapName(3, 300), 3, 300, false)];
    const c = chooseSnap(snaps, wal, 300);
    expect(c.chosen?.file).toBe('s/' + snapName(2, 200));
    expect(c.renamedBroken).toEqual(['s/' + snapName(3, 300)]);
    expect(c.snaps.map((s) => s.chosen)).toEqual([false, true, false]);
  });
  it('goes by name order, not by index (a term-3 name sorts after any term-2 name)', () => {
    const snaps = [info('s/' + snapName(3, 150), 3, 150), info('s/' + snapName(2, 200), 2, 200)];
    expect(chooseSnap(snaps, [...wal, { index: 150, term: 3 }], 300).chosen?.index).toBe(150);
  });
  it('none: null', () => {
    expect(chooseSnap([info('s/' + snapName(9, 9), 9, 9)], wal, 300).chosen).toBeNull();
  });
});

let root = '';
let golden: EtcdGolden;

/** The index etcd says it recovered the v2 store from, or null when it loaded no .snap. */
function recoveredIndex(output: string): number | null {
  const m = /recovered store from snapshot at index (\d+)/.exec(output);
  return m ? Number(m[1]) : null;
}

async function predictChoice(dataDir: string): Promise<ReturnType<typeof chooseSnap>> {
  const wal = localDirectory(path.join(dataDir, 'member/wal'));
  const scan = await scanWal(wal, 'member/wal');
  await wal.close();
  const snapDir = path.join(dataDir, 'member/snap');
  const infos: SnapFileInfo[] = [];
  for (const n of (await fs.readdir(snapDir)).filter((x) => x.endsWith('.snap'))) {
    const src = await openFileSource(path.join(snapDir, n));
    infos.push((await readSnapFile(src, `member/snap/${n}`)).info);
    await src.close();
  }
  return chooseSnap(infos, scan.info.snapshots, scan.info.hardState?.commit ?? 0);
}

describe.skipIf(!haveEtcd)('snap choice against real etcd 3.4', () => {
  beforeAll(async () => {
    root = await tempDir('snap');
    golden = await makeGolden(path.join(root, 'golden'), GOLDEN_SPECS.snaps);
  }, 120_000);
  afterAll(async () => {
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  const cases: { name: string; damage: (snapDir: string, names: string[]) => Promise<void> }[] = [
    { name: 'intact: the newest .snap', damage: async () => {} },
    { name: 'newest .snap flipped: the one before it', damage: async (d, n) => flipByte(path.join(d, n.at(-1)!), 40, 0x01) },
    {
      name: 'an orphan .snap newer than the commit: skipped',
      damage: async (d, n) => {
        const newest = decodeSnapBytes(await fs.readFile(path.join(d, n.at(-1)!)));
        const s = newest.snapshot!;
        await fs.writeFile(path.join(d, snapName(s.term, s.index + 1000)), encodeSnapFile({ ...s, index: s.index + 1000 }));
      },
    },
  ];
  for (const c of cases) {
    it(
      c.name,
      async () => {
        const copy = path.join(root, `case-${cases.indexOf(c)}`);
        await copyDir(golden.dir, copy);
        const snapDir = path.join(copy, 'member/snap');
        await c.damage(snapDir, (await fs.readdir(snapDir)).filter((n) => n.endsWith('.snap')).sort());
        const before = await hashTree(copy);
        const choice = await predictChoice(copy);
        const chosen = choice.chosen;
        expect(await hashTree(copy)).toBe(before);
        expect(chosen).not.toBeNull();
        const r = await tryStartEtcd(golden.startOptions(copy));
        expect(r.started, r.output.slice(-2000)).toBe(true);
        expect(recoveredIndex(r.output)).toBe(chosen!.index);
        // etcd renamed exactly the files the choice says it reads and fails on.
        const broken = (await fs.readdir(snapDir)).filter((n) => n.endsWith('.snap.broken')).map((n) => `member/snap/${n.slice(0, -'.broken'.length)}`);
        expect(broken).toEqual(choice.renamedBroken);
        await fs.rm(copy, { recursive: true, force: true });
      },
      60_000,
    );
  }
});
