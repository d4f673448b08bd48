/**
 * The FSM payload of a dqlite snapshot (the bytes inside `snapshot-TERM-INDEX-TS`
 * after LZ4; `dqlite:src/fsm.c` encodeSnapshotHeader / encodeDatabase):
 *
 *   u64 format (1), u64 number of databases
 *   per database: text filename (NUL-terminated, zero-padded to 8),
 *                 u64 main_size, u64 wal_size,
 *                 main_size bytes of the main file, wal_size bytes of its WAL
 *
 * dqlite up to 1.16 puts the WAL beside the main file; 1.17 and later write a
 * checkpointed main file and wal_size 0. Read as a stream (the payload can be
 * as large as the database): the fixed fields are assembled across chunks,
 * the contents handed on as they come. Damage is a `stop`, never a throw.
 */
import { pad8, putU64, u64NumAt } from './le';
import { MAX_COMMAND_FILENAME } from './command';

export const FSM_SNAPSHOT_FORMAT = 1;
/** More databases than this in one snapshot is damage (dqlite nodes hold a handful). */
export const MAX_SNAPSHOT_DATABASES = 256;

/** What a snapshot's database is handed on to. */
export interface FsmDatabaseSink {
  /** Bytes of the main file at `offset`, in order. */
  main(offset: number, bytes: Uint8Array): void | Promise<void>;
  /** Bytes of the WAL, in order. */
  wal(bytes: Uint8Array): void | Promise<void>;
  /** Both files were read whole. */
  end(): void | Promise<void>;
}

export interface FsmSnapshotSummary {
  databases: { name: string; mainSize: number; walSize: number }[];
  /** Why the payload could not be read to its end (null: read whole). */
  stop: { offset: number; why: string } | null;
  /** Bytes after the last database (dqlite ignores them). */
  trailingBytes: number;
}

type Field = { kind: 'header' } | { kind: 'name' } | { kind: 'sizes'; name: string } | { kind: 'main' | 'wal'; left: number; done: number } | { kind: 'after' };

export class FsmSnapshotReader {
  private field: Field = { kind: 'header' };
  /** Fixed-size fields being assembled (a name: up to MAX_COMMAND_FILENAME + 8 bytes). */
  private part = new Uint8Array(MAX_COMMAND_FILENAME + 8);
  private partFill = 0;
  private offset = 0;
  private count = 0;
  private sink: FsmDatabaseSink | null = null;
  readonly summary: FsmSnapshotSummary = { databases: [], stop: null, trailingBytes: 0 };

  constructor(private readonly onDatabase: (name: string, mainSize: number, walSize: number) => FsmDatabaseSink | Promise<FsmDatabaseSink>) {}

  async push(chunk: Uint8Array): Promise<void> {
    let at = 0;
    while (at < chunk.length && this.summary.stop === null) {
      const f = this.field;
      if (f.kind === 'after') {
        this.summary.trailingBytes += chunk.length - at;
        return;
      }
      if (f.kind === 'main' || f.kind === 'wal') {
        const n = Math.min(f.left, chunk.length - at);
        const bytes = chunk.subarray(at, at + n);
        if (f.kind === 'main') await this.sink!.main(f.done, bytes);
        else await this.sink!.wal(bytes);
        f.left -= n;
        f.done += n;
        at += n;
        this.offset += n;
        if (f.left === 0) await this.nextContent();
        continue;
      }
      if (f.kind === 'name') {
        // One 8-byte word at a time until the word holding the NUL.
        const n = Math.min(8 - (this.partFill % 8), chunk.length - at);
        this.part.set(chunk.subarray(at, at + n), this.partFill);
        this.partFill += n;
        at += n;
        this.offset += n;
        if (this.partFill % 8 !== 0) continue;
        const word = this.part.subarray(this.partFill - 8, this.partFill);
        if (!word.includes(0)) {
          if (this.partFill >= MAX_COMMAND_FILENAME + 8) this.stop(`a database name longer than ${MAX_COMMAND_FILENAME} bytes`);
          continue;
        }
        let name = '';
        for (let i = 0; this.part[i] !== 0; i++) name += String.fromCharCode(this.part[i]!);
        this.field = { kind: 'sizes', name };
        this.partFill = 0;
        continue;
      }
      const want = 16 - this.partFill;
      const n = Math.min(want, chunk.length - at);
      this.part.set(chunk.subarray(at, at + n), this.partFill);
      this.partFill += n;
      at += n;
      this.offset += n;
      if (this.partFill < 16) continue;
      this.partFill = 0;
      const first = u64NumAt(this.part, 0);
      const second = u64NumAt(this.part, 8);
      if (f.kind === 'header') {
        if (first !== FSM_SNAPSHOT_FORMAT) this.stop(`snapshot format ${first === Infinity ? 'beyond 2^53' : first} (dqlite writes ${FSM_SNAPSHOT_FORMAT})`);
        else if (second > MAX_SNAPSHOT_DATABASES) this.stop(`${second} databases (more than ${MAX_SNAPSHOT_DATABASES}: a damaged count)`);
        else {
          this.count = second;
          this.field = this.count === 0 ? { kind: 'after' } : { kind: 'name' };
        }
        continue;
      }
      // The sizes of a database's two files.
      if (f.kind !== 'sizes') continue; // (every other field was handled above)
      if (first === Infinity || second === Infinity) {
        this.stop(`database ${f.name}: a file size beyond 2^53 bytes (damaged)`);
        continue;
      }
      this.summary.databases.push({ name: f.name, mainSize: first, walSize: second });
      this.sink = await this.onDatabase(f.name, first, second);
      this.field = { kind: 'main', left: first, done: 0 };
      if (first === 0) await this.nextContent();
    }
  }

  /** No more bytes. */
  finish(): FsmSnapshotSummary {
    if (this.summary.stop === null && this.field.kind !== 'after') {
      const f = this.field;
      const what =
        f.kind === 'main' || f.kind === 'wal'
          ? `the ${f.kind} file of database ${this.summary.databases.at(-1)?.name ?? '?'} (${f.left} bytes missing)`
          : `a ${f.kind} field`;
      this.stop(`the snapshot ends inside ${what}`);
    }
    return this.summary;
  }

  private stop(why: string): void {
    this.summary.stop = { offset: this.offset, why };
  }

  /** The main file ended: the WAL next, or the database is whole. */
  private async nextContent(): Promise<void> {
    const f = this.field;
    if (f.kind === 'main') {
      const walSize = this.summary.databases.at(-1)!.walSize;
      this.field = { kind: 'wal', left: walSize, done: 0 };
      if (walSize > 0) return;
    }
    await this.sink!.end();
    this.sink = null;
    this.field = this.summary.databases.length < this.count ? { kind: 'name' } : { kind: 'after' };
  }
}

/** The payload's first 16 bytes: format 1 and the number of databases. */
export function encodeFsmSnapshotHeader(databases: number): Uint8Array {
  const b = new Uint8Array(16);
  putU64(b, 0, FSM_SNAPSHOT_FORMAT);
  putU64(b, 8, databases);
  return b;
}

/** A database's header: its name (NUL-terminated, padded to 8), then the sizes of its main file and WAL. */
export function encodeFsmDatabaseHeader(name: string, mainSize: number, walSize: number): Uint8Array {
  const nameBytes = pad8(name.length + 1);
  const b = new Uint8Array(nameBytes + 16);
  for (let i = 0; i < name.length; i++) b[i] = name.charCodeAt(i) & 0xff;
  putU64(b, nameBytes, mainSize);
  putU64(b, nameBytes + 8, walSize);
  return b;
}
