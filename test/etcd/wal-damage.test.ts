/**
 * Damaged WALs against real etcd 3.4: for every case a copy of a real data
 * dir is damaged, the WAL scan (with the .snap choice) predicts whether etcd
 * starts and, when it does not, the exact text of its fatal line; then etcd
 * is started on the copy and must do exactly that. Multi-file WALs are made
 * by cutting a real WAL the way etcd's `cut()` does (CRC record, metadata,
 * HardState at the head of every new file) with the record encoder, and real
 * etcd must accept them first. Every input is hashed before and after the scan.
 */
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDirectory, openFileSource } from '../../electron/services/fs-source';
import { copyDir, hashTree, makeGolden, requireEtcd, tempDir, tryStartEtcd, type EtcdGolden } from '../helpers/etcd';
import { ETCD_DAMAGE_CASES, GOLDEN_SPECS, flipByte, walFiles, walFrames, type EtcdGoldenName } from '../helpers/etcd-damage';
import { scanWal, type WalScan } from '../../shared/formats/etcd/wal';
import { readSnapFile } from '../../shared/formats/etcd/snap';
import { chooseSnap } from '../../shared/formats/etcd/snap-choice';
import { encodeWalRecord, SEGMENT_SIZE_BYTES } from '../../shared/formats/etcd/wal-record';
import { walName } from '../../shared/formats/etcd/wal-name';
import { decodeEntry } from '../../shared/formats/etcd/raft-entry';
import type { SnapFileInfo } from '../../shared/contract/etcd';

const haveEtcd = requireEtcd();

/** The WAL verdict for a data dir: scan, choose the .snap etcd would load, rescan opened at it. */
async function predict(dataDir: string): Promise<{ scan: WalScan; chosen: string | null }> {
  const wal = localDirectory(path.join(dataDir, 'member/wal'));
  try {
    let scan = await scanWal(wal, 'member/wal');
    if (!scan.validSnapshots || (scan.readError && (scan.readError.stage === 'valid-snapshot-entries' || scan.readError.stage === 'list')))
      return { scan, chosen: null };
    const snapDir = path.join(dataDir, 'member/snap');
    const infos: SnapFileInfo[] = [];
    for (const n of (await fs.readdir(snapDir)).filter((x) => x.endsWith('.snap'))) {
      const src = await openFileSource(path.join(snapDir, n));
      try {
        infos.push((await readSnapFile(src, `member/snap/${n}`)).info);
      } finally {
        await src.close();
      }
    }
    const choice = chooseSnap(infos, scan.validSnapshots, Infinity);
    const openAt = choice.chosen ? { index: choice.chosen.index, term: choice.chosen.term } : { index: 0, term: 0 };
    if (openAt.index !== scan.openedAt?.index || openAt.term !== scan.openedAt?.term) scan = await scanWal(wal, 'member/wal', { openAt });
    // The ReadAll model from pass 1's facts equals a real second pass.
    const exact = await scanWal(wal, 'member/wal', { openAt, exactReadAll: true });
    expect({ ...exact, bytesRead: 0 }).toEqual({ ...scan, bytesRead: 0 });
    return { scan, chosen: choice.chosen?.file ?? null };
  } finally {
    await wal.close();
  }
}

/**
 * Cut the single WAL file of `dataDir` into files starting at the given
 * record ordinals, as etcd's `cut()` writes them: the old file ends where its
 * last record ends; the new one is named (seq+1, last entry index+1) and
 * starts with a CRC record carrying the running CRC, the metadata and the
 * latest HardState. The last file keeps the 64,000,000-byte preallocation.
 */
