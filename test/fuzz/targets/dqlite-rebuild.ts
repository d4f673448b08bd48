import { memoryDirectory, memorySource } from '../../../shared/bytes/byte-source';
import { ENTRY_COMMAND, readBatchEntries } from '../../../shared/formats/dqlite/batch';
import { decodeCommand } from '../../../shared/formats/dqlite/command';
import { concatBytes } from '../../../shared/formats/dqlite/le';
import { FsmSnapshotReader } from '../../../shared/formats/dqlite/fsm-snapshot';
import { MAX_REBUILT_BYTES, rebuildDqlite, type RebuildSink } from '../../../shared/formats/dqlite/rebuild';
import { classifyName } from '../../../shared/formats/dqlite/segment-name';
import { SqliteWalReader } from '../../../shared/formats/dqlite/sqlite-wal';
import { inspectDqliteDirectory } from '../../../shared/formats/dqlite/validate';
import { verifyLz4Frame } from '../../../shared/formats/lz4/frame';
import { mutateBytes } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { sampleDir } from './corpus';

type Dir = Record<string, Uint8Array>;

/** A sink that keeps no bytes, only checks every write stays inside the rebuild's bound. */
function boundedSink(): RebuildSink & { files: string[] } {
  const files: string[] = [];
  return {
    files,
    create(name) {
      check(typeof name === 'string', 'database name is not a string');
      files.push(name);
      return Promise.resolve({
        fileName: `${name}.db`,
        file: {
          write(offset: number, bytes: Uint8Array) {
            check(Number.isSafeInteger(offset) && offset >= 0 && offset + bytes.length <= MAX_REBUILT_BYTES, `write of ${bytes.length} bytes at ${offset}`);
            return Promise.resolve();
          },
          setSize(bytes: number) {
            check(Number.isSafeInteger(bytes) && bytes >= 0 && bytes <= MAX_REBUILT_BYTES, `file size ${bytes}`);
            return Promise.resolve();
          },
        },
      });
    },
  };
}

export const dqliteRebuild: FuzzTarget<Dir, Dir[]> = {
  name: 'dqlite-rebuild',
  what: 'offline rebuild (salvage --out) of mutated real backend directories: no throw, every write inside the size bound, a plain report whose stop names a file of the directory',
  corpus: () => [sampleDir('dqlite-healthy'), sampleDir('dqlite-field-report')],
  generate: (r, corpus) => {
    const files: Dir = { ...r.pick(corpus) };
    const names = Object.keys(files).filter((n) => classifyName(n).kind !== 'unknown');
    for (let k = r.chance(0.8) ? 1 : 2 + r.int(3); k > 0; k--) {
      const name = r.pick(names);
      files[name] = mutateBytes(r, files[name]!, 32 * 1024);
    }
    if (r.chance(0.05)) delete files[r.pick(Object.keys(files))];
    return files;
  },
  run: async (files) => {
    const dir = memoryDirectory('backend', files);
    const { report: validated } = await inspectDqliteDirectory(dir);
    if (!validated.dqlite) return;
    const sink = boundedSink();
    const r = await rebuildDqlite(
      dir,
      { dqlite: validated.dqlite, startable: validated.startable, dataLoss: validated.dataLoss, findings: validated.findings },
      sink,
    );
    if (r.stop?.file) check(r.stop.file in files, `stop names ${r.stop.file}, not in the directory`);
    if (r.log) check(r.log.from <= r.log.to + 1 && r.log.entries === r.log.to - r.log.from + 1, `log ${JSON.stringify(r.log)}`);
    check(r.databases.length === sink.files.length, 'databases reported and created differ');
    for (const d of r.databases) check(d.bytes === d.pages * d.pageSize && d.bytes <= MAX_REBUILT_BYTES, `database ${d.name}: ${d.bytes} bytes`);
    checkPlain(r, 'rebuild report');
  },
  files: (d) => d,
  size: (d) => Object.values(d).reduce((n, b) => n + b.length, 0),
};

interface Payloads {
  /** Decompressed FSM snapshot payloads (each holds a database and its SQLite WAL). */
  snapshots: Uint8Array[];
  /** RAFT_COMMAND payloads (FRAMES). */
  commands: Uint8Array[];
}

/** The payloads behind the checksums, mutated directly: the decoders a damaged log or snapshot never reaches. */
export const dqlitePayloads: FuzzTarget<{ kind: 'snapshot' | 'command'; bytes: Uint8Array; cut: number }, Payloads> = {
  name: 'dqlite-payloads',
  what: 'FSM snapshot payloads (with their SQLite WAL) in random chunks and FRAMES commands, mutated past the checksums: no throw, offsets and pages inside the input',
  corpus: async () => {
    const out: Payloads = { snapshots: [], commands: [] };
    for (const s of ['dqlite-healthy', 'dqlite-field-report'] as const) {
      for (const [name, bytes] of Object.entries(sampleDir(s))) {
        if (/^snapshot-\d+-\d+-\d+$/.test(name)) {
          const parts: Uint8Array[] = [];
          await verifyLz4Frame(memorySource(name, bytes), { onData: (c) => void parts.push(c.slice()) });
          out.snapshots.push(concatBytes(parts));
        } else if (classifyName(name).kind === 'closed') {
          const b = await readBatchEntries(memorySource(name, bytes), 8, bytes.length);
          if (b.ok) for (const e of b.entries) if (e.type === ENTRY_COMMAND) out.commands.push(e.payload.slice());
        }
      }
    }
    return out;
  },
  generate: (r, c) => {
    const kind = r.chance(0.5) ? 'snapshot' : 'command';
    const bytes = mutateBytes(r, r.pick(kind === 'snapshot' ? c.snapshots : c.commands), 16 * 1024);
    return { kind, bytes, cut: 1 + r.int(9000) };
  },
  run: async ({ kind, bytes, cut }) => {
    if (kind === 'command') {
      const c = decodeCommand(bytes);
      if (c.kind === 'bad') check(c.offset >= 0 && c.offset <= bytes.length, `bad at ${c.offset} outside ${bytes.length}`);
      if (c.kind === 'frames') check(c.pagesAt + c.pageNumbers.length * c.pageSize <= bytes.length, 'pages past the payload');
      checkPlain(c, 'command');
      return;
    }
    let walBytes = 0;
    const fsm = new FsmSnapshotReader(() => {
      const wal = new SqliteWalReader((commit) => {
        for (const p of commit.pages) check(p.pgno >= 1 && p.data.length === wal.summary.pageSize, `page ${p.pgno} of ${p.data.length} bytes`);
      }, 1024 * 1024);
      return {
        main: (offset, b) => check(offset >= 0 && offset + b.length <= bytes.length, `main bytes at ${offset} past the payload`),
        wal: async (b) => {
          walBytes += b.length;
          await wal.push(b);
        },
        end: () => void checkPlain(wal.finish(), 'wal summary'),
      };
    });
    for (let at = 0; at < bytes.length; at += cut) await fsm.push(bytes.subarray(at, at + cut));
    const s = fsm.finish();
    check(walBytes <= bytes.length, 'more WAL bytes than the payload');
    if (s.stop) check(s.stop.offset >= 0 && s.stop.offset <= bytes.length, `stop at ${s.stop.offset} outside ${bytes.length}`);
    checkPlain(s, 'snapshot summary');
  },
  files: (i) => ({ [i.kind === 'snapshot' ? 'fsm-payload.bin' : 'command.bin']: i.bytes, 'cut.txt': String(i.cut) }),
  size: (i) => i.bytes.length,
};
