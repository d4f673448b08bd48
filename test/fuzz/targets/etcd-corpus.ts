/**
 * Seeds for the etcd targets, taken apart from the bundled samples (real etcd
 * 3.4 data dirs): whole WAL files, their records (type and data) for rebuilding
 * WALs with valid CRCs around a mutated payload, and the raft messages inside
 * them. Also a nested memory directory (etcd's member/wal, member/snap) whose
 * reads are bounds-checked.
 */
import type { ByteSource, DirEntry, DirectorySource } from '../../../shared/bytes/byte-source';
import { memorySource } from '../../../shared/bytes/byte-source';
import { readWalFile } from '../../../shared/formats/etcd/wal-file';
import { RECORD_TYPE, encodeWalRecord } from '../../../shared/formats/etcd/wal-record';
import { decodeEntry, decodeRaftSnapshot } from '../../../shared/formats/etcd/raft-entry';
import { bytesField, decodeMessage } from '../../../shared/formats/protobuf/wire';
import { check } from '../target';
import { etcdSampleFiles } from './corpus';

export type WalRecordSeed = { type: number; data: Uint8Array | null };

export interface EtcdWalCorpus {
  /** The samples' WAL files as etcd wrote them. */
  files: Uint8Array[];
  /** Their records in order (CRC records have null data), one list per file. */
  records: WalRecordSeed[][];
}

/** Every record of the samples' WAL files. */
export async function etcdWalCorpus(): Promise<EtcdWalCorpus> {
  const files = etcdSampleFiles((n) => n.endsWith('.wal'));
  const records: WalRecordSeed[][] = [];
  for (const f of files) {
    const list: WalRecordSeed[] = [];
    await readWalFile(memorySource('seed.wal', f), { isLast: true, crc: 0 }, (rec) => {
      list.push({ type: rec.type, data: rec.data ? rec.data.slice() : null });
    });
    check(list.length > 10, `sample WAL has only ${list.length} records`);
    records.push(list);
  }
  return { files, records };
}

/** A WAL file from records, with the CRC chain computed as etcd's encoder does (so mutated payloads get past the CRC check). */
export function buildWal(records: readonly WalRecordSeed[]): Uint8Array {
  const frames: Uint8Array[] = [];
  let crc = 0;
  for (const r of records) {
    const e = encodeWalRecord(r.type, r.data, crc);
    frames.push(e.frame);
    crc = e.crc;
  }
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

export interface RaftSeeds {
  entries: Uint8Array[];
  /** Entry data of normal entries (InternalRaftRequest). */
  requests: Uint8Array[];
  /** Entry data of conf-change entries (ConfChange). */
  confChanges: Uint8Array[];
  hardStates: Uint8Array[];
  /** raftpb.Snapshot from the samples' .snap files. */
  snapshots: Uint8Array[];
}

export function raftSeeds(wal: EtcdWalCorpus): RaftSeeds {
  const s: RaftSeeds = { entries: [], requests: [], confChanges: [], hardStates: [], snapshots: [] };
  for (const list of wal.records) {
    for (const r of list) {
      if (!r.data) continue;
      if (r.type === RECORD_TYPE.state) s.hardStates.push(r.data);
      if (r.type !== RECORD_TYPE.entry) continue;
      s.entries.push(r.data);
      const e = decodeEntry(r.data);
      if (!e.ok || !e.value.data) continue;
      (e.value.type === 1 ? s.confChanges : s.requests).push(e.value.data);
    }
  }
  for (const snap of etcdSampleFiles((n) => n.endsWith('.snap'))) {
    const m = decodeMessage(snap);
    const data = m.ok ? bytesField(m.fields, 2) : undefined;
    if (data && decodeRaftSnapshot(data).ok) s.snapshots.push(data);
  }
  for (const [k, v] of Object.entries(s)) check((v as Uint8Array[]).length > 0, `no ${k} seeds in the etcd samples`);
  return s;
}

const MAX_SINGLE_READ = 16 * 1024 * 1024;

/** A read-only source whose reads are checked: in range, never more than 16 MiB at once. */
export function guardedSource(name: string, bytes: Uint8Array): ByteSource {
  const inner = memorySource(name, bytes);
  return {
    name,
    size: inner.size,
    read(offset: number, length: number) {
      check(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0, `${name}: bad read ${offset}+${length}`);
      check(length <= MAX_SINGLE_READ, `${name}: read of ${length} bytes at ${offset} (limit ${MAX_SINGLE_READ})`);
      return inner.read(offset, length);
    },
  };
}

/** A nested directory over relative paths (`member/wal/x.wal`): `list`, `open` and `subdir` as the local file source has them. */
export function nestedDirectory(name: string, files: Record<string, Uint8Array>, prefix = ''): DirectorySource {
  return {
    name,
    async list(): Promise<DirEntry[]> {
      const out = new Map<string, DirEntry>();
      for (const [rel, b] of Object.entries(files)) {
        if (!rel.startsWith(prefix)) continue;
        const rest = rel.slice(prefix.length);
        const slash = rest.indexOf('/');
        if (slash < 0) out.set(rest, { name: rest, size: b.length, kind: 'file' });
        else if (!out.has(rest.slice(0, slash))) out.set(rest.slice(0, slash), { name: rest.slice(0, slash), size: 4096, kind: 'dir' });
      }
      return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    },
    async open(n: string): Promise<ByteSource> {
      const b = files[prefix + n];
      if (!b) throw new Error(`no such file: ${prefix}${n}`);
      return guardedSource(n, b);
    },
    async subdir(n: string): Promise<DirectorySource> {
      const p = `${prefix}${n}/`;
      if (!Object.keys(files).some((rel) => rel.startsWith(p))) throw new Error(`no such directory: ${prefix}${n}`);
      return nestedDirectory(n, files, p);
    },
  };
}