async function splitWal(dataDir: string, pieces: number): Promise<string[]> {
  const [file] = await walFiles(dataDir);
  const b = await fs.readFile(file!);
  const frames = await walFrames(file!);
  // Cut where etcd can: after a Save (a HardState record), before the next entry; evenly spread.
  const candidates = frames.map((f, i) => i).filter((i) => i > 0 && frames[i]!.type === 2 && frames[i - 1]!.type === 3);
  const cutAt = Array.from({ length: pieces - 1 }, (_, k) => candidates[Math.floor(((k + 1) * candidates.length) / pieces)]!);
  const recs = frames.map((f) => ({ type: f.type, data: f.type === 4 ? null : b.subarray(f.payloadOffset, f.payloadOffset + f.payloadLength) }));
  const metadata = recs.find((r) => r.type === 1)!.data!;
  const parts: Uint8Array[][] = [[]];
  const names: string[] = [walName(0, 0)];
  let crc = 0;
  let lastState: Uint8Array | null = null;
  let lastIndex = 0;
  for (let i = 0; i < recs.length; i++) {
    if (cutAt.includes(i)) {
      names.push(walName(names.length, lastIndex + 1));
      parts.push([]);
      const head = [{ type: 4, data: null }, { type: 1, data: metadata }, ...(lastState ? [{ type: 3, data: lastState }] : [])];
      for (const h of head) {
        const e = encodeWalRecord(h.type, h.data, crc);
        crc = e.crc;
        parts.at(-1)!.push(e.frame);
      }
    }
    const r = recs[i]!;
    const e = encodeWalRecord(r.type, r.data, crc);
    crc = e.crc;
    parts.at(-1)!.push(e.frame);
    if (r.type === 3) lastState = r.data;
    if (r.type === 2) {
      const d = decodeEntry(r.data!);
      if (d.ok) lastIndex = d.value.index;
    }
  }
  await fs.rm(file!);
  const dir = path.dirname(file!);
  const out: string[] = [];
  for (let k = 0; k < parts.length; k++) {
    const p = path.join(dir, names[k]!);
    await fs.writeFile(p, Buffer.concat(parts[k]!), { mode: 0o600 });
    if (k === parts.length - 1) await fs.truncate(p, SEGMENT_SIZE_BYTES);
    out.push(p);
  }
  return out;
}

interface Case {
  name: string;
  golden: EtcdGoldenName | 'split';
  damage: (dataDir: string) => Promise<void>;
  /** What the scan must say (checked before etcd runs). */
  expect: { kind: string | null; repairable?: boolean; engineError?: string; fatal?: string | null; code?: string };
}

const byName = (n: string) => ETCD_DAMAGE_CASES.find((c) => c.name === n)!;
const fromShared = (n: string, e: Case['expect']): Case => ({ ...byName(n), expect: e });

/** Records of a split file, for damage aimed at one of them. */
async function framesOf(dataDir: string, k: number) {
  const f = (await walFiles(dataDir))[k]!;
  return { file: f, frames: await walFrames(f) };
}

