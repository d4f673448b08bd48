import type { Finding } from '../../../shared/contract/findings';
import { decodeWalFileBytes } from '../../../shared/formats/etcd/wal-file';
import { unmarshalRecord } from '../../../shared/formats/etcd/wal-record';
import { scanWal } from '../../../shared/formats/etcd/wal';
import { mutateBytes, type Rng } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { buildWal, etcdWalCorpus, nestedDirectory, type EtcdWalCorpus, type WalRecordSeed } from './etcd-corpus';

const WAL_DIR = 'member/wal';
const FIRST_WAL = '0000000000000000-0000000000000000.wal';

/** Files of the WAL directory (names inside member/wal). */
type WalInput = Record<string, Uint8Array>;

/** A real WAL with random byte mutations (mostly stops at the first CRC), or one rebuilt around a mutated record payload with a valid CRC chain (reaches the raft decoders). */
function oneFile(r: Rng, c: EtcdWalCorpus): Uint8Array {
  const pick = r.int(c.files.length);
  if (r.chance(0.4)) return mutateBytes(r, c.files[pick], 64 * 1024);
  const records: WalRecordSeed[] = c.records[pick].slice(0, r.chance(0.5) ? 24 + r.int(40) : undefined);
  for (let k = 1 + r.int(3); k > 0; k--) {
    const i = r.int(records.length);
    const rec = records[i];
    const mutated = r.chance(0.15)
      ? { type: r.pick([0, 1, 2, 3, 4, 5, 6, -1]), data: rec.data }
      : { type: rec.type, data: mutateBytes(r, rec.data ?? new Uint8Array(0), 512) };
    records[i] = mutated;
    if (r.chance(0.1)) records.splice(r.int(records.length), 0, records[r.int(records.length)]);
    if (r.chance(0.05)) records.splice(r.int(records.length), 1);
  }
  const wal = buildWal(records);
  return r.chance(0.2) ? mutateBytes(r, wal, 1024) : wal;
}

function checkFindings(findings: readonly Finding[], files: WalInput): void {
  for (const f of findings) {
    if (f.file === null) {
      check(f.offset === null, `${f.code} has an offset but no file`);
      continue;
    }
    if (f.file === WAL_DIR) continue;
    check(f.file.startsWith(`${WAL_DIR}/`), `${f.code} names ${f.file}, outside ${WAL_DIR}`);
    const bytes = files[f.file.slice(WAL_DIR.length + 1)];
    check(bytes !== undefined, `${f.code} names ${f.file}, not in the directory`);
    if (f.offset !== null)
      check(Number.isSafeInteger(f.offset) && f.offset >= 0 && f.offset <= bytes.length, `${f.code} at ${f.offset} outside ${f.file} (${bytes.length} bytes)`);
  }
}

export const etcdWal: FuzzTarget<WalInput, EtcdWalCorpus> = {
  name: 'etcd-wal',
  what: 'etcd WAL: decodeWalFileBytes and unmarshalRecord on one file, scanWal over member/wal (mutated real WALs, and rebuilt ones with valid CRCs around mutated records): no throw, offsets and validBytes inside the file, plain data',
  corpus: () => etcdWalCorpus(),
  generate: (r, c) => {
    const files: WalInput = { [FIRST_WAL]: oneFile(r, c) };
    // A second segment sometimes (the sequence and CRC-boundary checks), and now and then a stray file.
    if (r.chance(0.1)) files['0000000000000001-00000000000000ff.wal'] = oneFile(r, c);
    if (r.chance(0.03)) files[r.pick(['0.tmp', `${FIRST_WAL}.broken`, 'notes.txt'])] = mutateBytes(r, new Uint8Array(16), 64);
    return files;
  },
  run: async (files) => {
    const bytes = files[FIRST_WAL];
    const d = decodeWalFileBytes(bytes);
    check(d.validBytes >= 0 && d.validBytes <= bytes.length, `validBytes ${d.validBytes} outside ${bytes.length} bytes`);
    let prevEnd = 0;
    for (const rec of d.records) {
      check(
        rec.offset >= prevEnd && rec.offset + 8 + rec.length <= bytes.length,
        `record at ${rec.offset}+${rec.length} outside ${bytes.length} bytes (previous ended at ${prevEnd})`,
      );
      prevEnd = rec.offset + 8 + rec.length;
      const u = unmarshalRecord(bytes.subarray(rec.offset + 8, rec.offset + 8 + rec.length));
      check(u.ok, `record at ${rec.offset} listed as good does not unmarshal`);
    }
    check(prevEnd <= d.validBytes || d.records.length === 10_000, `records end at ${prevEnd}, past validBytes ${d.validBytes}`);
    if (d.end.kind === 'error')
      check(d.end.error.offset >= 0 && d.end.error.offset <= bytes.length, `error offset ${d.end.error.offset} outside ${bytes.length} bytes`);
    checkPlain(d, 'WAL decode');
    // The record decoder alone on arbitrary bytes (a window of the file).
    const from = bytes.length ? (bytes[0] * 97) % bytes.length : 0;
    const u = unmarshalRecord(bytes.subarray(from, from + 600));
    checkPlain(u, 'record');

    const scan = await scanWal(nestedDirectory('wal', files), WAL_DIR);
    checkFindings(scan.findings, files);
    for (const f of scan.info.files) {
      const b = files[f.file.slice(WAL_DIR.length + 1)];
      check(b !== undefined, `file info for ${f.file}, not in the directory`);
      check(f.validBytes >= 0 && f.validBytes <= b.length, `${f.file}: validBytes ${f.validBytes} outside ${b.length} bytes`);
      if (f.badOffset !== null) check(f.badOffset >= 0 && f.badOffset <= b.length, `${f.file}: badOffset ${f.badOffset} outside ${b.length} bytes`);
    }
    const e = scan.readError;
    if (e && e.file && e.offset !== null) {
      const b = files[e.file.slice(WAL_DIR.length + 1)];
      if (b) check(e.offset >= 0 && e.offset <= b.length, `read error at ${e.offset} outside ${e.file} (${b.length} bytes)`);
    }
    if (scan.info.tornTail) {
      const b = files[scan.info.tornTail.file.slice(WAL_DIR.length + 1)];
      check(b !== undefined && scan.info.tornTail.offset <= b.length, `torn tail at ${scan.info.tornTail.offset} outside ${scan.info.tornTail.file}`);
    }
    checkPlain(scan, 'WAL scan');
  },
  files: (f) => f,
  size: (f) => Object.values(f).reduce((n, b) => n + b.length, 0),
};