const CASES: Case[] = [
  fromShared('intact, cleanly stopped', { kind: null }),
  fromShared('intact, killed, with .snap files', { kind: null }),
  fromShared('leftover .tmp and .broken files beside an intact WAL', { kind: null }),
  fromShared('WAL: torn tail (last record zeroed)', { kind: 'torn-tail', repairable: true, engineError: 'unexpected EOF', code: 'wal.torn-tail' }),
  fromShared('WAL: file cut in the middle of the last entry', { kind: 'torn-tail', repairable: true, engineError: 'unexpected EOF', code: 'wal.torn-tail' }),
  fromShared('WAL: file cut in the middle of an early entry', { kind: 'torn-tail', repairable: true, engineError: 'unexpected EOF', code: 'wal.torn-tail' }),
  fromShared('WAL: bit flip in the head (first entry)', {
    kind: 'crc-mismatch',
    engineError: 'walpb: crc mismatch',
    fatal: 'walpb: crc mismatch',
    code: 'wal.record-crc',
  }),
  fromShared('WAL: bit flip in the middle', { kind: 'crc-mismatch', engineError: 'walpb: crc mismatch', fatal: 'walpb: crc mismatch', code: 'wal.record-crc' }),
  fromShared('WAL: bit flip in the last record', {
    kind: 'crc-mismatch',
    engineError: 'walpb: crc mismatch',
    fatal: 'walpb: crc mismatch',
    code: 'wal.record-crc',
  }),
  {
    name: 'WAL: a record in the middle zeroed (torn: etcd truncates there)',
    golden: 'small',
    damage: async (d) => {
      const { file, frames } = await framesOf(d, 0);
      const e = frames.filter((f) => f.type === 2)[150]!;
      const h = await fs.open(file, 'r+');
      try {
        await h.write(Buffer.alloc(e.length), 0, e.length, e.dataOffset);
      } finally {
        await h.close();
      }
    },
    expect: { kind: 'torn-tail', repairable: true, engineError: 'unexpected EOF', code: 'wal.torn-tail' },
  },
  {
    name: 'WAL: a zero length word in the middle (the log ends there, etcd zero-fills the rest)',
    golden: 'small',
    damage: async (d) => {
      const { file, frames } = await framesOf(d, 0);
      const e = frames.filter((f) => f.type === 2)[150]!;
      const h = await fs.open(file, 'r+');
      try {
        await h.write(Buffer.alloc(8), 0, 8, e.offset);
      } finally {
        await h.close();
      }
    },
    expect: { kind: null },
  },
  {
    name: 'WAL: the only WAL file renamed to a name etcd cannot parse',
    golden: 'small',
    damage: async (d) => {
      const [w] = await walFiles(d);
      await fs.rename(w!, path.join(path.dirname(w!), 'wal-backup.wal'));
    },
    expect: { kind: 'bad-name', engineError: 'wal: file not found', fatal: 'wal: file not found' },
  },
  fromShared('.snap: newest snap has a flipped byte', { kind: null }),
  fromShared('.snap: every snap missing', { kind: null }),
  { name: 'split: intact three files', golden: 'split', damage: async () => {}, expect: { kind: null } },
  {
    name: 'split: middle file missing',
    golden: 'split',
    damage: async (d) => fs.rm((await walFiles(d))[1]!),
    expect: { kind: 'seq-gap', engineError: 'wal: crc mismatch', fatal: 'wal: crc mismatch', code: 'wal.chain-crc' },
  },
  {
    name: 'split: first file missing (no WAL file reaches back to index 0)',
    golden: 'split',
    damage: async (d) => fs.rm((await walFiles(d))[0]!),
    expect: { kind: 'snapshot-not-found', engineError: 'wal: file not found', fatal: 'open wal error: wal: file not found', code: 'wal.file-not-found' },
  },
  {
    name: 'split: CRC record at the start of the third file changed',
    golden: 'split',
    damage: async (d) => {
      const { file, frames } = await framesOf(d, 2);
      const crcFrame = frames[0]!;
      const b = await fs.readFile(file);
      const at = b.subarray(crcFrame.dataOffset, crcFrame.dataOffset + crcFrame.length).indexOf(0x10);
      await flipByte(file, crcFrame.dataOffset + at + 1, 0x01);
    },
    expect: { kind: 'boundary-crc-mismatch', engineError: 'wal: crc mismatch', fatal: 'wal: crc mismatch', code: 'wal.chain-crc' },
  },
  {
    name: 'split: bit flip in an entry of the first file',
    golden: 'split',
    damage: async (d) => {
      const { file, frames } = await framesOf(d, 0);
      const e = frames.filter((f) => f.type === 2)[30]!;
      await flipByte(file, e.payloadOffset + e.payloadLength - 1, 0x01);
    },
    expect: { kind: 'crc-mismatch', engineError: 'walpb: crc mismatch', fatal: 'walpb: crc mismatch', code: 'wal.record-crc' },
  },
  {
    name: 'split: first file cut in the middle of its last record',
    golden: 'split',
    damage: async (d) => {
      const { file, frames } = await framesOf(d, 0);
      const last = frames.at(-1)!;
      await fs.truncate(file, last.dataOffset + Math.floor(last.length / 2));
    },
    expect: {
      kind: 'torn-tail',
      repairable: false,
      engineError: 'unexpected EOF',
      fatal: 'read wal error (unexpected EOF) and cannot be repaired',
      code: 'wal.unexpected-eof',
    },
  },
  {
    name: 'split: garbage length word in the second file',
    golden: 'split',
    damage: async (d) => {
      const { file, frames } = await framesOf(d, 1);
      const f = frames[10]!;
      const h = await fs.open(file, 'r+');
      try {
        await h.write(Buffer.from([0, 0, 0, 0x40, 0, 0, 0, 0]), 0, 8, f.offset);
      } finally {
        await h.close();
      }
    },
    expect: { kind: 'decode', engineError: 'wal: max entry size limit exceeded', fatal: 'wal: max entry size limit exceeded', code: 'wal.max-size' },
  },
  {
    name: 'split: last record of the last file torn (second sector zero)',
    golden: 'split',
    damage: async (d) => {
      // Append a record that spans a sector boundary and whose second sector never reached the disk.
      const { file, frames } = await framesOf(d, 2);
      const end = frames.at(-1)!.dataOffset + frames.at(-1)!.length + frames.at(-1)!.padding;
      const len = 1000;
      const word = Buffer.alloc(8);
      word.writeUInt32LE(len, 0);
      const body = Buffer.alloc(len);
      body.fill(0x5a, 0, 100);
      const h = await fs.open(file, 'r+');
      try {
        await h.write(Buffer.concat([word, body]), 0, 8 + len, end);
      } finally {
        await h.close();
      }
    },
    expect: { kind: 'torn-tail', repairable: true, engineError: 'unexpected EOF', code: 'wal.torn-tail' },
  },
];

let root = '';
const goldens: Partial<Record<EtcdGoldenName | 'split', EtcdGolden>> = {};

describe.skipIf(!haveEtcd)('damaged WALs: the scan predicts what real etcd 3.4 does', () => {
  beforeAll(async () => {
    root = await tempDir('wal-damage');
    goldens.small = await makeGolden(path.join(root, 'golden-small'), GOLDEN_SPECS.small);
    goldens.snaps = await makeGolden(path.join(root, 'golden-snaps'), GOLDEN_SPECS.snaps);
    // The split golden: the small golden's WAL cut into three files.
    const split = path.join(root, 'golden-split');
    await copyDir(goldens.small.dir, split);
    expect(await splitWal(split, 3)).toHaveLength(3);
    goldens.split = { ...goldens.small, dir: split };
  }, 180_000);

  afterAll(async () => {
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(
      c.name,
      async () => {
        const golden = goldens[c.golden]!;
        const copy = path.join(root, `case-${CASES.indexOf(c)}`);
        await copyDir(golden.dir, copy);
        await c.damage(copy);
        const before = await hashTree(copy);
        const { scan } = await predict(copy);
        expect(await hashTree(copy)).toBe(before);

        const e = scan.readError;
        expect(
          e?.kind ?? null,
          JSON.stringify({
            e,
            files: scan.info.files.map((f) => [f.file, f.records, f.validBytes, f.status, f.role]),
            findings: scan.findings.map((f) => f.message),
          }),
        ).toBe(c.expect.kind);
        if (c.expect.engineError !== undefined) expect(e?.engineError).toBe(c.expect.engineError);
        if (c.expect.repairable !== undefined) expect(e?.repairable).toBe(c.expect.repairable);
        if (e && e.kind !== 'no-wal') {
          expect(e.file).toMatch(e.kind === 'bad-name' ? /^member\/wal\/[^/]+\.wal$/ : /^member\/wal\/[0-9a-f]{16}-[0-9a-f]{16}\.wal$/);
          if (e.kind !== 'seq-gap' && e.kind !== 'bad-name' && e.stage !== 'open') expect(typeof e.offset).toBe('number');
          const f = scan.findings.find(
            (x) => x.file === e.file && (x.severity === 'error' || x.code === 'wal.torn-tail' || (e.kind === 'bad-name' && x.code === 'wal.ignored-file')),
          );
          expect(f, JSON.stringify(scan.findings)).toBeDefined();
        }
        if (c.expect.code) {
          const f = scan.findings.find((x) => x.code === c.expect.code && x.file === e!.file)!;
          expect(f, JSON.stringify(scan.findings)).toBeDefined();
          expect(f.offset).toBe(e!.offset);
          expect(f.engineError).toBe(e!.engineError);
          expect(f.message).toContain(e!.file!);
        }
        const predictedStart = e === null || e.repairable;
        if (c.expect.fatal !== undefined) expect(e?.fatalText ?? null).toBe(c.expect.fatal);

        const r = await tryStartEtcd(golden.startOptions(copy));
        expect(r.started, r.output.slice(-3000)).toBe(predictedStart);
        if (!predictedStart) expect(r.fatal).toBe(e!.fatalText);
        if (e?.repairable) {
          // etcd's own repair kept the original next to the file it truncated.
          const broken = (await fs.readdir(path.join(copy, 'member/wal'))).filter((n) => n.endsWith('.wal.broken'));
          expect(broken).toEqual([`${path.basename(e.file!)}.broken`]);
          expect(scan.info.tornTail).toEqual({ file: e.file, offset: e.offset });
        }
        if (r.started && c.golden !== 'snaps' && e === null) expect(r.keys).toEqual(golden.keys);
        if (c.name.startsWith('WAL: a zero length word')) expect(scan.findings.map((f) => f.code)).toContain('wal.data-after-end');
        await fs.rm(copy, { recursive: true, force: true });
      },
      60_000,
    );
  }
});
