/**
 * Salvage: every readable key of a damaged etcd backend, at its latest
 * revision with its exact value, written as a new bbolt file (a `snapshot.db`
 * for `etcdctl snapshot restore`, or a member's `db` for repair).
 *
 * How (never trusting the tree, never throwing on content):
 * 1. Scan every page position 2..end once, in order (`etcd-dump-db scan-keys`
 *    style): each page that is a leaf is decoded element by element, each
 *    element bounds-checked. Items of etcd's `key` bucket are recognised by
 *    shape (17/18-byte revision key with `_` at byte 8, value a
 *    mvccpb.KeyValue naming a key); the other buckets' items by the bucket
 *    they sit in (inline buckets in the root page, or pages the tree reaches
 *    from a named bucket), orphaned lease pages by shape. For every etcd key
 *    only the newest revision is remembered, as a file offset, not the value.
 * 2. A light walk from both metas tells which leaves the tree still reaches
 *    (`tree`) and which are cut off (`orphaned-leaf`). It reads branches a
 *    page at a time and a bucket's first leaf; the other leaves at that level
 *    the scan checks as it reads them (`PresumedLeaves`).
 * 3. WAL entries are replayed (`replayWal`): entries at or below the db's
 *    consistent index only fill what lost pages took (the WAL's last write of
 *    a key wins over an older leaf revision); entries above it are applied
 *    with etcd's apply semantics (txn compares, revision per write txn).
 * 4. The newest revision of every live key is written in revision order,
 *    values re-read from the source one at a time (bounded memory).
 *
 * Past a key-state budget (`SalvageOptions.keyStateBudget`) the keys come in
 * passes instead: the WAL's keys first, replayed once, then the others in
 * parts by key hash, each part's winners kept as small records
 * (`collectPartitions`, `writeWinners`). The same output, more reads.
 */
import type { ByteSource } from '../../bytes/byte-source';
import { MAX_READ } from '../../bytes/byte-source';
import type { SalvageKeySource, SalvageLoss, SalvageReport, SalvagedKey } from '../../contract/etcd-repair';
import type { Finding } from '../../contract/findings';
import { throwIfCancelled, type RunOptions } from '../../contract/progress';
import { bytesField, decodeMessage, i64Field, numField, u64Field } from '../protobuf/wire';
import {
  childPageOf,
  compareBytes,
  decodeBranchElements,
  decodeLeafElementAt,
  decodeLeafElements,
  ELEMENT_SIZE,
  elementsThatFit,
  type LeafElement,
} from './bbolt-element';
import { decodeMetaFields, DEFAULT_PAGE_SIZE, settledPageSize, validateMeta } from './bbolt-meta';
import { BUCKET_LEAF_FLAG, decodePageHeader, isBranch, isLeaf, PAGE_HEADER_SIZE, u32le, type PageHeader } from './bbolt-page';
import type { PageSink } from './bbolt-write';
import type { CompareSummary, InternalRequest } from './internal-request';
import type { WalEntry } from './wal';
import { hex, sha256OfSource } from './snapshot-db-write';
import { BigIntSlots, KeyIndex, NumberColumn, PackedNumberColumn } from './key-index';
import { hashKeyBytes, hashKeyRange } from './key-hash';
import { keyValueKeyLengthAt, keyValueKeyStartAt, keyValueModRevisionAt, keyValueSingleKeyTagAt } from './kv';
import { sayRepair } from './repair-say';
import { salvageFinding, walStopParams, walStopVariant } from './salvage-say';
import {
  CLUSTER_VERSION_KEY,
  encodeKeyValue,
  encodeLease,
  keyValueSize,
  META_CONSISTENT_INDEX,
  META_FINISHED_COMPACT,
  revisionKey,
  revisionKeyInto,
  u64be,
  writeEtcdBackend,
  type EtcdBucketName,
  type RevisionItem,
  type RevisionSize,
} from './etcd-db-write';

/** A page span (page + overflow) larger than this is not read (etcd's own request limit is 1.5 MiB). */
const MAX_SPAN_BYTES = 64 * 1024 * 1024;
/** Losses and findings listed (all are counted). */
const MAX_LISTED = 1000;
/** A main revision no etcd reaches (`revisionInOrder`): a revision key at or past it has a flipped high bit. */
const REVISION_BEYOND_ANY = 2 ** 40;
/**
 * Keys brought back from the WAL whose damaged twin is looked for (`Replayer.setAsideDamagedName`; past
 * MAX_RUN_DAMAGE_POOL suspects, 255 lookups per byte of the name), and the longest name looked up that way: a
 * damaged name is one key or a few, a lost page many.
 */
const MAX_TWIN_SEARCHES = 256;
const MAX_TWIN_KEY = 1024;
/** Db keys in the WAL's covered span that no held entry named, looked at for an older revision's damaged name at most. */
const MAX_OLDER_NAME_SUSPECTS = 16;
/**
 * Such keys compared whole with a name the WAL brought back (`Replayer.damagedNameTwins`), at most; past it only the
 * names one byte away are looked up.
 */
const MAX_RUN_DAMAGE_POOL = 4096;
/** Names one run of damage away from a suspect's that are checked against the WAL's puts, at most (more: left alone). */
const MAX_RUN_DAMAGE_TWINS = 64;
/** The longest run of overwritten bytes inside a name that is matched across (a zeroed or rewritten run, a sector at most). */
const MAX_NAME_DAMAGE_RUN = 512;

/**
 * Whether `bad` could be `good` with one run of its bytes overwritten (a flipped bit, a zeroed or rewritten run):
 * the same length, and every byte that differs within one run of at most MAX_NAME_DAMAGE_RUN bytes.
 */
export function oneRunApart(bad: Uint8Array, good: Uint8Array): boolean {
  if (bad.length !== good.length) return false;
  let first = -1;
  let last = -1;
  for (let i = 0; i < bad.length; i++) {
    if (bad[i] === good[i]) continue;
    if (first < 0) first = i;
    last = i;
  }
  return first >= 0 && last - first < MAX_NAME_DAMAGE_RUN;
}
/** Keys whose db value a held WAL write replaced that get a finding each (`Replayer.noteValueDiffers`). */
const MAX_VALUE_DIFFERS_LISTED = 20;
export const DEFAULT_KEYS_LISTED = 100_000;

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

/**
 * A copy that owns its bytes. Not `.slice()`: on a Node Buffer (what file
 * sources return) `slice` is a view that keeps the whole read buffer alive, so
 * every kept key pinned a 4 MiB window (a 1 GiB db held ~1 GB this way).
 */
export function copyBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

/**
 * A string holding one char code per byte (true Latin-1, unlike
 * TextDecoder('latin1'), which is windows-1252): a compact, exact map key,
 * and JS string order is byte order.
 */
export function keyId(b: Uint8Array): string {
  // apply over the typed array (a spread is ~10x slower), in slices far below the argument-count limit.
  const codes = (part: Uint8Array): string => String.fromCharCode.apply(null, part as unknown as number[]);
  if (b.length <= 4096) return codes(b);
  let s = '';
  for (let at = 0; at < b.length; at += 4096) s += codes(b.subarray(at, Math.min(b.length, at + 4096)));
  return s;
}

/** The bytes of a `keyId` string. */
export function keyBytes(id: string): Uint8Array {
  const out = new Uint8Array(id.length);
  for (let i = 0; i < id.length; i++) out[i] = id.charCodeAt(i);
  return out;
}

/** A key for display: UTF-8 when it decodes, else hex. */
export function displayKey(k: Uint8Array): string {
  try {
    return utf8.decode(k);
  } catch {
    let s = '0x';
    for (const b of k) s += b.toString(16).padStart(2, '0');
    return s;
  }
}

// ---------------------------------------------------------------- WAL replay input

/** The requests salvage applies: the WAL decoder's InternalRaftRequest (others are ignored). */
export type ReplayRequest = InternalRequest;
type ReplayCompare = CompareSummary;

export type ReplayEntry = Pick<WalEntry, 'index' | 'term' | 'type' | 'request'>;

/** Streams the WAL's entries in order (engineer 1's `readWalEntries` bound to a directory). */
export type WalEntryStream = (onEntry: (e: ReplayEntry) => void | Promise<void>) => Promise<void>;

// ---------------------------------------------------------------- state

/** Revisions a bitmap chunk covers (8 KiB of bits). */
const REVISION_CHUNK_BITS = 16;
const REVISION_CHUNK = 1 << REVISION_CHUNK_BITS;

/**
 * Main revisions seen. etcd's revisions are dense (2, 3, 4, ... each write
 * one), so they are bits in 8 KiB chunks of 65,536 revisions: a bit a
 * revision, where a list took 8 bytes (64 MB for 8 million revisions). A
 * chunk is allocated only while the chunks stay within ~2 bytes a revision
 * pushed (plus 1 MiB): a sparse or damaged revision (2^52 from a broken key)
 * goes to a list instead, 8 bytes each, sorted and deduplicated once when
 * read.
 */
export class RevisionList {
  private readonly chunks: (Uint8Array | undefined)[] = [];
  private chunkCount = 0;
  private items = new Float64Array(64);
  private length = 0;
  private sortedLength = 0;
  /** Revisions appended (duplicates counted). */
  pushed = 0;
  push(r: number): void {
    this.pushed++;
    if (Number.isInteger(r) && r >= 0 && r < 2 ** 32) {
      const c = r >>> REVISION_CHUNK_BITS;
      let chunk = this.chunks[c];
      if (!chunk && (this.chunkCount + 1) * (REVISION_CHUNK / 8) <= 2 * this.pushed + (1 << 20)) {
        while (this.chunks.length <= c) this.chunks.push(undefined);
        chunk = this.chunks[c] = new Uint8Array(REVISION_CHUNK / 8);
        this.chunkCount++;
      }
      if (chunk) {
        const bit = r & (REVISION_CHUNK - 1);
        chunk[bit >>> 3]! |= 1 << (bit & 7);
        return;
      }
    }
    if (this.length === this.items.length) {
      const grown = new Float64Array(this.items.length * 2);
      grown.set(this.items);
      this.items = grown;
    }
    this.items[this.length++] = r;
  }
  /**
   * Every distinct revision, ascending, to `visit` until it returns false
   * (no array of them made: a dense db's revisions are walked off the bits).
   */
  forEachAscending(visit: (r: number) => boolean): void {
    const list = this.listSorted();
    let at = 0;
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c];
      if (!chunk) continue;
      const base = c * REVISION_CHUNK;
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i]!;
        if (byte === 0) continue;
        for (let bit = 0; bit < 8; bit++) {
          if ((byte & (1 << bit)) === 0) continue;
          const r = base + i * 8 + bit;
          // The list's revisions below this one first; one equal to it is a duplicate (pushed before its chunk was).
          for (; at < list.length && list[at]! <= r; at++) if (list[at]! < r && !visit(list[at]!)) return;
          if (!visit(r)) return;
        }
      }
    }
    while (at < list.length) if (!visit(list[at++]!)) return;
  }
  /** The distinct revisions, ascending (a new array: `forEachAscending` walks them without one). */
  sorted(): Float64Array {
    const out: number[] = [];
    this.forEachAscending((r) => out.push(r) > 0);
    return Float64Array.from(out);
  }
  /** Bytes held. */
  get bytes(): number {
    return this.chunkCount * (REVISION_CHUNK / 8) + this.items.byteLength;
  }
  /** The list part, sorted and deduplicated in place (a view, valid until the next push). */
  private listSorted(): Float64Array {
    if (this.sortedLength !== this.length) {
      const view = this.items.subarray(0, this.length).sort();
      let n = 0;
      for (let i = 0; i < view.length; i++) if (n === 0 || view[i] !== view[n - 1]) view[n++] = view[i]!;
      this.length = this.sortedLength = n;
    }
    return this.items.subarray(0, this.length);
  }
}

/**
 * One etcd key's newest revision, as the replay reads and writes it: a
 * short-lived view of one row of `KeyStates` (the rows are columns; a view
 * is made on `get` and stored back with `set`).
 */
interface KeyState {
  /** The key's id in `KeyStates` (its bytes: `keyOf(id)`). */
  id: number;
  createRevision: number;
  modRevision: number;
  subRevision: number;
  version: number;
  lease: bigint;
  deleted: boolean;
  /** Where the value is: in the source (a KeyValue of `dbLength` bytes at `dbOffset` to re-read; -1: none) or in memory (from the WAL). */
  dbOffset: number;
  dbLength: number;
  /** Bytes of the value inside the stored KeyValue (sizes the re-encoded one before it is read). */
  dbValueLength: number;
  /** The stored KeyValue is what `encodeKeyValue` makes of these fields (`DecodedKv.canonical`, same mod revision): copied as it is. */
  verbatim: boolean;
  memValue: Uint8Array | null;
  /** A view of a held WAL write whose bytes were not kept (`PendingWrite.value` a reference): value compares cannot be judged. */
  unknownValue?: boolean;
  source: SalvageKeySource;
  /** The db revision it was read at (db sources); null for the WAL's (derived from `source`, not stored). */
  sourceRevision: number | null;
  page?: number;
  walIndex?: number;
}

const SOURCES: readonly SalvageKeySource[] = ['tree', 'orphaned-leaf', 'wal'];
/**
 * What a key's state costs besides its bytes: 32 bytes of columns, 11 in the index's columns, 8-16 of its table
 * (measured: ~55).
 */
const KEY_STATE_BYTES = 55;
const PRESENT = 1;
const DELETED = 2;
const VERBATIM = 4;
/** The source's index in SOURCES sits in the flag byte above the three flags. */
const SOURCE_SHIFT = 3;

/**
 * Every distinct key's newest revision, in columns (see `key-index.ts`):
 * about 32 bytes a key in the columns plus ~19-27 in the index plus its bytes,
 * outside V8's collected heap, where a Map of strings to objects took ~260
 * (and Float64 columns ~100). Each column is as wide as its values usually
 * need (`PackedNumberColumn`: an odd value of a damaged record goes to a side
 * map, exactly); leases are slots of the few distinct ones. An id can be in
 * the index without a state (a key only a held WAL write names):
 * `has`/`get`/`size` count states.
 */
export class KeyStates {
  private readonly index = new KeyIndex();
  /** PRESENT | DELETED | VERBATIM, and the source (index in SOURCES) shifted by SOURCE_SHIFT. */
  private readonly flags = new NumberColumn((n) => new Uint8Array(n));
  private readonly createRevisions = new PackedNumberColumn(5);
  private readonly modRevisions = new PackedNumberColumn(5);
  /** Two bytes: etcd caps a txn's ops far below 65,535 (more goes to the side map). */
  private readonly subRevisions = new PackedNumberColumn(2);
  /** Two bytes: a key past 65,534 versions (written that often) goes to the side map. */
  private readonly versions = new PackedNumberColumn(2);
  /** The lease as a slot of `leaseValues` (keys share few leases; 0: none). */
  private readonly leases = new NumberColumn((n) => new Uint32Array(n));
  private readonly leaseValues = new BigIntSlots();
  /** dbOffset + 1 (0: no value in the source), so the usual -1 stays inline. */
  private readonly dbOffsets = new PackedNumberColumn(5);
  /** Two bytes: a KeyValue of 64 KiB or more (one per 64 KiB of db at most) goes to the side map. */
  private readonly dbLengths = new PackedNumberColumn(2);
  private readonly dbValueLengths = new PackedNumberColumn(2);
  /** The page (db sources) or the WAL entry index (the WAL's); NaN: none. */
  private readonly wheres = new PackedNumberColumn(4);
  /** Values only the WAL had (few, unless there is no db). */
  private readonly memValues = new Map<number, Uint8Array>();
  private count = 0;

  /** Keys with a state. */
  get size(): number {
    return this.count;
  }
  /** Ids handed out so far (states or not): ids are 0..ids-1. */
  get ids(): number {
    return this.index.size;
  }
  /** The id of a key (added to the index when new; it has no state until `set`). */
  idOf(key: Uint8Array): number {
    return this.index.add(key);
  }
  /** `idOf` with the key's `hashKeyBytes(key) >>> 0` at hand. */
  idOfHashed(key: Uint8Array, hash: number): number {
    return this.index.addHashed(key, hash);
  }
  /** The id of a key the index holds, else -1. */
  find(key: Uint8Array): number {
    return this.index.find(key);
  }
  /** The key's bytes (a stable view: copy it only to hand it out). */
  keyOf(id: number): Uint8Array {
    return this.index.key(id);
  }
  keyLength(id: number): number {
    return this.index.keyLength(id);
  }
  has(id: number): boolean {
    return id >= 0 && (this.flags.get(id) & PRESENT) !== 0;
  }
  /** Has a state and it is not a delete. */
  isLive(id: number): boolean {
    return id >= 0 && (this.flags.get(id) & (PRESENT | DELETED)) === PRESENT;
  }
  modRevision(id: number): number {
    return this.modRevisions.get(id);
  }
  subRevision(id: number): number {
    return this.subRevisions.get(id);
  }
  lease(id: number): bigint {
    return this.leaseValues.value(this.leases.get(id));
  }
  source(id: number): SalvageKeySource {
    return SOURCES[this.flags.get(id) >> SOURCE_SHIFT]!;
  }
  createRevision(id: number): number {
    return this.createRevisions.get(id);
  }
  version(id: number): number {
    return this.versions.get(id);
  }
  dbOffset(id: number): number {
    return this.dbOffsets.get(id) - 1;
  }
  dbLength(id: number): number {
    return this.dbLengths.get(id);
  }
  dbValueLength(id: number): number {
    return this.dbValueLengths.get(id);
  }
  verbatim(id: number): boolean {
    return (this.flags.get(id) & VERBATIM) !== 0;
  }
  /** The page of a db source (the leaf the revision sat in), the WAL entry index of the WAL's; NaN: none. */
  where(id: number): number {
    return this.wheres.get(id);
  }
  /** The value held in memory (the WAL's), else null: `get` without making a state object. */
  memValue(id: number): Uint8Array | null {
    return this.memValues.size === 0 ? null : (this.memValues.get(id) ?? null);
  }
  get(id: number): KeyState | undefined {
    if (!this.has(id)) return undefined;
    const f = this.flags.get(id);
    const source = SOURCES[f >> SOURCE_SHIFT]!;
    const where = this.wheres.get(id);
    const modRevision = this.modRevisions.get(id);
    const s: KeyState = {
      id,
      createRevision: this.createRevisions.get(id),
      modRevision,
      subRevision: this.subRevisions.get(id),
      version: this.versions.get(id),
      lease: this.leaseValues.value(this.leases.get(id)),
      deleted: (f & DELETED) !== 0,
      dbOffset: this.dbOffsets.get(id) - 1,
      dbLength: this.dbLengths.get(id),
      dbValueLength: this.dbValueLengths.get(id),
      verbatim: (f & VERBATIM) !== 0,
      memValue: this.memValues.get(id) ?? null,
      source,
      sourceRevision: source === 'wal' ? null : modRevision,
    };
    if (!Number.isNaN(where)) {
      if (source === 'wal') s.walIndex = where;
      else s.page = where;
    }
    return s;
  }
  set(s: KeyState): void {
    const id = s.id;
    if (!this.has(id)) this.count++;
    this.flags.set(id, PRESENT | (s.deleted ? DELETED : 0) | (s.verbatim ? VERBATIM : 0) | (SOURCES.indexOf(s.source) << SOURCE_SHIFT));
    this.createRevisions.set(id, s.createRevision);
    this.modRevisions.set(id, s.modRevision);
    this.subRevisions.set(id, s.subRevision);
    this.versions.set(id, s.version);
    this.leases.set(id, this.leaseValues.slotOf(BigInt.asIntN(64, s.lease)));
    this.dbOffsets.set(id, s.dbOffset + 1);
    this.dbLengths.set(id, s.dbLength);
    this.dbValueLengths.set(id, s.dbValueLength);
    this.wheres.set(id, (s.source === 'wal' ? s.walIndex : s.page) ?? NaN);
    if (s.memValue) this.memValues.set(id, s.memValue);
    else this.memValues.delete(id);
  }
  /** `id` has no state any more (a key found to be a damaged copy of another): it is not written. Its id stays. */
  forget(id: number): void {
    if (!this.has(id)) return;
    this.flags.set(id, 0);
    this.memValues.delete(id);
    this.count--;
  }
  /** Ids of the live keys (states that are not deletes), in revision order (main, then sub). */
  liveByRevision(): Uint32Array {
    let n = 0;
    for (let id = 0; id < this.ids; id++) if (this.isLive(id)) n++;
    const out = new Uint32Array(n);
    n = 0;
    for (let id = 0; id < this.ids; id++) if (this.isLive(id)) out[n++] = id;
    return sortByTwoKeys(
      out,
      (id) => this.modRevisions.get(id),
      (id) => this.subRevisions.get(id),
    );
  }
  /** Ids of the live keys in `range`, in key byte order. */
  liveInRange(range: KeyRange): number[] {
    const out: number[] = [];
    for (let id = 0; id < this.ids; id++) if (this.isLive(id) && inKeyRange(this.keyOf(id), range)) out.push(id);
    return out.sort((a, b) => compareBytes(this.keyOf(a), this.keyOf(b)));
  }
  /**
   * What the keys cost, counted as they are added (O(1), for the budget check between pages): every id at
   * `KEY_STATE_BYTES` plus its key's bytes. `bytes` (what the chunks hold) is coarser: a first chunk of every column
   * is 64 Ki slots.
   */
  get estimatedBytes(): number {
    return this.index.size * KEY_STATE_BYTES + this.index.keyBytes;
  }
  /** No state and no key any more, the memory kept for the next keys (`KeyIndex.clear`): one KeyStates serves pass after pass. */
  clear(): void {
    this.index.clear();
    // Every other column is written whenever a state is set; a state is present by its flag.
    this.flags.clear();
    this.memValues.clear();
    this.count = 0;
  }
  /** Bytes the columns and the index hold (the values held in memory not counted). */
  get bytes(): number {
    const cols = [this.flags, this.createRevisions, this.modRevisions, this.subRevisions, this.versions, this.leases, this.dbOffsets, this.dbLengths];
    return this.index.bytes + this.leaseValues.bytes + this.dbValueLengths.bytes + this.wheres.bytes + cols.reduce((t, c) => t + c.bytes, 0);
  }
}

/**
 * `ids` sorted by `compare`, stable (equal ids keep their order), as
 * `Uint32Array.prototype.sort(compare)` would: a bottom-up merge sort with
 * one scratch array of the same size (4 bytes an id), where V8's sort with a
 * comparator copies the ids to a tagged array and merges through another
 * (~20 bytes an id). Ids already in order (keys each last written in the
 * order they were first) are returned as they are after one pass.
 */
export function sortStable(ids: Uint32Array, compare: (a: number, b: number) => number): Uint32Array {
  const n = ids.length;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (compare(ids[i - 1]!, ids[i]!) > 0) sorted = false;
  if (sorted) return ids;
  const RUN = 32;
  // Runs of RUN by insertion sort (stable: an element moves only past greater ones).
  for (let lo = 0; lo < n; lo += RUN) {
    const hi = Math.min(n, lo + RUN);
    for (let i = lo + 1; i < hi; i++) {
      const x = ids[i]!;
      let j = i - 1;
      while (j >= lo && compare(ids[j]!, x) > 0) {
        ids[j + 1] = ids[j]!;
        j--;
      }
      ids[j + 1] = x;
    }
  }
  let from: Uint32Array = ids;
  let to: Uint32Array = new Uint32Array(n);
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(n, lo + width);
      const hi = Math.min(n, lo + 2 * width);
      let i = lo;
      let j = mid;
      let k = lo;
      // The left run wins ties: stable.
      while (i < mid && j < hi) to[k++] = compare(from[i]!, from[j]!) <= 0 ? from[i++]! : from[j++]!;
      while (i < mid) to[k++] = from[i++]!;
      while (j < hi) to[k++] = from[j++]!;
    }
    const t = from;
    from = to;
    to = t;
  }
  return from;
}

/** A tie run of the primary key longer than this is ordered by `sortStable`, not by insertion. */
const TIE_RUN_INSERTION_MAX = 32;

/**
 * `ids` in the order of `sortStable(ids, (a, b) => primary(a) - primary(b) || secondary(a) - secondary(b))`
 * (stable), by a counting sort on the primary key when its values are integers spanning at most ~2x as many
 * numbers as there are ids (revisions and WAL indexes): no comparator call per comparison (the comparator sort
 * took ~0.25 s of a salvage's CPU for 200,000 keys); ties of the primary are then ordered by the secondary.
 * Any other primary falls back to `sortStable`. Memory: up to 12 bytes an id besides `ids` (sortStable: 4).
 */
export function sortByTwoKeys(ids: Uint32Array, primary: (id: number) => number, secondary: (id: number) => number): Uint32Array {
  const n = ids.length;
  if (n < 2) return ids;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const k = primary(ids[i]!);
    if (!Number.isInteger(k)) {
      min = NaN;
      break;
    }
    if (k < min) min = k;
    if (k > max) max = k;
  }
  const span = max - min + 1;
  if (!(span <= 2 * n + 1024)) return sortStable(ids, (a, b) => primary(a) - primary(b) || secondary(a) - secondary(b));
  // Stable counting sort: starts[k] is where the next id with primary min + k goes.
  const starts = new Uint32Array(span + 1);
  for (let i = 0; i < n; i++) starts[primary(ids[i]!) - min + 1]!++;
  for (let k = 1; k <= span; k++) starts[k]! += starts[k - 1]!;
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    out[starts[primary(id) - min]!++] = id;
  }
  // Runs of one primary value (starts[k] is now the end of value k's run): by the secondary, stable.
  let lo = 0;
  for (let k = 0; k < span; k++) {
    const hi = starts[k]!;
    if (hi - lo > TIE_RUN_INSERTION_MAX) {
      const run = out.subarray(lo, hi);
      const sorted = sortStable(run, (a, b) => secondary(a) - secondary(b));
      if (sorted !== run) run.set(sorted);
    } else {
      for (let i = lo + 1; i < hi; i++) {
        const x = out[i]!;
        const sx = secondary(x);
        let j = i - 1;
        while (j >= lo && secondary(out[j]!) > sx) {
          out[j + 1] = out[j]!;
          j--;
        }
        out[j + 1] = x;
      }
    }
    lo = hi;
  }
  return out;
}

interface SmallItem {
  key: Uint8Array;
  value: Uint8Array;
  /** Which meta's tree reaches it (TreeFacts.reachable): a higher rank is a newer transaction's copy. */
  rank: number;
}

export interface SalvageInput {
  /** The bbolt file (a member's db or a snapshot.db); null when there is none (WAL only). */
  db: ByteSource | null;
  /** Its path relative to what the user named, for findings. */
  dbFile: string;
  /** The db has a 32-byte SHA-256 trailer (default: size % 512 == 32). */
  snapshotDb?: boolean;
  /** The WAL's entries, when a WAL is there. */
  wal?: WalEntryStream | null;
  /** Apply WAL entries only up to this index (HardState.commit); null = every entry. */
  walCommit?: number | null;
  /** The WAL's last index (repair writes it as consistent_index). */
  walLastIndex?: number | null;
  /** SHA-256 over `src[0, length)` (the back end passes a native one; default: the pure-TS one). */
  sha256?: (src: ByteSource, length: number) => Promise<Uint8Array>;
  /**
   * Byte equality (the back end passes a native memcmp; default: `sameBytes`): the replay compares
   * the value of every write the WAL holds with the db's, a few KiB each, hundreds of MB in all.
   */
  bytesEqual?: (a: Uint8Array, b: Uint8Array) => boolean;
}

/** How the keys are collected (`collectSalvage`, and a salvage's first two phases). */
export interface SalvageCollectOptions extends RunOptions {
  /**
   * Key-state bytes held at once (`KeyStates.estimatedBytes`; default `DEFAULT_KEY_STATE_BUDGET`; null: no bound).
   * Past it the db is read again in passes by key hash: the same output, more reads.
   */
  keyStateBudget?: number | null;
}

export interface SalvageOptions extends SalvageCollectOptions {
  outputKind: 'snapshot-db' | 'member-db';
  /** Display path of the output for the report. */
  output: string;
  /** Keys listed in the report (default 100,000). */
  keysListedMax?: number;
  /** consistent_index to write instead of the computed one (repair with a fresh WAL: its commit). */
  consistentIndex?: number;
}

function isRevisionKey(k: Uint8Array): boolean {
  return isRevisionKeyAt(k, 0, k.length);
}

/** `isRevisionKey` of `b[start, start + size)` without a view of it (a pass reads leaf elements in place). */
function isRevisionKeyAt(b: Uint8Array, start: number, size: number): boolean {
  return (size === 17 || (size === 18 && b[start + 17] === 0x74)) && b[start + 8] === 0x5f;
}

function readRevision(k: Uint8Array): { main: number; sub: number; tombstone: boolean } {
  return { main: u64At(k, 0), sub: u64At(k, 9), tombstone: k.length === 18 };
}

/** A big-endian u64 as a number, clamped to 2^53 - 1 (no BigInt: the scan reads one per revision). */
function u64At(k: Uint8Array, at: number): number {
  const hi = ((k[at]! << 24) | (k[at + 1]! << 16) | (k[at + 2]! << 8) | k[at + 3]!) >>> 0;
  const lo = ((k[at + 4]! << 24) | (k[at + 5]! << 16) | (k[at + 6]! << 8) | k[at + 7]!) >>> 0;
  return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + lo;
}

export interface DecodedKv {
  key: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: bigint;
  valueLength: number;
  /**
   * The bytes are exactly what `encodeKeyValue` makes of these fields (fields
   * 1..6 once each in order, zero values omitted, shortest varints, no other
   * field, revisions within 2^53): salvage can copy them instead of re-encoding.
   */
  canonical: boolean;
}

function varintSize(v: bigint): number {
  let n = 1;
  for (let x = BigInt.asUintN(64, v); x >= 0x80n; x >>= 7n) n++;
  return n;
}

/** Bytes a varint of `v` takes (v >= 0, a safe integer). */
function varintSizeNum(v: number): number {
  let n = 1;
  for (let x = v; x >= 0x80; x = Math.floor(x / 128)) n++;
  return n;
}

/**
 * The common KeyValue shape without allocating per field: one-byte tags of
 * fields 1..6 with their proto types, revisions below 2^49 (7-byte varints),
 * the lease any int64. Anything else returns undefined and goes through the
 * general decoder (same results, more garbage). The scan decodes every
 * revision of the db, so this is salvage's hottest loop.
 */
function decodeKvFast(bytes: Uint8Array): DecodedKv | null | undefined {
  const len = bytes.length;
  let at = 0;
  let key: Uint8Array | null = null;
  let valueLength = 0;
  let createRevision = 0;
  let modRevision = 0;
  let version = 0;
  let lease = 0n;
  let fields = 0;
  let lastNo = 0;
  let canonical = true;
  let size = 0;
  while (at < len) {
    if (++fields > 64) return undefined;
    const tag = bytes[at++]!;
    const no = tag >> 3;
    const wire = tag & 7;
    if (tag >= 0x80 || no < 1 || no > 6 || wire !== (no === 1 || no === 5 ? 2 : 0)) return undefined;
    if (no <= lastNo) canonical = false;
    lastNo = no;
    // A varint of at most 7 bytes as a number; longer ones only for the lease.
    let v = 0;
    let mul = 1;
    let n = 0;
    for (;;) {
      if (at >= len || n === 7) break;
      const b = bytes[at++]!;
      v += (b & 0x7f) * mul;
      mul *= 128;
      n++;
      if (b < 0x80) break;
    }
    const done = n > 0 && bytes[at - 1]! < 0x80;
    if (!done) {
      if (no !== 6 || n < 7) return undefined;
      // The lease: up to 10 bytes, as protobuf's int64 (two's complement).
      let big = BigInt(v);
      let shift = 49n;
      for (;;) {
        if (at >= len || n === 10) return undefined;
        const b = bytes[at++]!;
        big |= BigInt(b & 0x7f) << shift;
        shift += 7n;
        n++;
        if (b < 0x80) break;
      }
      const u = BigInt.asUintN(64, big);
      lease = BigInt.asIntN(64, u);
      if (u === 0n) canonical = false;
      size += 1 + varintSize(u);
      continue;
    }
    if (wire === 2) {
      if (v > len - at) return undefined;
      const end = at + v;
      if (no === 1) key = bytes.subarray(at, end);
      else valueLength = v;
      if (v === 0) canonical = false;
      size += 1 + varintSizeNum(v) + v;
      at = end;
      continue;
    }
    if (v === 0) canonical = false;
    size += 1 + varintSizeNum(v);
    if (no === 2) createRevision = v;
    else if (no === 3) modRevision = v;
    else if (no === 4) version = v;
    else lease = BigInt(v);
  }
  if (!key || key.length === 0) return null;
  return { key, createRevision, modRevision, version, lease, valueLength, canonical: canonical && size === len };
}

/** A stored mvccpb.KeyValue as salvage reads it (null: not one); the fast path when it applies. */
export function decodeKv(bytes: Uint8Array): DecodedKv | null {
  const fast = decodeKvFast(bytes);
  return fast !== undefined ? fast : decodeKvGeneric(bytes);
}

/** The general decoder (every field as the wire decoder reads it); `decodeKv` gives the same answers. */
export function decodeKvGeneric(bytes: Uint8Array): DecodedKv | null {
  const m = decodeMessage(bytes, 64);
  if (!m.ok) return null;
  for (const f of m.fields) {
    const wantBytes = f.no === 1 || f.no === 5;
    if (f.no >= 1 && f.no <= 6 && wantBytes !== (f.wire === 'bytes')) return null;
  }
  const key = bytesField(m.fields, 1);
  if (!key || key.length === 0) return null;
  let canonical = true;
  let size = 0;
  let lastNo = 0;
  for (const f of m.fields) {
    if (f.no <= lastNo || f.no > 6) {
      canonical = false;
      break;
    }
    lastNo = f.no;
    if (f.wire === 'bytes') {
      if (f.value.length === 0) canonical = false;
      size += 1 + varintSize(BigInt(f.value.length)) + f.value.length;
    } else if (f.wire === 'varint') {
      if (f.value === 0n || (f.no !== 6 && f.value > BigInt(Number.MAX_SAFE_INTEGER))) canonical = false;
      size += 1 + varintSize(f.value);
    } else canonical = false;
  }
  return {
    key,
    createRevision: numField(m.fields, 2),
    modRevision: numField(m.fields, 3),
    version: numField(m.fields, 4),
    lease: i64Field(m.fields, 6),
    valueLength: bytesField(m.fields, 5)?.length ?? 0,
    canonical: canonical && size === bytes.length,
  };
}

function kvValue(bytes: Uint8Array): Uint8Array {
  const fast = kvValueFast(bytes);
  if (fast !== undefined) return fast;
  const m = decodeMessage(bytes, 64);
  return (m.ok ? bytesField(m.fields, 5) : undefined) ?? new Uint8Array(0);
}

/**
 * The value field of a KeyValue in the shape `decodeKvFast` accepts (fields
 * 1..6 in order, one-byte tags), as a view, without decoding every field into
 * objects; undefined for any other shape (the general decoder answers).
 */
function kvValueFast(bytes: Uint8Array): Uint8Array | undefined {
  const len = bytes.length;
  let at = 0;
  let lastNo = 0;
  let value: Uint8Array | null = null;
  while (at < len) {
    const tag = bytes[at++]!;
    const no = tag >> 3;
    const wire = tag & 7;
    if (tag >= 0x80 || no <= lastNo || no > 6 || wire !== (no === 1 || no === 5 ? 2 : 0)) return undefined;
    lastNo = no;
    let v = 0;
    let mul = 1;
    let n = 0;
    let done = false;
    // Nine bytes at most (a tenth may overflow 64 bits: the general decoder judges that).
    while (at < len && n < 9) {
      const b = bytes[at++]!;
      n++;
      if (wire === 2) {
        if (n > 7) return undefined;
        v += (b & 0x7f) * mul;
        mul *= 128;
      }
      if (b < 0x80) {
        done = true;
        break;
      }
    }
    if (!done) return undefined;
    if (wire === 2) {
      if (v > len - at) return undefined;
      if (no === 5) value = bytes.subarray(at, at + v);
      at += v;
    }
  }
  return value ?? new Uint8Array(0);
}

/** Equal bytes, compared eight at a time (values of a few KiB are compared for every write the WAL holds). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  const da = new DataView(a.buffer, a.byteOffset, n);
  const db = new DataView(b.buffer, b.byteOffset, n);
  let i = 0;
  for (; i + 8 <= n; i += 8) if (da.getInt32(i) !== db.getInt32(i) || da.getInt32(i + 4) !== db.getInt32(i + 4)) return false;
  for (; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function readExact(src: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  if (length <= MAX_READ) {
    const b = await src.read(offset, length);
    if (b.length !== length) throw new Error(`${src.name}: short read at byte ${offset} (${b.length} of ${length} bytes)`);
    return b;
  }
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const part = await src.read(offset + done, Math.min(MAX_READ, length - done));
    if (part.length === 0) throw new Error(`${src.name}: short read at byte ${offset + done}`);
    out.set(part, done);
    done += part.length;
  }
  return out;
}

/**
 * A ByteSource that can also fill a buffer the caller owns. Salvage reads a
 * whole db (and the SHA-256 reads it again): with `read` every chunk is a new
 * buffer, and chunks that live a little while (a cache window) are promoted
 * out of V8's young generation, so they pile up outside the heap until a full
 * GC (1.1 GB of dead ArrayBuffers on a 1 GiB db). With `readInto` the few
 * buffers are allocated once and reused.
 */
export interface ReadIntoSource extends ByteSource {
  /** Fill `target` from `offset`; returns the bytes read (fewer only at the end of the source). */
  readInto(offset: number, target: Uint8Array): Promise<number>;
}

export function canReadInto(src: ByteSource): src is ReadIntoSource {
  return typeof (src as Partial<ReadIntoSource>).readInto === 'function';
}

/** `readInto` over any source (a copy when it cannot fill buffers itself). */
export async function readIntoFrom(src: ByteSource, offset: number, target: Uint8Array): Promise<number> {
  if (canReadInto(src)) return src.readInto(offset, target);
  let done = 0;
  while (done < target.length) {
    const part = await src.read(offset + done, Math.min(MAX_READ, target.length - done));
    if (part.length === 0) break;
    target.set(part, done);
    done += part.length;
  }
  return done;
}

/**
 * Reads through a small LRU of 4 MiB windows: salvage reads the db in order
 * (pages), then values in revision order (which is page order for the key
 * bucket), and walks the tree locally; without this every 4 KiB read would be
 * a system call. Memory: `windows` x 4 MiB, allocated once and reused when the
 * source can `readInto`.
 *
 * The bytes returned are a view of a window: they stay valid until that
 * window is reused, which takes `windows - 1` reads of other windows. Callers
 * copy what they keep past their next reads (keys, values held for later).
 * `readInto` passes through (whole-file passes such as a SHA-256 do not evict
 * the windows).
 *
 * `readAhead` (a source that can `readInto`): once two windows in a row were
 * loaded, the next one is read into one more buffer while the caller works on
 * this one, so the read (in the I/O threads) and the caller's decoding
 * overlap instead of taking turns. That buffer is one of the `windows`
 * (memory is unchanged): the LRU then holds `windows - 1`, and the promise
 * above holds for that many (a window read ahead takes no buffer from the LRU
 * until it is used).
 */
/** A window read ahead is read in pieces of this size, in parallel. */
const READ_PIECE = 1024 * 1024;

/** A source that can answer a read at once when its bytes are at hand (`cachedSource`: a window already read). */
interface PeekSource {
  /** The bytes, or null when they must be read (`read`). */
  peek(offset: number, length: number): Uint8Array | null;
  /** The source under the windows: a read there loads no window (a few scattered pages). */
  uncached: ByteSource;
}

/** The source under `cachedSource`'s windows, else `src` itself. */
function uncachedOf(src: ByteSource): ByteSource {
  return (src as Partial<PeekSource>).uncached ?? src;
}

/** `src.peek` when it has it: bytes at hand, else null. */
function peekCached(src: ByteSource, offset: number, length: number): Uint8Array | null {
  const p = (src as Partial<PeekSource>).peek;
  return p ? p.call(src, offset, length) : null;
}

export function cachedSource(src: ByteSource, windowBytes = 4 * 1024 * 1024, windows = 8, readAhead = false): ByteSource {
  const cache = new Map<number, Uint8Array>();
  const reusable = canReadInto(src);
  const readsAhead = readAhead && reusable && windows > 2;
  /** Windows the LRU holds (one buffer fewer when one is read ahead). */
  const held = readsAhead ? windows - 1 : windows;
  /** The most recently used window (a hit on it needs no LRU update: the page scan reads ~1000 pages a window). */
  let lastWindow = -1;
  let lastBuf: Uint8Array | null = null;
  /** The window last loaded (a miss), to see a sequential pass. */
  let lastLoaded = -2;
  /** A window being read ahead into its own buffer, and a free buffer for the next one. */
  let ahead: { w: number; buf: Uint8Array; done: Promise<number | Error> } | null = null;
  let spare: Uint8Array | null = null;
  const fill = (w: number, full: Uint8Array): { view: Uint8Array; done: Promise<number> } => {
    const start = w * windowBytes;
    const length = Math.max(0, Math.min(windowBytes, src.size - start));
    const view = full.subarray(0, length);
    const into = src as ReadIntoSource;
    if (!readsAhead || length <= READ_PIECE) return { view, done: into.readInto(start, view) };
    // In pieces read at once: the kernel's copy out of the page cache then runs in several I/O threads.
    const pieces: Promise<number>[] = [];
    for (let at = 0; at < length; at += READ_PIECE) pieces.push(into.readInto(start + at, view.subarray(at, Math.min(length, at + READ_PIECE))));
    // Short only at the end of the source: the pieces' sum is then the bytes there are. Settled only when every
    // piece is: a failed one must not leave others writing into a buffer that is reused after it.
    const done = Promise.allSettled(pieces).then((results) => {
      let got = 0;
      for (const r of results) {
        if (r.status === 'rejected') throw r.reason;
        got += r.value;
      }
      return got;
    });
    return { view, done };
  };
  const checked = (w: number, view: Uint8Array, got: number): Uint8Array => {
    if (got !== view.length) throw new Error(`${src.name}: short read at byte ${w * windowBytes + got} (${got} of ${view.length} bytes)`);
    return view;
  };
  const startAhead = (w: number): void => {
    if (w * windowBytes >= src.size || cache.has(w)) return;
    const buf = spare ?? new Uint8Array(windowBytes);
    spare = null;
    const { done } = fill(w, buf);
    // Caught at once (nobody may ever wait for it); the error is rethrown if the window is used.
    ahead = { w, buf, done: done.catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))) };
  };
  const load = async (w: number): Promise<Uint8Array> => {
    const start = w * windowBytes;
    const length = Math.max(0, Math.min(windowBytes, src.size - start));
    if (!reusable) return readExact(src, start, length);
    let buf: Uint8Array | undefined;
    if (cache.size >= held) {
      // Evict the least recently used window and reuse its buffer.
      const [oldest, evicted] = cache.entries().next().value!;
      cache.delete(oldest);
      buf = evicted;
    }
    const pending = ahead;
    ahead = null;
    let view: Uint8Array;
    if (pending && pending.w === w) {
      const got = await pending.done;
      if (got instanceof Error) throw got;
      view = checked(w, pending.buf.subarray(0, length), got);
      // The evicted buffer waits for the next read ahead.
      if (buf) spare = buf.buffer.byteLength >= windowBytes ? new Uint8Array(buf.buffer, 0, windowBytes) : null;
    } else {
      if (pending) {
        // Read ahead for nothing (the pass jumped): its buffer is free once its read is over.
        await pending.done;
        spare = pending.buf;
      }
      const full = buf && buf.buffer.byteLength >= windowBytes ? new Uint8Array(buf.buffer, 0, windowBytes) : new Uint8Array(windowBytes);
      const f = fill(w, full);
      view = checked(w, f.view, await f.done);
    }
    if (readsAhead && w === lastLoaded + 1) startAhead(w + 1);
    lastLoaded = w;
    return view;
  };
  const cached: ByteSource & Partial<ReadIntoSource> & PeekSource = {
    name: src.name,
    size: src.size,
    uncached: src,
    peek(offset: number, length: number): Uint8Array | null {
      const w = Math.floor(offset / windowBytes);
      if (length <= 0 || length > windowBytes || Math.floor((offset + length - 1) / windowBytes) !== w) return null;
      let buf: Uint8Array | undefined;
      if (w === lastWindow && lastBuf) buf = lastBuf;
      else {
        buf = cache.get(w);
        if (!buf) return null;
        cache.delete(w);
        cache.set(w, buf);
        lastWindow = w;
        lastBuf = buf;
      }
      const at = offset - w * windowBytes;
      if (at + length > buf.length) return null;
      return buf.subarray(at, at + length);
    },
    async read(offset: number, length: number): Promise<Uint8Array> {
      const w = Math.floor(offset / windowBytes);
      if (length <= 0 || length > windowBytes || Math.floor((offset + length - 1) / windowBytes) !== w) return src.read(offset, length);
      let buf: Uint8Array | undefined;
      if (w === lastWindow && lastBuf) buf = lastBuf;
      else {
        buf = cache.get(w);
        if (buf) {
          cache.delete(w);
          cache.set(w, buf);
        } else {
          // Cleared first: a failed load may have taken the buffer of the window it evicted.
          lastWindow = -1;
          buf = await load(w);
          cache.set(w, buf);
          if (cache.size > held) cache.delete(cache.keys().next().value!);
        }
        lastWindow = w;
        lastBuf = buf;
      }
      const at = offset - w * windowBytes;
      return buf.subarray(Math.min(at, buf.length), Math.min(buf.length, at + length));
    },
  };
  if (reusable) cached.readInto = (offset, target) => src.readInto(offset, target);
  return cached;
}

// ---------------------------------------------------------------- reachability

interface TreeFacts {
  /**
   * Per page position: 0 = no meta's tree reaches it; otherwise the rank of the newest meta whose tree does
   * (newest meta = the highest rank). The small buckets (meta, members, ...) must come from the newest tree:
   * the older meta's copy is a whole backend commit behind (its consistent_index too).
   */
  reachable: Uint8Array;
  /** Per page position: 1 + index in `bucketNames` of the named top-level bucket it is under; 0 = none. */
  bucketOfPage: Uint8Array;
  bucketNames: string[];
  /**
   * Revision-key ranges [lo, hi) of the `key` bucket the trees do not cover
   * (a branch pointer to page 0, past the end, to a zeroed page...). Only
   * there can an unreachable leaf hold data the tree lost; elsewhere an
   * unreachable leaf is a freed, stale copy (bbolt copies on write), whose
   * old revisions must not come back (a compacted delete would resurrect).
   * `null` hi = no upper bound.
   */
  holes: { lo: Uint8Array; hi: Uint8Array | null }[];
  /** No valid meta, or the key bucket was never reached: no tree to trust. */
  trusted: boolean;
  /** Leaves the walk took as valid without reading them, until the first page scan checks them (then null). */
  presumed: PresumedLeaves | null;
}

/**
 * Pages the walk reached as leaves but did not read: a bucket's tree is balanced, so once one of its leaves was
 * read, the other pages at that level are leaves too, and the page scan (which reads every page anyway) checks
 * each one when it gets there (`checkPresumedLeaf`). What the walk would have done with a page that is not a valid
 * leaf (a hole, or a descent) is decided there; `entered` and `spanMarked` say what else the walk marked, for the
 * cases the scan cannot settle alone (the walk is then done again reading every page: `PresumedTreeWrong`).
 */
interface PresumedLeaves {
  /** Per page: 0 = not presumed; else the bucket depth of the visit (1..5), + IN_KEY_BUCKET when under `key`. */
  flags: Uint8Array;
  /** Per presumed page: the branch that points at it, and the element's index there (the hole's bounds come from it). */
  parent: Uint32Array;
  index: Uint32Array;
  /** Per branch page read under a bucket: the key range [lo, hi) of its visit. */
  bounds: Map<number, { lo: Uint8Array; hi: Uint8Array | null }>;
  /** Per page: entered by the walk as a page of its own (the walk's own array). */
  entered: Uint8Array;
  /** Per page: marked as an overflow page of another page's span. */
  spanMarked: Uint8Array;
}

const IN_KEY_BUCKET = 0x80;
const MAX_HOLES = 100_000;

/** The page scan met a presumed leaf the walk would have treated otherwise than the scan can mend: walk again, reading every page. */
class PresumedTreeWrong extends Error {}

const EMPTY_KEY = new Uint8Array(0);

/**
 * Which page positions the trees of the valid metas reach, under which
 * top-level bucket, and where the key bucket's tree has holes. Bounded: every
 * position is entered once; elements are bounds-checked; garbage pointers
 * are not followed. With `presume`, leaves under a bucket are not read once
 * their level is known (`PresumedLeaves`): the page scan reads them anyway.
 */
async function reachablePages(src: ByteSource, dbSize: number, pageSize: number, roots: number[], presume = true): Promise<TreeFacts> {
  const filePages = Math.floor(dbSize / pageSize);
  const reachable = new Uint8Array(filePages);
  const bucketOfPage = new Uint8Array(filePages);
  const bucketNames: string[] = [];
  const bucketCode = (name: string): number => {
    let i = bucketNames.indexOf(name);
    if (i < 0 && bucketNames.length < 255) i = bucketNames.push(name) - 1;
    return i + 1;
  };
  const holes: TreeFacts['holes'] = [];
  let keyBucketSeen = false;
  /**
   * `tree`: which bucket tree (an index in `leafLevels`: each bucket's root starts one), `level` the page's
   * distance from that root, `parent`/`index` the branch element that points at it (-1: a root).
   */
  type Visit = {
    page: number;
    bucket: string | null;
    depth: number;
    lo: Uint8Array;
    hi: Uint8Array | null;
    tree: number;
    level: number;
    parent: number;
    index: number;
  };
  const stack: Visit[] = [];
  const entered = new Uint8Array(filePages);
  /** Per bucket tree: the level of its first leaf read (-1: none yet). */
  const leafLevels: number[] = [-1];
  const presumed: PresumedLeaves | null = presume
    ? {
        flags: new Uint8Array(filePages),
        parent: new Uint32Array(filePages),
        index: new Uint32Array(filePages),
        bounds: new Map(),
        entered,
        spanMarked: new Uint8Array(filePages),
      }
    : null;
  let presumedCount = 0;
  // Presuming leaves, the walk reads branches and a few leaves, scattered: a page at a time, not a window each.
  const pages = presume ? uncachedOf(src) : src;
  const hole = (v: Visit) => {
    if (v.bucket === 'key' && holes.length < MAX_HOLES) holes.push({ lo: v.lo, hi: v.hi });
  };
  // One tree at a time, newest meta first (roots come newest first): a page both trees share gets the newer rank.
  for (let r = 0; r < roots.length; r++) {
    const rank = Math.max(1, 255 - r);
    stack.push({ page: roots[r]!, bucket: null, depth: 0, lo: EMPTY_KEY, hi: null, tree: 0, level: 0, parent: -1, index: 0 });
    while (stack.length > 0) {
      const v = stack.pop()!;
      const { page, bucket, depth } = v;
      if (page < 2 || page >= filePages) {
        hole(v);
        continue;
      }
      if (entered[page]) continue;
      entered[page] = 1;
      if (presumed && depth > 0 && v.parent >= 0 && leafLevels[v.tree] === v.level) {
        // A leaf by its level: marked as the walk marks a valid one-page leaf; the scan checks it.
        presumed.flags[page] = Math.min(depth, 0x7f) | (bucket === 'key' ? IN_KEY_BUCKET : 0);
        presumed.parent[page] = v.parent;
        presumed.index[page] = v.index;
        presumedCount++;
        reachable[page] = rank;
        if (bucket !== null) bucketOfPage[page] = bucketCode(bucket);
        continue;
      }
      // From the window at hand without a promise when it is there (most pages of a tree walked in page order).
      const head = peekCached(src, page * pageSize, pageSize) ?? (await pages.read(page * pageSize, pageSize));
      const h = decodePageHeader(head);
      if (!h || (!isBranch(h.flags) && !isLeaf(h.flags)) || h.id !== page) {
        hole(v);
        continue;
      }
      const spanPages = h.overflow + 1;
      if (spanPages * pageSize > MAX_SPAN_BYTES || page + spanPages > filePages) {
        hole(v);
        continue;
      }
      const span =
        spanPages === 1 ? head : (peekCached(src, page * pageSize, spanPages * pageSize) ?? (await readExact(pages, page * pageSize, spanPages * pageSize)));
      for (let i = 0; i < spanPages; i++) {
        reachable[page + i] = rank;
        if (bucket !== null) bucketOfPage[page + i] = bucketCode(bucket);
        if (i > 0 && presumed) presumed.spanMarked[page + i] = 1;
      }
      if (isBranch(h.flags)) {
        const elements = decodeBranchElements(span, h.count);
        // Copies: the page is a view of a reused read window, and these bounds outlive it (stack, holes).
        const keys = elements.map((e) => copyBytes(e.key));
        if (presumed && depth > 0) presumed.bounds.set(page, { lo: v.lo, hi: v.hi });
        if (elements.length < h.count) hole({ ...v, lo: keys.at(-1) ?? v.lo });
        elements.forEach((e, i) => {
          const lo = i === 0 ? v.lo : keys[i]!;
          const next = elements[i + 1];
          const hi = next && next.problem === null ? keys[i + 1]! : v.hi;
          if (e.problem === null)
            stack.push({ page: childPageOf(e, pageSize), bucket, depth, lo, hi, tree: v.tree, level: v.level + 1, parent: page, index: i });
          else hole({ ...v, lo, hi });
        });
      } else {
        if (depth > 0 && leafLevels[v.tree] === -1) leafLevels[v.tree] = v.level;
        if (hasBucketElement(span, h.count)) {
          for (const e of decodeLeafElements(span, h.count)) {
            const root = depth > 4 ? null : subBucketRoot(e);
            if (root === null) continue;
            const name = depth === 0 ? latin1.decode(e.key) : bucket;
            if (name === 'key') keyBucketSeen = true;
            const tree = leafLevels.push(-1) - 1;
            const child: Visit = {
              page: root >= BigInt(filePages) ? filePages : Number(root),
              bucket: name,
              depth: depth + 1,
              lo: EMPTY_KEY,
              hi: null,
              tree,
              level: 0,
              parent: -1,
              index: 0,
            };
            if (root !== 0n) stack.push(child);
          }
        }
      }
    }
  }
  return {
    reachable,
    bucketOfPage,
    bucketNames,
    holes,
    trusted: roots.length > 0 && keyBucketSeen,
    presumed: presumedCount > 0 ? presumed : null,
  };
}

/**
 * The first page scan at a page the walk presumed a leaf (`PresumedLeaves`), before it uses the page: what the walk
 * would have done had it read it. A valid leaf: its overflow pages are marked as the walk marks them. Not a valid page:
 * a hole, as the walk records one (the page is then no tree's). Throws `PresumedTreeWrong` where the walk would
 * have gone on (a branch, a sub-bucket), where its marks would differ (overlapping spans), or where the new hole
 * could change what the scan decided before it (a stale revision it covers, dropped already; the holes' cap).
 */
function checkPresumedLeaf(state: SalvageState, src: ByteSource, p: number, page: Uint8Array, h: PageHeader | null): void | Promise<void> {
  const tree = state.tree!;
  const presumed = tree.presumed!;
  const pageSize = state.pageSize;
  const filePages = state.filePages;
  const flags = presumed.flags[p]!;
  const spanPages = h ? h.overflow + 1 : 1;
  const valid = h !== null && (isBranch(h.flags) || isLeaf(h.flags)) && h.id === p && spanPages * pageSize <= MAX_SPAN_BYTES && p + spanPages <= filePages;
  if (valid && isBranch(h.flags)) throw new PresumedTreeWrong(`page ${p} is a branch at a leaf level`);
  // The usual case, at once (no promise for each of a db's leaves): a valid one-page leaf.
  if (valid && spanPages === 1) return checkLeafElements(p, page, h.count, flags & 0x7f);
  if (valid) return checkPresumedSpan(state, src, p, h.count, spanPages, flags & 0x7f);
  // Not a valid page: the walk would have recorded a hole and marked nothing.
  if (presumed.spanMarked[p] !== 0) throw new PresumedTreeWrong(`page ${p}: also in another page's span`);
  tree.reachable[p] = 0;
  tree.bucketOfPage[p] = 0;
  if ((flags & IN_KEY_BUCKET) !== 0) return addPresumedHole(state, src, p);
}

/** A presumed leaf with a sub-bucket the walk would have followed (`depth` as the walk's visit had it). */
function checkLeafElements(p: number, span: Uint8Array, count: number, depth: number): void {
  if (depth > 4 || !hasBucketElement(span, count)) return;
  for (const e of decodeLeafElements(span, count)) {
    const root = subBucketRoot(e);
    if (root !== null && root !== 0n) throw new PresumedTreeWrong(`page ${p}: a sub-bucket`);
  }
}

/** The root page a bucket element names (its value's first 8 bytes), or null for an element that is not a whole bucket header. */
function subBucketRoot(e: LeafElement): bigint | null {
  if (e.problem !== null || (e.flags & BUCKET_LEAF_FLAG) === 0 || e.value.length < 16) return null;
  return new DataView(e.value.buffer, e.value.byteOffset, 8).getBigUint64(0, true);
}

/** A presumed leaf with overflow pages: marked as the walk marks a span, unless the walk marked those pages otherwise. */
async function checkPresumedSpan(state: SalvageState, src: ByteSource, p: number, count: number, spanPages: number, depth: number): Promise<void> {
  const tree = state.tree!;
  const presumed = tree.presumed!;
  const pageSize = state.pageSize;
  for (let i = 1; i < spanPages; i++)
    if (presumed.entered[p + i] !== 0 || presumed.spanMarked[p + i] !== 0 || tree.reachable[p + i] !== 0)
      throw new PresumedTreeWrong(`page ${p}: overlapping spans`);
  const span = peekCached(src, p * pageSize, spanPages * pageSize) ?? (await readExact(src, p * pageSize, spanPages * pageSize));
  checkLeafElements(p, span, count, depth);
  for (let i = 1; i < spanPages; i++) {
    tree.reachable[p + i] = tree.reachable[p]!;
    tree.bucketOfPage[p + i] = tree.bucketOfPage[p]!;
    presumed.spanMarked[p + i] = 1;
  }
}

/** The hole a presumed key-bucket leaf that is not a valid page leaves, with the bounds the walk gave it. */
async function addPresumedHole(state: SalvageState, src: ByteSource, p: number): Promise<void> {
  const tree = state.tree!;
  const presumed = tree.presumed!;
  const pageSize = state.pageSize;
  if (tree.holes.length >= MAX_HOLES) throw new PresumedTreeWrong('too many holes');
  const parent = presumed.parent[p]!;
  const bounds = presumed.bounds.get(parent)!;
  // The parent branch again (read and checked by the walk): the bounds of element `index`, as the walk takes them.
  const head = await uncachedOf(src).read(parent * pageSize, pageSize);
  const ph = decodePageHeader(head)!;
  const parentSpan = ph.overflow === 0 ? head : await readExact(uncachedOf(src), parent * pageSize, (ph.overflow + 1) * pageSize);
  const elements = decodeBranchElements(parentSpan, ph.count);
  const i = presumed.index[p]!;
  const lo = i === 0 ? bounds.lo : copyBytes(elements[i]!.key);
  const next = elements[i + 1];
  const hi = next && next.problem === null ? copyBytes(next.key) : bounds.hi;
  if (state.staleKeys?.meets(lo, hi)) throw new PresumedTreeWrong(`page ${p}: a hole over revisions dropped as stale`);
  tree.holes.push({ lo, hi });
}

/**
 * Per page whose key-bucket revisions the first scan dropped as stale (outside the holes known then): the lowest and
 * highest main revision dropped (a key's first 8 bytes, no copy of it kept). A hole found later in that scan
 * (`checkPresumedLeaf`) whose keys' first 8 bytes meet one of these ranges may have kept some of them: the scan
 * starts over (a range met by the prefixes only starts it over for nothing; one that holds a key it covers is never
 * missed, as prefixes keep the keys' order).
 */
class StaleKeyRanges {
  private readonly pages = new NumberColumn((n) => new Float64Array(n));
  private readonly lows = new NumberColumn((n) => new Float64Array(n));
  private readonly highs = new NumberColumn((n) => new Float64Array(n));
  private length = 0;
  note(page: number, k: Uint8Array): void {
    const main = prefix8(k);
    const last = this.length - 1;
    if (last >= 0 && this.pages.get(last) === page) {
      if (main < this.lows.get(last)) this.lows.set(last, main);
      if (main > this.highs.get(last)) this.highs.set(last, main);
      return;
    }
    this.pages.set(this.length, page);
    this.lows.set(this.length, main);
    this.highs.set(this.length, main);
    this.length++;
  }
  /** Could a dropped key be in [lo, hi) (hi null: no bound)? */
  meets(lo: Uint8Array, hi: Uint8Array | null): boolean {
    const from = prefix8(lo);
    const to = hi === null ? Infinity : prefix8(hi);
    for (let i = 0; i < this.length; i++) if (this.highs.get(i) >= from && this.lows.get(i) <= to) return true;
    return false;
  }
}

/** A key's first 8 bytes as a big-endian number (zeros past a shorter key's end): never decreasing in the key's order. */
function prefix8(k: Uint8Array): number {
  if (k.length >= 8) return u64At(k, 0);
  const padded = new Uint8Array(8);
  padded.set(k);
  return u64At(padded, 0);
}

/**
 * Does an element header of the leaf (those inside the span, as decodeLeafElements reads them) carry the bucket
 * flag? Read from the headers alone: the walk decodes a leaf's elements only then (the key bucket's ~120,000
 * leaves of the bench dir have none; decoding each made ~100 MB of garbage).
 */
function hasBucketElement(span: Uint8Array, count: number): boolean {
  const n = elementsThatFit(count, span.length);
  for (let i = 0; i < n; i++) {
    const at = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const flags = (span[at]! | (span[at + 1]! << 8) | (span[at + 2]! << 16) | (span[at + 3]! << 24)) >>> 0;
    if ((flags & BUCKET_LEAF_FLAG) !== 0) return true;
  }
  return false;
}

function inHole(tree: TreeFacts, k: Uint8Array): boolean {
  if (!tree.trusted) return true;
  for (const h of tree.holes) if (compareBytes(k, h.lo) >= 0 && (h.hi === null || compareBytes(k, h.hi) < 0)) return true;
  return false;
}

// ---------------------------------------------------------------- the salvage

/**
 * Which revisions of the key bucket a pass keeps (by the KeyValue's key and lease): a partitioned salvage
 * (`collectPartitions`) keeps some keys in each pass. The key's `hashKeyBytes(key) >>> 0` when kept (the pass
 * hashed it to choose: the index need not hash it again), plus `HASHES` when kept in `SalvageState.otherKeys`,
 * -1 when not. null: every key.
 */
export type KeepRevision = (key: Uint8Array, lease: bigint, mainRevision: number) => number;

const KEEP_NONE: KeepRevision = () => -1;

/**
 * A pass's quick refusal of a revision of the key bucket from its bytes in place, before anything is decoded: the
 * key's hash, and the leaf span holding the revision key at `revisionAt` and the KeyValue at [valueStart, valueEnd).
 * False means `KeepRevision` would refuse it and note nothing (`SalvageState.keepHash`).
 */
export type KeepHash = (hash: number, span: Uint8Array, revisionAt: number, valueStart: number, valueEnd: number) => boolean;

/** The scan passed the key-state budget (`SalvageOptions.keyStateBudget`): what it held, after how many pages. */
export interface OverBudget {
  keyBytes: number;
  pagesDone: number;
  filePages: number;
}

/** `SalvageState.scanMark`: the counters and list lengths before the first page scan. */
interface ScanMark {
  findings: number;
  pagesScanned: number;
  leafPages: number;
  orphanedLeafPages: number;
  unreadablePages: number;
  maxRevision: number;
  bytesRead: number;
  staleRevisions: number;
  damaged: number;
}

export class SalvageState {
  /** The keys' states (replaced when a scan passes its budget, and in a partitioned salvage by those of one pass). */
  keys = new KeyStates();
  /** Which revisions noteRevision keeps (null: all): every revision still counts in the revision facts. */
  keep: KeepRevision | null = null;
  /** The first scan passed the key-state budget: it finished for the db's facts only, the keys come in passes. */
  overBudget: OverBudget | null = null;
  /** Pages of the db scanned (without the trailer): later passes scan the same. */
  filePages = 0;
  /** The newest revision of every live key, when the keys came in passes (`collectPartitions`); else null. */
  winners: WinnerRecords | null = null;
  /** The key states the first scan dropped at its budget, cleared: the passes reuse their memory. */
  spareKeys: KeyStates | null = null;
  /** A second set a scan fills (`KeepRevision` gave the hash + `HASHES`): the first part, read with the WAL's keys. */
  otherKeys: KeyStates | null = null;
  /**
   * A pass's quick refusal by the key's hash (`keyHashInValue`) and main revision, before its revision is decoded: false means
   * `keep` would refuse it too. Set only on a pass whose state keeps nothing but its keys (`scanKeys`): a refused
   * revision then leaves no trace at all (not in the revision facts, not as damage). Null: every revision decoded.
   */
  keepHash: KeepHash | null = null;
  readonly small = new Map<EtcdBucketName, Map<string, SmallItem>>();
  readonly leases = new Map<string, { id: bigint; ttl: number }>();
  readonly findings: Finding[] = [];
  readonly lost: SalvageLoss[] = [];
  lostCount = 0;
  pageSize = DEFAULT_PAGE_SIZE;
  pagesScanned = 0;
  leafPages = 0;
  orphanedLeafPages = 0;
  unreadablePages = 0;
  maxRevision = 0;
  /** The last revision the WAL replay handed out (deletes included: they take a revision but leave no live key). */
  replayedTopRevision = 0;
  /** Db keys the replay left out as an older revision of another key with a flipped byte in its name. */
  olderDamagedNames = 0;
  /** Every main revision seen in the key bucket (for the gap check). */
  revisionsSeen = new RevisionList();
  sourceConsistentIndex: number | null = null;
  sourceCompacted: number | null = null;
  bytesRead = 0;
  walReplay: SalvageReport['walReplay'] = null;
  /** The trees' reach and holes (null: not walked yet, everything is accepted). */
  tree: TreeFacts | null = null;
  /** Revisions in freed (stale) pages outside the tree's holes: not used. */
  staleRevisions = 0;
  /** While the first scan checks presumed leaves (`TreeFacts.presumed`): where the revisions it dropped as stale were. */
  staleKeys: StaleKeyRanges | null = null;
  /** The file is shorter than a valid meta's high-water mark: pages [from, to) are gone. */
  cutPages: [number, number] | null = null;

  /**
   * What the first page scan changes, as it is before it (`resetScan` puts it back when the scan starts over);
   * null when the state already holds scanned facts (keys, revisions, small buckets): no start over then.
   */
  scanMark(): ScanMark | null {
    const fresh = this.keys.ids === 0 && this.revisionsSeen.pushed === 0 && this.small.size === 0;
    if (!fresh || this.keep !== null || this.overBudget !== null || this.spareKeys !== null || this.otherKeys !== null) return null;
    const { pagesScanned, leafPages, orphanedLeafPages, unreadablePages, maxRevision, bytesRead, staleRevisions, damaged } = this;
    return { findings: this.findings.length, pagesScanned, leafPages, orphanedLeafPages, unreadablePages, maxRevision, bytesRead, staleRevisions, damaged };
  }
  resetScan(mark: ScanMark): void {
    this.keys = new KeyStates();
    this.revisionsSeen = new RevisionList();
    this.small.clear();
    this.keep = null;
    this.overBudget = null;
    this.spareKeys = null;
    this.staleKeys = null;
    this.findings.length = mark.findings;
    this.pagesScanned = mark.pagesScanned;
    this.leafPages = mark.leafPages;
    this.orphanedLeafPages = mark.orphanedLeafPages;
    this.unreadablePages = mark.unreadablePages;
    this.maxRevision = mark.maxRevision;
    this.bytesRead = mark.bytesRead;
    this.staleRevisions = mark.staleRevisions;
    this.damaged = mark.damaged;
  }

  addLoss(loss: SalvageLoss): void {
    this.lostCount++;
    if (this.lost.length < MAX_LISTED) this.lost.push(loss);
  }
  /**
   * A damaged page or element. Not a loss by itself (it may hold history, or the
   * WAL may hold its writes): losses are the revisions no page and no WAL entry
   * brings back (`missingRevisions` after the replay).
   */
  damaged = 0;
  addDamage(file: string, page: number, variant: string, params: Record<string, string | number>): void {
    this.damaged++;
    if (this.damaged <= 100)
      this.addFinding(
        salvageFinding({ severity: 'warning', code: 'salvage.damaged-page', file, offset: page * this.pageSize, params: { page, ...params }, variant }),
      );
  }
  addFinding(f: Finding): void {
    if (this.findings.length < MAX_LISTED) this.findings.push(f);
  }
  smallBucket(name: EtcdBucketName): Map<string, SmallItem> {
    let m = this.small.get(name);
    if (!m) {
      m = new Map<string, SmallItem>();
      this.small.set(name, m);
    }
    return m;
  }
}

const SMALL_BUCKETS = new Set<string>(['alarm', 'auth', 'authRoles', 'authUsers', 'cluster', 'lease', 'members', 'members_removed', 'meta']);

function noteSmall(state: SalvageState, bucket: string, key: Uint8Array, value: Uint8Array, rank: number): void {
  if (!SMALL_BUCKETS.has(bucket)) return;
  const m = state.smallBucket(bucket as EtcdBucketName);
  const id = latin1.decode(key);
  const prev = m.get(id);
  // The newest tree's item beats the older meta's, a reachable one beats an orphaned (possibly stale) one; among equals the first stays.
  if (prev && prev.rank >= rank) return;
  m.set(id, { key: copyBytes(key), value: copyBytes(value), rank });
}

/** A leaf element's revision key, when it is one and readable (a neighbour for revisionInOrder). */
function revisionKeyAt(elements: readonly LeafElement[], i: number): Uint8Array | null {
  const e = elements[i];
  return e && e.problem === null && (e.flags & BUCKET_LEAF_FLAG) === 0 && isRevisionKey(e.key) ? e.key : null;
}

/**
 * The main revision to write a put under when its revision key is out of order with its leaf neighbours and
 * the value's own mod_revision fits between them (bit rot in the key that bbolt never notices: a flipped high
 * bit makes revision 849 read as 2^48 + 849, which would become the snapshot's newest revision). Null: keep
 * the key's. A tombstone carries no mod_revision to check against; the first and last elements of a leaf have
 * one neighbour only: a flip there shows by a revision past 2^40, or by the value's revision one bit away and
 * nearer the neighbour (`leafEndFlip`).
 */
function revisionInOrder(elements: readonly LeafElement[], i: number): { main: number; why: 'order' | 'high' | 'end' } | null {
  const key = elements[i]!.key;
  if (key.length !== 17) return null;
  const prev = revisionKeyAt(elements, i - 1);
  const next = revisionKeyAt(elements, i + 1);
  const ordered = (prev === null || compareBytes(prev, key) < 0) && (next === null || compareBytes(key, next) < 0);
  const rev = readRevision(key);
  // In order with the one neighbour a leaf's first or last element has, a flipped high bit still shows: no etcd
  // counts 2^40 revisions (a million writes a day for 3,000 years), and a put's value names the revision it has.
  if (ordered && rev.main < REVISION_BEYOND_ANY) return leafEndFlip(elements[i]!.value, rev, prev === null ? next : next === null ? prev : null, prev === null);
  const kv = decodeKv(elements[i]!.value);
  if (!kv || kv.modRevision <= 0 || kv.modRevision === rev.main || (ordered && kv.modRevision >= REVISION_BEYOND_ANY)) return null;
  const candidate = revisionKey(kv.modRevision, rev.sub);
  const fits = (prev === null || compareBytes(prev, candidate) < 0) && (next === null || compareBytes(candidate, next) < 0);
  return fits ? { main: kv.modRevision, why: ordered ? 'high' : 'order' } : null;
}

/**
 * A leaf's first or last revision key (`neighbour`: its one neighbour in the leaf; null for a lone element), in
 * order with it, whose put's value names a mod_revision one bit away from the key's main revision: one of the two
 * had a bit flipped (bbolt keeps no checksum). The one that moved away from the neighbour is the damaged one (a
 * leaf holds revisions written close together): the value's revision when it fits beside the neighbour and is
 * nearer to it, else the key's as it reads (null).
 */
function leafEndFlip(value: Uint8Array, rev: { main: number; sub: number }, neighbour: Uint8Array | null, first: boolean): { main: number; why: 'end' } | null {
  if (neighbour === null) return null;
  const kv = decodeKv(value);
  if (!kv || kv.modRevision <= 0 || kv.modRevision >= REVISION_BEYOND_ANY || !oneBitApart(kv.modRevision, rev.main)) return null;
  const candidate = revisionKey(kv.modRevision, rev.sub);
  if (first ? compareBytes(candidate, neighbour) >= 0 : compareBytes(neighbour, candidate) >= 0) return null;
  const near = readRevision(neighbour).main;
  return Math.abs(kv.modRevision - near) < Math.abs(rev.main - near) ? { main: kv.modRevision, why: 'end' } : null;
}

/** Two revisions below 2^53 that differ in exactly one bit. */
function oneBitApart(a: number, b: number): boolean {
  const hi = (Math.floor(a / 2 ** 32) ^ Math.floor(b / 2 ** 32)) >>> 0;
  const lo = ((a % 2 ** 32) ^ (b % 2 ** 32)) >>> 0;
  const x = hi === 0 ? lo : lo === 0 ? hi : 0;
  return x !== 0 && (x & (x - 1)) === 0;
}

function noteRevision(
  state: SalvageState,
  k: Uint8Array,
  v: Uint8Array,
  absValueOffset: number,
  page: number,
  reachable: boolean,
  /** The main revision revisionInOrder found for a revision key out of order (null: the key's). */
  mainInOrder: number | null = null,
): boolean {
  const read = readRevision(k);
  const rev = mainInOrder === null ? read : { ...read, main: mainInOrder };
  const kv = decodeKv(v);
  if (!kv) return false;
  if (!reachable && state.tree && !inHole(state.tree, k)) {
    state.staleRevisions++;
    state.staleKeys?.note(page, k);
    return true;
  }
  state.revisionsSeen.push(rev.main);
  if (rev.main > state.maxRevision) state.maxRevision = rev.main;
  // A key outside this pass: its revision counts above (gaps, newest revision), its state is another pass's.
  let keys = state.keys;
  let id: number;
  if (state.keep === null) id = keys.idOf(kv.key);
  else {
    let hash = state.keep(kv.key, kv.lease, rev.main);
    if (hash < 0) return true;
    if (hash >= HASHES) {
      keys = state.otherKeys!;
      hash -= HASHES;
    }
    id = keys.idOfHashed(kv.key, hash);
  }
  if (keys.has(id)) {
    const mod = keys.modRevision(id);
    if (mod > rev.main || (mod === rev.main && keys.subRevision(id) >= rev.sub)) return true;
  }
  keys.set({
    id,
    createRevision: rev.tombstone ? 0 : kv.createRevision,
    modRevision: rev.main,
    subRevision: rev.sub,
    version: kv.version,
    lease: kv.lease,
    deleted: rev.tombstone,
    dbOffset: absValueOffset,
    dbLength: v.length,
    dbValueLength: kv.valueLength,
    verbatim: kv.canonical && kv.modRevision === rev.main && !rev.tombstone,
    memValue: null,
    source: reachable ? 'tree' : 'orphaned-leaf',
    sourceRevision: rev.main,
    page,
  });
  return true;
}

function noteLeaseByShape(state: SalvageState, k: Uint8Array, v: Uint8Array, rank: number): boolean {
  if (k.length !== 8) return false;
  const m = decodeMessage(v, 16);
  if (!m.ok) return false;
  const id = new DataView(k.buffer, k.byteOffset, 8).getBigUint64(0, false);
  if (u64Field(m.fields, 1) !== id) return false;
  noteSmall(state, 'lease', k, v, rank);
  return true;
}

/**
 * `hashKeyBytes(key) >>> 0` of the key the KeyValue `v[start, end)` holds, read in place (no view, no decode), or
 * null when unsure: not well formed, or the key field missing, empty or repeated (the decoder would take the last).
 * A pass by key hash refuses most revisions with it (`SalvageState.keepHash`).
 */
function keyHashInValue(v: Uint8Array, start: number, end: number): number | null {
  const tag = keyValueSingleKeyTagAt(v, start, end);
  const keyStart = tag < 0 ? -1 : keyValueKeyStartAt(v, tag, end);
  return keyStart < 0 ? null : hashKeyRange(v, keyStart, keyStart + keyValueKeyLengthAt(v, tag, keyStart)) >>> 0;
}

/** Elements of one leaf (or an inline bucket's page image) at absolute offset `spanOffset`. */
function scanLeafElements(
  state: SalvageState,
  span: Uint8Array,
  spanOffset: number,
  count: number,
  page: number,
  /** TreeFacts.reachable of the page: 0 = no tree reaches it. */
  rank: number,
  bucket: string | null,
  file: string,
  depth: number,
): void {
  if (state.keepHash !== null && bucket === 'key') return scanKeyLeafInPass(state, state.keepHash, span, spanOffset, count, page, rank, file, depth);
  const elements = decodeLeafElements(span, count);
  if (elements.length < count) {
    state.addDamage(file, page, 'outside', { outside: count - elements.length, count });
  }
  for (let i = 0; i < elements.length; i++) scanLeafElement(state, elements, i, span, spanOffset, page, rank, bucket, file, depth);
}

/**
 * A leaf of the key bucket in a pass by key hash (`SalvageState.keepHash`): most of its revisions are another
 * pass's, refused from the bytes in place; an element is decoded only when it may be kept, with its neighbours
 * (`revisionInOrder` reads them), and then goes the way every element goes (`scanLeafElement`).
 */
function scanKeyLeafInPass(
  state: SalvageState,
  keepHash: KeepHash,
  span: Uint8Array,
  spanOffset: number,
  count: number,
  page: number,
  rank: number,
  file: string,
  depth: number,
): void {
  const n = elementsThatFit(count, span.length);
  const elements = new Array<LeafElement>(n);
  const decode = (i: number) => {
    if (i >= 0 && i < n && elements[i] === undefined) elements[i] = decodeLeafElementAt(span, i);
  };
  for (let i = 0; i < n; i++) {
    const at = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const kStart = at + u32le(span, at + 4);
    const kSize = u32le(span, at + 8);
    const vStart = kStart + kSize;
    const vEnd = vStart + u32le(span, at + 12);
    if ((span[at]! & BUCKET_LEAF_FLAG) === 0 && vEnd <= span.length && isRevisionKeyAt(span, kStart, kSize)) {
      const hash = keyHashInValue(span, vStart, vEnd);
      if (hash !== null && !keepHash(hash, span, kStart, vStart, vEnd)) continue;
    }
    decode(i - 1);
    decode(i);
    decode(i + 1);
    scanLeafElement(state, elements, i, span, spanOffset, page, rank, 'key', file, depth);
  }
}

/** Element `i` of a leaf's decoded elements (`scanLeafElements`). */
function scanLeafElement(
  state: SalvageState,
  elements: readonly LeafElement[],
  i: number,
  span: Uint8Array,
  spanOffset: number,
  page: number,
  rank: number,
  bucket: string | null,
  file: string,
  depth: number,
): void {
  const e = elements[i]!;
  if (e.problem !== null) {
    state.addDamage(file, page, 'element-bounds', { index: e.index, ksize: e.keySize, vsize: e.valueSize, pos: e.keyPos, bytes: span.length });
    return;
  }
  if (e.flags & BUCKET_LEAF_FLAG) {
    // A sub-bucket: an inline one carries its page image after the 16-byte header.
    if (depth > 4 || e.value.length < 16) return;
    const root = new DataView(e.value.buffer, e.value.byteOffset, 8).getBigUint64(0, true);
    const name = bucket === null ? latin1.decode(e.key) : bucket;
    if (root === 0n && e.value.length >= 16 + PAGE_HEADER_SIZE) {
      const image = e.value.subarray(16);
      const h = decodePageHeader(image);
      if (h && isLeaf(h.flags)) {
        scanLeafElements(state, image, spanOffset + (image.byteOffset - span.byteOffset), h.count, page, rank, name, file, depth + 1);
      }
    }
    return;
  }
  const valueOffset = spanOffset + (e.value.byteOffset - span.byteOffset);
  if ((bucket === 'key' || bucket === null) && isRevisionKey(e.key)) {
    const fixed = revisionInOrder(elements, i);
    if (fixed !== null) {
      const rev = readRevision(e.key);
      state.addDamage(file, page, fixed.why === 'order' ? 'revision-key' : fixed.why === 'high' ? 'revision-key-high' : 'revision-key-end', {
        index: e.index,
        main: rev.main,
        sub: rev.sub,
        mod: fixed.main,
      });
    }
    if (noteRevision(state, e.key, e.value, valueOffset, page, rank > 0, fixed?.main ?? null)) return;
    if (bucket === 'key') {
      const rev = readRevision(e.key);
      state.addDamage(file, page, 'no-value', { index: e.index, main: rev.main, sub: rev.sub });
      return;
    }
  }
  if (bucket !== null && bucket !== 'key') noteSmall(state, bucket, e.key, e.value, rank);
  else if (bucket === null) noteLeaseByShape(state, e.key, e.value, rank);
}

/** Phase 1: scan the db. */
export async function scanDb(
  state: SalvageState,
  src: ByteSource,
  file: string,
  snapshotDb: boolean | undefined,
  opts: RunOptions = {},
  sha256: (src: ByteSource, length: number) => Promise<Uint8Array> = (s, n) => sha256OfSource(s, n),
  /** Past this many bytes of key states (`KeyStates.estimatedBytes`) the keys are dropped (`SalvageState.overBudget`); null: no bound. */
  keyBudget: number | null = null,
): Promise<void> {
  const hasTrailer = snapshotDb ?? src.size % 512 === 32;
  const dbSize = hasTrailer && src.size >= 32 ? src.size - 32 : src.size;
  if (dbSize === 0) {
    state.addFinding(salvageFinding({ severity: 'error', code: 'salvage.db-empty', file, offset: 0, params: { file } }));
    return;
  }
  if (hasTrailer && dbSize > 0) {
    // The trailer is the only checksum a bbolt file has: a mismatch means some byte changed,
    // and a changed byte inside a value cannot be told from a real value.
    const stored = await src.read(dbSize, 32);
    const computed = await sha256(src, dbSize);
    state.bytesRead += dbSize + 32;
    if (hex(stored) !== hex(computed)) {
      state.addFinding(
        salvageFinding({
          severity: 'warning',
          code: 'salvage.snapshot-hash-mismatch',
          file,
          offset: dbSize,
          params: { file, stored: hex(stored), computed: hex(computed) },
        }),
      );
    }
  }
  // Page size: meta 0's when it validates, else 4096 (settledPageSize; the page map found by scanning uses it too).
  const head = await src.read(0, Math.min(dbSize, 2 * 65536));
  state.bytesRead += head.length;
  const metas: { page: number; root: number; txid: bigint; hwm: number }[] = [];
  const pageSize = settledPageSize(head);
  state.pageSize = pageSize;
  const filePages = Math.floor(dbSize / pageSize);
  for (const id of [0, 1]) {
    if ((id + 1) * pageSize > head.length) continue;
    const m = decodeMetaFields(head.subarray(id * pageSize, (id + 1) * pageSize));
    const err = validateMeta(m.fields, m.computed);
    // A meta with only a bad checksum still names the newest tree: walk it too (its pages hold the newest revisions).
    if ((err === null || err === 'checksum error') && m.fields.root >= 2n && m.fields.root < BigInt(filePages)) {
      metas.push({ page: id, root: Number(m.fields.root), txid: m.fields.txid, hwm: Number(m.fields.pgid) });
    }
    if (err !== null || m.fields.root >= BigInt(filePages)) {
      state.addFinding(
        salvageFinding({
          severity: 'warning',
          code: 'salvage.meta-invalid',
          file,
          offset: id * pageSize,
          params: err !== null ? { meta: id, error: err } : { meta: id, root: String(m.fields.root) },
          ...(err !== null ? {} : { variant: 'root-outside' }),
        }),
      );
    }
  }
  if (filePages < 3) {
    state.addFinding(
      salvageFinding({ severity: 'error', code: 'salvage.db-too-small', file, offset: 0, params: { file, bytes: dbSize, pages: filePages, pageSize } }),
    );
    return;
  }
  metas.sort((a, b) => (a.txid > b.txid ? -1 : 1));
  const hwm = Math.max(0, ...metas.map((m) => m.hwm));
  if (hwm > filePages && hwm < Number.MAX_SAFE_INTEGER) state.cutPages = [filePages, hwm];
  // Both metas' trees count: the newer one may be the damaged one (its pages hold the newest
  // revisions), the older one is one transaction behind. Pages neither reaches are freed copies.
  const roots = metas.map((m) => m.root);
  const before = state.scanMark();
  // Leaves presumed only when the scan can start over: a state that held scanned facts already cannot be put back.
  state.tree = await reachablePages(src, dbSize, pageSize, roots, before !== null);
  state.filePages = filePages;
  try {
    await scanPages(state, src, file, opts, keyBudget);
  } catch (err) {
    if (!(err instanceof PresumedTreeWrong) || before === null) throw err;
    // The tree is not what its first leaves said (damage): the walk reads every page, and the scan starts over.
    state.resetScan(before);
    state.tree = await reachablePages(src, dbSize, pageSize, roots, false);
    await scanPages(state, src, file, opts, keyBudget);
  }
  const meta = state.small.get('meta');
  const ci = meta?.get(latin1.decode(META_CONSISTENT_INDEX));
  if (ci && ci.value.length === 8) state.sourceConsistentIndex = Number(new DataView(ci.value.buffer, ci.value.byteOffset, 8).getBigUint64(0, false));
  const fc = meta?.get(latin1.decode(META_FINISHED_COMPACT));
  if (fc && fc.value.length >= 17) state.sourceCompacted = readRevision(fc.value).main;
  for (const l of state.small.get('lease')?.values() ?? []) {
    const m = decodeMessage(l.value, 16);
    if (!m.ok) continue;
    const id = u64Field(m.fields, 1);
    state.leases.set(id.toString(), { id, ttl: numField(m.fields, 2) });
  }
}

/**
 * Every page position 2..filePages once, in order, through the window cache: leaves are decoded element by element
 * (`scanLeafElements`). With `keyBudget`, the key states are dropped once they pass it (checked every 64 pages and at
 * the end): the scan goes on for the db's other facts (`SalvageState.overBudget`).
 */
async function scanPages(
  state: SalvageState,
  src: ByteSource,
  file: string,
  opts: RunOptions,
  keyBudget: number | null,
  phase = 'salvage: reading pages',
  /** At the budget stop (a later pass: its keys are incomplete, `state.overBudget` says so) instead of dropping the keys. */
  stopAtBudget = false,
): Promise<void> {
  const tree = state.tree!;
  const pageSize = state.pageSize;
  const filePages = state.filePages;
  const dbSize = filePages * pageSize;
  let p = 2;
  // Page by page through the window cache (a view, not a copy); every byte of the span is counted once.
  // From the window at hand without a promise (about a thousand pages a window), else read.
  const pageAt = (pos: number): Uint8Array | Promise<Uint8Array> => {
    state.bytesRead += pageSize;
    return peekCached(src, pos * pageSize, pageSize) ?? src.read(pos * pageSize, pageSize);
  };
  let lastProgress = 0;
  let lastBudgetCheck = 0;
  const presumed = tree.presumed;
  if (presumed) state.staleKeys = new StaleKeyRanges();
  // Said at once, so a small db (fewer pages than one report's step) still shows what runs.
  opts.onProgress?.({ phase, bytesDone: 0, bytesTotal: dbSize, currentFile: file });
  while (p < filePages) {
    throwIfCancelled(opts.signal);
    const at = pageAt(p);
    let page = at instanceof Uint8Array ? at : await at;
    state.pagesScanned++;
    const h = decodePageHeader(page)!;
    if (presumed && presumed.flags[p] !== 0) {
      const checking = checkPresumedLeaf(state, src, p, page, h);
      if (checking) {
        await checking;
        // Again (the same bytes): the check read other pages, and the window holding this one may be reused.
        page = peekCached(src, p * pageSize, pageSize) ?? (await src.read(p * pageSize, pageSize));
      }
    }
    const spanPages = h.overflow + 1;
    const fits = h.overflow < filePages && p + spanPages <= filePages && spanPages * pageSize <= MAX_SPAN_BYTES;
    // A presumed leaf inside this page's span would not be checked (the scan steps over it).
    if (presumed && spanPages > 1 && fits && h.id === p && (isLeaf(h.flags) || isBranch(h.flags)))
      for (let q = p + 1; q < p + spanPages; q++) if (presumed.flags[q] !== 0) throw new PresumedTreeWrong(`page ${q} is inside page ${p}'s span`);
    if (isLeaf(h.flags) && h.id === p && fits) {
      const rank = tree.reachable[p]!;
      state.leafPages++;
      if (rank === 0) state.orphanedLeafPages++;
      const span = spanPages === 1 ? page : (peekCached(src, p * pageSize, spanPages * pageSize) ?? (await readExact(src, p * pageSize, spanPages * pageSize)));
      if (spanPages > 1) state.bytesRead += span.length - pageSize;
      const bucket = tree.bucketNames[tree.bucketOfPage[p]! - 1] ?? null;
      scanLeafElements(state, span, p * pageSize, h.count, p, rank, bucket, file, 0);
      p += spanPages;
    } else if (isBranch(h.flags) && h.id === p && fits) {
      p += spanPages;
    } else {
      // Not a page we can trust by its header (zeroed, wrong flags, wrong id): its elements may
      // still be intact. Items are kept only when their shape proves them (revision key + KeyValue).
      const before = state.keys.size + state.revisionsSeen.pushed;
      if (h.count > 0 && !isBranch(h.flags)) {
        const probe = new SalvageState();
        scanLeafElements(probe, page, p * pageSize, h.count, p, 0, null, file, 0);
        if (probe.revisionsSeen.pushed > 0) {
          scanLeafElements(state, page, p * pageSize, h.count, p, tree.reachable[p]!, null, file, 0);
          state.leafPages++;
          if (tree.reachable[p] === 0) state.orphanedLeafPages++;
        }
      }
      const recovered = state.keys.size + state.revisionsSeen.pushed > before;
      if (!recovered && tree.reachable[p]! > 0) {
        state.unreadablePages++;
        state.addDamage(file, p, 'not-a-page', { id: String(h.id), flags: h.flags.toString(16) });
      }
      p++;
    }
    if (keyBudget !== null && p - lastBudgetCheck >= 64) {
      lastBudgetCheck = p;
      if (overBudget(state, keyBudget, p, stopAtBudget) && stopAtBudget) return;
    }
    if (opts.onProgress && p - lastProgress >= 4096) {
      lastProgress = p;
      opts.onProgress({ phase, bytesDone: p * pageSize, bytesTotal: dbSize, currentFile: file });
    }
  }
  // A pass that ends over its budget has all its keys (the memory is spent): only the first scan drops them.
  if (keyBudget !== null && !stopAtBudget) overBudget(state, keyBudget, filePages, false);
  if (presumed) {
    // Every presumed leaf is checked: the tree's facts are final for the passes that follow.
    tree.presumed = null;
    state.staleKeys = null;
  }
}

/**
 * Past the budget (true, once): noted in `state.overBudget`; unless the scan stops there, the key states are dropped
 * and no more are kept (the scan goes on for the db's facts).
 */
function overBudget(state: SalvageState, keyBudget: number, pagesDone: number, stop: boolean): boolean {
  if (state.overBudget !== null) return false;
  const keyBytes = state.keys.estimatedBytes;
  if (keyBytes <= keyBudget) return false;
  state.overBudget = { keyBytes, pagesDone, filePages: state.filePages };
  if (stop) return true;
  state.keys.clear();
  state.spareKeys = state.keys;
  state.keys = new KeyStates();
  state.keep = KEEP_NONE;
  return true;
}

// ---------------------------------------------------------------- WAL replay

function cmpTarget(t: string | number): 'version' | 'create' | 'mod' | 'value' | 'lease' {
  const names = ['version', 'create', 'mod', 'value', 'lease'] as const;
  if (typeof t === 'number') return names[t] ?? 'version';
  const s = t.toLowerCase();
  if (s.startsWith('create')) return 'create';
  if (s.startsWith('mod')) return 'mod';
  if (s.startsWith('val')) return 'value';
  if (s.startsWith('lease')) return 'lease';
  return 'version';
}

function cmpResult(r: string | number): 'equal' | 'greater' | 'less' | 'not-equal' {
  const names = ['equal', 'greater', 'less', 'not-equal'] as const;
  if (typeof r === 'number') return names[r] ?? 'equal';
  const s = r.toLowerCase().replace('_', '-');
  if (s.startsWith('great')) return 'greater';
  if (s.startsWith('less')) return 'less';
  if (s.startsWith('not')) return 'not-equal';
  return 'equal';
}

/** An etcd range [key, rangeEnd): no end = the key alone; end "\0" = every key from `key` on. */
interface KeyRange {
  start: Uint8Array;
  end: Uint8Array | null;
  exact: boolean;
}

function keyRange(start: Uint8Array, end: Uint8Array | undefined): KeyRange {
  if (!end || end.length === 0) return { start, end: null, exact: true };
  if (end.length === 1 && end[0] === 0) return { start, end: null, exact: false };
  return { start, end, exact: false };
}

function inKeyRange(key: Uint8Array, r: KeyRange): boolean {
  if (r.exact) return compareBytes(key, r.start) === 0;
  return compareBytes(key, r.start) >= 0 && (r.end === null || compareBytes(key, r.end) < 0);
}

/** A tolerant compare of a revision or version (`Replayer.compare`): whether the key exists is all that is judged. */
function existenceCompare(result: ReturnType<typeof cmpResult>, want: bigint, exists: boolean): boolean {
  if (result === 'equal') return want === 0n ? !exists : exists;
  if (result === 'not-equal') return want === 0n ? exists : true;
  if (result === 'greater') return exists;
  return true;
}

export class Replayer {
  /** Revision given to the next write txn. */
  private nextRevision: number;
  applied = 0;
  gapFilled = 0;
  /** Entries at or below the consistent index that wrote: the db's last this-many revisions are in the WAL. */
  heldWriteEntries = 0;
  entries = 0;
  first: number | null = null;
  last: number | null = null;
  constructor(
    private readonly state: SalvageState,
    private readonly src: ByteSource | null,
    private readonly consistentIndex: number | null,
    /** The WAL again, to read back the few values a held entry wrote that the db lacks (none kept in the first pass). */
    private readonly wal: WalEntryStream | null = null,
    private readonly bytesEqual: (a: Uint8Array, b: Uint8Array) => boolean = sameBytes,
    /** The db's path for findings. */
    private readonly dbFile = 'db',
  ) {
    // etcd's store starts at revision 1 and its first write is revision 2.
    this.nextRevision = Math.max(state.maxRevision, 1) + 1;
    this.dbMaxRevision = state.maxRevision;
  }

  /** The db's newest revision before the replay (the covered span counts back from it). */
  private readonly dbMaxRevision: number;

  /** Revisions whose writes the WAL's held entries made, [lo, hi]; null when the WAL vouches for none (`heldSpan`). */
  coveredRevisions(): [number, number] | null {
    return heldSpan(this.first, this.last, this.heldWriteEntries, this.state.sourceConsistentIndex, this.dbMaxRevision);
  }

  private live(id: number): KeyState | undefined {
    return this.state.keys.isLive(id) ? this.state.keys.get(id) : undefined;
  }

  private async valueOf(s: KeyState): Promise<Uint8Array> {
    if (s.memValue) return s.memValue;
    if (s.dbOffset < 0 || !this.src) return new Uint8Array(0);
    // A copy: the read is a view of a reused window, and replay holds values across reads.
    return copyBytes(kvValue(await readExact(this.src, s.dbOffset, s.dbLength)));
  }

  /**
   * Compare as etcd's applyCompare; `tolerant` (entries the db already holds,
   * whose revisions we cannot know) passes revision/version compares when the
   * key's existence agrees with them. A boolean at once when nothing is read
   * (every held txn's existence compare: no promise per WAL entry).
   */
  private compare(c: ReplayCompare, tolerant: boolean): boolean | Promise<boolean> {
    const target = cmpTarget(c.target);
    const result = cmpResult(c.result);
    if (tolerant && target !== 'value' && target !== 'lease' && !(c.rangeEnd && c.rangeEnd.length > 0)) {
      // One key, judged by existence only (below): read from the columns, no state object (every held txn has such a compare).
      const id = this.state.keys.find(c.key);
      if (id >= 0) this.touchedInHeld.set(id, 1);
      const exists = id >= 0 && this.pending.has(id) ? !this.pending.isDeleted(id) : this.state.keys.isLive(id);
      return existenceCompare(result, c.number ?? 0n, exists);
    }
    return this.compareStates(c, tolerant, target, result);
  }

  /** `compare` over the keys' states (a value compare may read the db). */
  private async compareStates(
    c: ReplayCompare,
    tolerant: boolean,
    target: ReturnType<typeof cmpTarget>,
    result: ReturnType<typeof cmpResult>,
  ): Promise<boolean> {
    const ids: KeyState[] = [];
    if (c.rangeEnd && c.rangeEnd.length > 0) {
      const range = keyRange(c.key, c.rangeEnd);
      for (const id of this.state.keys.liveInRange(range)) ids.push(this.state.keys.get(id)!);
    } else {
      const id = this.state.keys.find(c.key);
      if (tolerant && id >= 0) this.touchedInHeld.set(id, 1);
      const p = tolerant && id >= 0 ? this.pending.get(id) : undefined;
      if (p) {
        if (!p.deleted) ids.push(this.pendingView(id, p));
      } else {
        const s = this.live(id);
        if (s) ids.push(s);
      }
    }
    const check = async (s: KeyState | undefined): Promise<boolean> => {
      let have: bigint | Uint8Array;
      let want: bigint | Uint8Array;
      if (target === 'value') {
        if (!s) return false;
        if (s.unknownValue) return tolerant;
        have = await this.valueOf(s);
        want = c.value ?? new Uint8Array(0);
        const d = compareBytes(have, want);
        return result === 'equal' ? d === 0 : result === 'not-equal' ? d !== 0 : result === 'greater' ? d > 0 : d < 0;
      }
      const fieldOf = (x: KeyState | undefined): bigint =>
        !x
          ? 0n
          : target === 'version'
            ? BigInt(x.version)
            : target === 'create'
              ? BigInt(x.createRevision)
              : target === 'mod'
                ? BigInt(x.modRevision)
                : x.lease;
      have = fieldOf(s);
      want = c.number ?? 0n;
      // Revisions of the db are not those the WAL saw for gap-filled keys: judge existence only.
      if (tolerant && target !== 'lease') return existenceCompare(result, want, s !== undefined);
      return result === 'equal' ? have === want : result === 'not-equal' ? have !== want : result === 'greater' ? have > want : have < want;
    };
    if (ids.length === 0) return check(undefined);
    for (const s of ids) if (!(await check(s))) return false;
    return true;
  }

  /** Do compares `from`.. of `cs` all hold? At once when none reads a value; stops at the first that fails. */
  private allCompares(cs: readonly ReplayCompare[], tolerant: boolean, from = 0): boolean | Promise<boolean> {
    for (let i = from; i < cs.length; i++) {
      const ok = this.compare(cs[i]!, tolerant);
      if (ok === false) return false;
      if (ok !== true) return ok.then((held) => held && this.allCompares(cs, tolerant, i + 1));
    }
    return true;
  }

  /** Apply one request; `rev` is the txn's main revision, `sub` counts writes within it. */
  private async applyOps(req: ReplayRequest, tolerant: boolean, rev: number, sub: { n: number }, index: number): Promise<void> {
    switch (req.kind) {
      case 'put': {
        const r = req as Extract<ReplayRequest, { kind: 'put' }>;
        const id = this.state.keys.idOf(r.key);
        const prev = this.live(id);
        const value = r.ignoreValue && prev ? await this.valueOf(prev) : r.value;
        const lease = r.ignoreLease && prev ? prev.lease : r.lease;
        this.state.keys.set({
          id,
          createRevision: prev ? prev.createRevision : rev,
          modRevision: rev,
          subRevision: sub.n++,
          version: prev ? prev.version + 1 : 1,
          lease,
          deleted: false,
          dbOffset: -1,
          dbLength: 0,
          dbValueLength: 0,
          verbatim: false,
          memValue: copyBytes(value),
          source: 'wal',
          sourceRevision: null,
          walIndex: index,
        });
        return;
      }
      case 'delete-range': {
        const r = req as Extract<ReplayRequest, { kind: 'delete-range' }>;
        let hit: number[] = [];
        if (r.rangeEnd && r.rangeEnd.length > 0) hit = this.state.keys.liveInRange(keyRange(r.key, r.rangeEnd));
        else {
          const id = this.state.keys.find(r.key);
          if (this.state.keys.isLive(id)) hit.push(id);
        }
        for (const id of hit) this.markDeleted(id, rev, sub.n++, index);
        return;
      }
      case 'txn': {
        const r = req as Extract<ReplayRequest, { kind: 'txn' }>;
        const ok = await this.allCompares(r.compare ?? [], tolerant);
        for (const op of ok ? (r.success ?? []) : (r.failure ?? [])) await this.applyOps(op, tolerant, rev, sub, index);
        return;
      }
      case 'lease-grant': {
        const r = req as Extract<ReplayRequest, { kind: 'lease-grant' }>;
        this.state.leases.set(r.leaseId.toString(), { id: r.leaseId, ttl: Number(r.ttl) });
        return;
      }
      case 'lease-revoke': {
        const r = req as Extract<ReplayRequest, { kind: 'lease-revoke' }>;
        this.state.leases.delete(r.leaseId.toString());
        const keys = this.state.keys;
        const hit: number[] = [];
        for (let id = 0; id < keys.ids; id++) if (keys.isLive(id) && keys.lease(id) === BigInt.asIntN(64, r.leaseId)) hit.push(id);
        hit.sort((a, b) => compareBytes(keys.keyOf(a), keys.keyOf(b)));
        for (const id of hit) this.markDeleted(id, rev, sub.n++, index);
        return;
      }
      default:
        return;
    }
  }

  /** A live key deleted by WAL entry `index` at revision `rev`/`sub`. */
  private markDeleted(id: number, rev: number, sub: number, index: number): void {
    const s = this.state.keys.get(id)!;
    s.deleted = true;
    s.modRevision = rev;
    s.subRevision = sub;
    s.source = 'wal';
    s.walIndex = index;
    this.state.keys.set(s);
  }

  /**
   * Entries above the consistent index: applied as etcd would. Entries at or
   * below it: the db should already hold them; they are applied only where
   * the leaves disagree (a page with the newer revision was lost). A held
   * entry is noted at once unless a value had to be read (no promise per
   * entry of a healthy WAL); the result is a promise only then.
   */
  apply(e: ReplayEntry): void | Promise<void> {
    this.entries++;
    if (this.first === null) this.first = e.index;
    else if (this.last !== null && e.index > this.last + 1 && this.consistentIndex !== null && this.last < this.consistentIndex) {
      // Entries the WAL reader stepped over (a damaged record) inside the held span: what they wrote is unknown.
      if (this.heldGapAfter === 0) this.writesBeforeHeldGap = this.heldWriteEntries;
      this.heldGapAfter = e.index;
    }
    this.last = e.index;
    if (e.type !== 'normal' || !e.request) return;
    const held = this.consistentIndex !== null && e.index <= this.consistentIndex;
    if (held) return this.gapFill(e);
    return this.applyAbove(e);
  }

  /** An entry above the consistent index (the held span before it settled first). */
  private async applyAbove(e: ReplayEntry): Promise<void> {
    if (this.pending.size > 0) await this.settleHeld();
    const rev = this.nextRevision;
    const sub = { n: 0 };
    await this.applyOps(e.request!, false, rev, sub, e.index);
    if (sub.n > 0) {
      this.nextRevision++;
      this.applied++;
    }
  }

  /**
   * The last write of each key by the entries at or below the consistent
   * index (the db should hold all of them). Nothing is applied while they
   * stream: a key rewritten in that span would otherwise be "filled" with
   * each older value in turn (each differs from the db's newest), at invented
   * revisions, with every value held in memory. Only whether the write
   * equals the db's value is kept, or where in the WAL it is.
   */
  private pending = new PendingWrites();
  /**
   * Keys a held entry named (written, deleted or compared; 1): a key the held entries never named cannot have been
   * written at a revision they made. Compares count because a create's `mod_revision == 0` is judged by existence in
   * the db's final state, and so its put is not noted (the db holds it).
   */
  private readonly touchedInHeld = new NumberColumn((n) => new Uint8Array(n));
  /** The writes of the held entry being noted (`gapFill`). */
  private readonly entryWrites = new Map<number, PendingWrite>();

  /**
   * A held entry: note its writes as pending (judged by `settleHeld` once the span ends). At once, without a
   * promise, unless a value had to be read from the db (outside the read window at hand).
   */
  private gapFill(e: ReplayEntry): void | Promise<void> {
    // One map for every entry (entries are replayed one at a time): no new Map per WAL entry.
    this.entryWrites.clear();
    const noted = this.noteHeld(e, e.request!, 0);
    return noted ? noted.then(() => this.endHeld()) : this.endHeld();
  }

  /** Op `req` (at `ordinal` of held entry `e`'s op tree) into `entryWrites`; a promise only when a value was read. */
  private noteHeld(e: ReplayEntry, req: ReplayRequest, ordinal: number): void | Promise<void> {
    const writes = this.entryWrites;
    if (req.kind === 'put') {
      const r = req as Extract<ReplayRequest, { kind: 'put' }>;
      const keys = this.state.keys;
      const id = keys.idOf(r.key);
      this.touchedInHeld.set(id, 1);
      const before = writes.get(id) ?? this.pending.get(id);
      // The db's state read from its columns (no state object per WAL write).
      const inDb = keys.isLive(id);
      const prevExists = before ? !before.deleted : inDb;
      const prevLease = before ? before.lease : inDb ? keys.lease(id) : 0n;
      const lease = r.ignoreLease && prevExists ? prevLease : r.lease;
      let valueIndex = e.index;
      let valueOrdinal = ordinal;
      if (r.ignoreValue && prevExists) {
        valueIndex = before ? before.valueIndex : -1;
        valueOrdinal = before ? before.valueOrdinal : 0;
      } else if (inDb) {
        const same = this.sameAsDb(id, r.value);
        if (same === true) valueIndex = -1;
        else if (same !== false) {
          return same.then((equal) => {
            writes.set(id, { index: e.index, ordinal, deleted: false, lease, valueIndex: equal ? -1 : e.index, valueOrdinal });
          });
        }
      }
      writes.set(id, { index: e.index, ordinal, deleted: false, lease, valueIndex, valueOrdinal });
    } else if (req.kind === 'delete-range') {
      const r = req as Extract<ReplayRequest, { kind: 'delete-range' }>;
      const del = (id: number) => {
        this.touchedInHeld.set(id, 1);
        writes.set(id, { index: e.index, ordinal, deleted: true, lease: 0n, valueIndex: -1, valueOrdinal: 0 });
      };
      if (r.rangeEnd && r.rangeEnd.length > 0) {
        const range = keyRange(r.key, r.rangeEnd);
        for (const id of this.state.keys.liveInRange(range)) del(id);
        for (const [id, p] of this.pending.entries()) if (!p.deleted && inKeyRange(this.state.keys.keyOf(id), range)) del(id);
      } else del(this.state.keys.idOf(r.key));
    } else if (req.kind === 'txn') {
      const r = req as Extract<ReplayRequest, { kind: 'txn' }>;
      const ok = this.allCompares(r.compare ?? [], true);
      return typeof ok === 'boolean' ? this.noteBranch(e, r, ordinal, ok) : ok.then((held) => this.noteBranch(e, r, ordinal, held));
    } else if (req.kind === 'lease-grant') {
      if (!this.state.leases.has(req.leaseId.toString())) this.state.leases.set(req.leaseId.toString(), { id: req.leaseId, ttl: req.ttl });
    }
  }

  /** The branch of held txn `r` that runs (`ok`: its compares held). */
  private noteBranch(e: ReplayEntry, r: Extract<ReplayRequest, { kind: 'txn' }>, ordinal: number, ok: boolean): void | Promise<void> {
    // Ordinals count every op of the whole tree (success, then failure), whichever branch runs.
    let at = ordinal;
    if (!ok) for (const op of r.success ?? []) at += opCount(op);
    return this.noteOps(e, ok ? (r.success ?? []) : (r.failure ?? []), 0, at);
  }

  /** Ops `from`.. of a held branch in turn, the first at ordinal `at`. */
  private noteOps(e: ReplayEntry, ops: readonly ReplayRequest[], from: number, at: number): void | Promise<void> {
    for (let i = from; i < ops.length; i++) {
      const op = ops[i]!;
      const noted = this.noteHeld(e, op, at);
      at += opCount(op);
      if (noted) {
        const next = at;
        return noted.then(() => this.noteOps(e, ops, i + 1, next));
      }
    }
  }

  /** The held entry's writes become pending. */
  private endHeld(): void {
    const writes = this.entryWrites;
    // Would this entry have produced a revision? (a put always; a delete when the key was there)
    let writing = 0;
    for (const [id, w] of writes) {
      if (!w.deleted || this.state.keys.has(id) || this.pending.has(id)) writing++;
      this.pending.set(id, w);
    }
    if (writing > 0) this.heldWriteEntries++;
  }

  /**
   * Does `value` equal the db's newest value of live key `id`? Lengths first (most rewrites change the size, and then
   * nothing is read); the bytes compared in the read window (no copy: nothing is read in between), at once when the
   * window is at hand.
   */
  private sameAsDb(id: number, value: Uint8Array): boolean | Promise<boolean> {
    const keys = this.state.keys;
    const memValue = keys.memValue(id);
    const offset = keys.dbOffset(id);
    const length = memValue ? memValue.length : offset >= 0 ? keys.dbValueLength(id) : 0;
    if (length !== value.length) return false;
    if (memValue) return this.bytesEqual(memValue, value);
    if (offset < 0 || !this.src) return this.bytesEqual(new Uint8Array(0), value);
    const now = peekCached(this.src, offset, keys.dbLength(id));
    if (now) return this.bytesEqual(kvValue(now), value);
    return readExact(this.src, offset, keys.dbLength(id)).then((raw) => this.bytesEqual(kvValue(raw), value));
  }

  /** A held key as a compare sees it: the db's state with the pending write's lease and value. */
  private pendingView(id: number, p: PendingWrite): KeyState {
    const db = this.live(id);
    const base: KeyState = db ?? {
      id,
      createRevision: 0,
      modRevision: 0,
      subRevision: 0,
      version: 0,
      lease: 0n,
      deleted: false,
      dbOffset: -1,
      dbLength: 0,
      dbValueLength: 0,
      verbatim: false,
      memValue: null,
      source: 'wal',
      sourceRevision: null,
    };
    return { ...base, lease: p.lease, ...(p.valueIndex < 0 ? {} : { memValue: null, unknownValue: true }) };
  }

  /**
   * The held span is over: each key's last write there that the db does not
   * already hold is applied, in WAL order, one new revision per entry (as the
   * old per-entry fill did). The values only the WAL has are read again from it.
   */
  private async settleHeld(): Promise<void> {
    // One pending write at a time, in WAL order (rows sorted by index, ordinal; ties in the order they came).
    const pending = this.pending;
    this.pending = new PendingWrites();
    // Rows read from the columns: a row object only for a write the db does not already hold (a healthy WAL has none).
    const rows = pending.byWalOrder();
    const wanted = new Map<number, { id: number; ordinal: number }[]>();
    for (const row of rows) {
      const valueIndex = pending.valueIndexAt(row);
      if (pending.deletedAt(row) || valueIndex < 0) continue;
      const list = wanted.get(valueIndex) ?? [];
      list.push({ id: pending.idAt(row), ordinal: pending.write(row).valueOrdinal });
      wanted.set(valueIndex, list);
    }
    const values = wanted.size > 0 ? await this.readBack(wanted) : new Map<number, Uint8Array>();
    let index = -1;
    let rev = this.nextRevision;
    let sub = 0;
    let changed = false;
    const next = () => {
      if (changed) {
        this.nextRevision++;
        this.gapFilled++;
      }
      rev = this.nextRevision;
      sub = 0;
      changed = false;
    };
    const keys = this.state.keys;
    /** Keys the db lacked (or held older: that revision) that a held write brought back: each may have a damaged twin. */
    const fresh: [number, number | null][] = [];
    for (const row of rows) {
      const id = pending.idAt(row);
      const rowIndex = pending.indexAt(row);
      if (rowIndex !== index) {
        next();
        index = rowIndex;
      }
      // The db holds this write (its value, its lease): nothing to do (the check below, without objects).
      if (!pending.deletedAt(row) && pending.valueIndexAt(row) < 0 && keys.isLive(id) && keys.lease(id) === pending.leaseAt(row)) continue;
      const p = pending.write(row);
      const s = keys.get(id);
      // A held write replaces the db's state only where it is known to be the later one.
      if (!this.heldWriteWins(rowIndex, s)) continue;
      const live = s && !s.deleted ? s : undefined;
      if (p.deleted) {
        if (live) {
          this.markDeleted(id, rev, sub++, p.index);
          changed = true;
        }
        continue;
      }
      if (p.valueIndex < 0 && live && live.lease === p.lease) continue;
      const value = p.valueIndex < 0 ? (live ? await this.valueOf(live) : null) : (values.get(id) ?? null);
      if (value === null) {
        this.state.addLoss({
          key: displayKey(this.state.keys.keyOf(id)),
          revisions: null,
          page: null,
          reason: `WAL entry ${p.index} wrote this key after the db's newest copy was lost, but its value could not be read back from the WAL`,
        });
        continue;
      }
      this.state.keys.set({
        id,
        createRevision: live ? live.createRevision : rev,
        modRevision: rev,
        subRevision: sub++,
        version: live ? live.version + 1 : 1,
        lease: p.lease,
        deleted: false,
        dbOffset: -1,
        dbLength: 0,
        dbValueLength: 0,
        verbatim: false,
        memValue: value,
        source: 'wal',
        sourceRevision: null,
        walIndex: p.index,
      });
      const differs = live !== undefined && live.source !== 'wal' && p.valueIndex >= 0;
      if (differs) this.noteValueDiffers(id, live, p.index, rev);
      // The db lacked the write, or held an older value of the key: its newest revision may be there under a name
      // with a flipped byte.
      if (((!live && !s) || differs) && fresh.length < MAX_TWIN_SEARCHES) fresh.push([id, differs ? live.modRevision : null]);
      changed = true;
    }
    next();
    this.untouchedPool = undefined;
    for (const [id, older] of fresh) await this.setAsideDamagedName(id, older);
  }

  /** Values of db keys the held entries' last writes replaced (`noteValueDiffers`), the first ones with a finding. */
  private valuesDiffering = 0;
  /** The first entry after the last gap in the held span (entries stepped over); 0: no gap. */
  private heldGapAfter = 0;
  /** Held entries that wrote before the first gap (`heldWriteEntries` when there is none). */
  private writesBeforeHeldGap = 0;

  /**
   * May held write at entry `index` replace the state `s` the db has of its key? A held write is the key's last
   * before the consistent index only when no entry after it up to there is unknown: the WAL reaches the consistent
   * index, and no record after it was stepped over. Else it may be, when the WAL starts at the cluster's first
   * entry and the db's revision of the key lies in the part before any gap (revisions 2.. counted one per writing
   * entry): the db's write of it is then in the WAL too, at or before the held one. Otherwise the db's state may be
   * the newer (an entry the WAL no longer has wrote or deleted the key since) and is kept.
   */
  private heldWriteWins(index: number, s: KeyState | undefined): boolean {
    if (!s || s.source === 'wal') return true;
    // The WAL may end short of the consistent index: damage may end it, or its newest files may be gone.
    const reaches = this.last !== null && this.consistentIndex !== null && this.last >= this.consistentIndex;
    if (reaches && index >= this.heldGapAfter) return true;
    const writes = this.heldGapAfter === 0 ? this.heldWriteEntries : this.writesBeforeHeldGap;
    return this.first !== null && this.first <= 1 && s.modRevision <= 1 + writes;
  }

  /**
   * Live db key `id` (`db`, its state in the db) was just given the value WAL entry `index` wrote last, at revision
   * `written`: the db's newest readable value is not that one. Said, because it is not a page etcd would notice:
   * either the page with the newer revision was lost, or the value's bytes changed in the file.
   */
  private noteValueDiffers(id: number, db: KeyState, index: number, written: number): void {
    if (++this.valuesDiffering > MAX_VALUE_DIFFERS_LISTED) return;
    this.state.addFinding(
      salvageFinding({
        severity: 'warning',
        code: 'salvage.db-value-differs',
        file: this.dbFile,
        offset: db.page !== undefined ? db.page * this.state.pageSize : null,
        params: { key: displayKey(this.state.keys.keyOf(id)), revision: db.modRevision, page: db.page ?? '?', index, written },
      }),
    );
  }

  /**
   * The one key the state holds whose name differs from `name` in exactly one byte and that `accept`s; -1 when there
   * is none, or more than one (which one is meant is then unknown), or the name is longer than MAX_TWIN_KEY.
   */
  private oneByteTwin(name: Uint8Array, accept: (id: number) => boolean): number {
    if (name.length > MAX_TWIN_KEY) return -1;
    const keys = this.state.keys;
    const variant = copyBytes(name);
    let twin = -1;
    for (let i = 0; i < variant.length; i++) {
      const was = variant[i]!;
      for (let b = 0; b < 256; b++) {
        if (b === was) continue;
        variant[i] = b;
        const id = keys.find(variant);
        if (id < 0 || !accept(id)) continue;
        if (twin >= 0) return -1;
        twin = id;
      }
      variant[i] = was;
    }
    return twin;
  }

  /** The WAL's entries again, in order, up to entry `last` (the whole WAL past it is not read). */
  private async walUpTo(last: number, onEntry: (e: ReplayEntry) => void): Promise<void> {
    if (!this.wal) return;
    const done = new Error('read back');
    try {
      await this.wal((e) => {
        onEntry(e);
        if (e.index >= last) throw done;
      });
    } catch (err) {
      if (err !== done) throw err;
    }
  }

  /**
   * Live db keys at a revision the held entries wrote that no held entry named (put, delete or compare), up to
   * MAX_RUN_DAMAGE_POOL (null: more, or no covered span). Each such revision was written by an entry that named
   * another key: a name damaged on disk is one of these.
   */
  private untouchedCoveredKeys(): number[] | null {
    const covered = this.coveredRevisions();
    if (!covered) return null;
    const keys = this.state.keys;
    const out: number[] = [];
    for (let id = 0; id < keys.ids; id++) {
      if (!keys.isLive(id) || keys.source(id) === 'wal' || this.touchedInHeld.get(id) !== 0) continue;
      const rev = keys.modRevision(id);
      if (rev < covered[0] || rev > covered[1]) continue;
      if (out.push(id) > MAX_RUN_DAMAGE_POOL) return null;
    }
    return out;
  }

  /** `untouchedCoveredKeys`, worked out once for a replay's damaged-name searches (the keys it forgets are skipped as not live). */
  private untouchedPool: number[] | null | undefined;

  /**
   * Key `good`, which the db lacks (or holds only at the older revision `older`), was just written from a held WAL
   * entry. A db key that holds the same value, stands at a revision the held entries wrote, that no held entry named,
   * and whose name differs from `good`'s in one run of bytes (a flipped bit, a zeroed or rewritten run) is `good`
   * itself with its name damaged on disk (bbolt has no checksum: etcd would serve both). It is left out (`good`
   * takes its create revision and version), with a finding; two such candidates are left alone (which one is
   * unknown). Past MAX_RUN_DAMAGE_POOL such db keys, only names one byte away are looked up.
   */
  private async setAsideDamagedName(good: number, older: number | null): Promise<void> {
    const keys = this.state.keys;
    const covered = this.coveredRevisions();
    const value = keys.memValue(good);
    const name = keys.keyOf(good);
    if (!covered || !value) return;
    if (this.untouchedPool === undefined) this.untouchedPool = this.untouchedCoveredKeys();
    const candidates: number[] = [];
    if (this.untouchedPool) {
      for (const id of this.untouchedPool) if (keys.isLive(id) && oneRunApart(keys.keyOf(id), name)) candidates.push(id);
    } else {
      const id = this.oneByteTwin(name, (other) => {
        if (!keys.isLive(other) || keys.source(other) === 'wal' || this.touchedInHeld.get(other) !== 0) return false;
        const rev = keys.modRevision(other);
        return rev >= covered[0] && rev <= covered[1];
      });
      if (id >= 0) candidates.push(id);
    }
    let twin = -1;
    for (const id of candidates) {
      if (!this.bytesEqual(await this.valueOf(keys.get(id)!), value)) continue;
      if (twin >= 0) return;
      twin = id;
    }
    if (twin < 0) return;
    const s = keys.get(twin)!;
    const g = keys.get(good)!;
    keys.set({ ...g, createRevision: s.createRevision, version: s.version });
    keys.forget(twin);
    this.state.addFinding(
      salvageFinding({
        severity: 'warning',
        code: 'salvage.damaged-key-name',
        ...(older !== null ? { variant: 'newest' } : {}),
        file: this.dbFile,
        offset: s.page !== undefined ? s.page * this.state.pageSize : null,
        params: {
          bad: displayKey(keys.keyOf(twin)),
          good: displayKey(name),
          revision: s.modRevision,
          page: s.page ?? '?',
          ...(older !== null ? { older } : {}),
        },
      }),
    );
  }

  /** Values written by held entries the db lacks, read from a second pass over the WAL up to the last one wanted. */
  private async readBack(wanted: Map<number, { id: number; ordinal: number }[]>): Promise<Map<number, Uint8Array>> {
    const out = new Map<number, Uint8Array>();
    if (!this.wal) return out;
    let last = 0;
    for (const i of wanted.keys()) last = Math.max(last, i);
    await this.walUpTo(last, (e) => {
      const list = wanted.get(e.index);
      if (!list || !e.request) return;
      for (const w of list) {
        const op = opAt(e.request, w.ordinal);
        if (op && op.kind === 'put' && this.state.keys.find(op.key) === w.id) out.set(w.id, copyBytes(op.value));
      }
    });
    return out;
  }

  /** The end of the WAL: a held span still open is settled, and older revisions' damaged names are looked for. */
  async finish(): Promise<void> {
    if (this.pending.size > 0) await this.settleHeld();
    this.state.replayedTopRevision = Math.max(this.state.replayedTopRevision, this.nextRevision - 1);
    await this.setAsideOlderDamagedNames();
  }

  /**
   * A live db key at a revision the held entries wrote, that no held entry named (put, delete or compare), was not
   * written at that revision: the entry that made it wrote another key. When that is a key a held entry put with
   * this key's value, its name one run of damage away (a flipped bit, a zeroed or rewritten run), this key is that
   * put (an older revision of it, superseded or deleted since: `setAsideDamagedName` covers the newest) with its
   * name damaged on disk, and is left out. The value must match, and differ from the twin's newest value: a
   * revision key damaged into the covered span names a real key the held entries never wrote. Two names whose puts
   * match: left alone. A second pass over the WAL finds the puts (only when there are candidates).
   */
  private async setAsideOlderDamagedNames(): Promise<void> {
    const covered = this.coveredRevisions();
    if (!covered || !this.wal) return;
    const keys = this.state.keys;
    const suspects: number[] = [];
    for (let id = 0; id < keys.ids; id++) {
      if (!keys.has(id) || !keys.isLive(id) || keys.source(id) === 'wal' || this.touchedInHeld.get(id) !== 0) continue;
      const rev = keys.modRevision(id);
      if (rev < covered[0] || rev > covered[1]) continue;
      // Many such keys: the covered span is miscounted (held txns whose outcome was misjudged), not many names damaged.
      if (suspects.push(id) > MAX_OLDER_NAME_SUSPECTS) return;
    }
    if (suspects.length === 0) return;
    /** Keys a held entry named, by name length (the names a suspect's is compared with). */
    const namedByLength = new Map<number, number[]>();
    for (let id = 0; id < keys.ids; id++) {
      if (this.touchedInHeld.get(id) === 0) continue;
      const list = namedByLength.get(keys.keyLength(id)) ?? [];
      list.push(id);
      namedByLength.set(keys.keyLength(id), list);
    }
    /** Twin key id -> suspects and their values (the db's bytes, copied: they are compared after later reads). */
    const wanted = new Map<number, { id: number; value: Uint8Array }[]>();
    for (const id of suspects) {
      const name = keys.keyOf(id);
      const twins = (namedByLength.get(name.length) ?? []).filter((other) => oneRunApart(name, keys.keyOf(other)));
      if (twins.length === 0 || twins.length > MAX_RUN_DAMAGE_TWINS) continue;
      const value = await this.valueOf(keys.get(id)!);
      for (const twin of twins) {
        // The twin's newest value is this one too: two keys a run apart holding the same value (a covered span
        // counted a few revisions too long can reach a key written before the WAL): left alone.
        const twinState = keys.isLive(twin) ? keys.get(twin) : undefined;
        if (twinState && this.bytesEqual(await this.valueOf(twinState), value)) continue;
        const list = wanted.get(twin) ?? [];
        list.push({ id, value });
        wanted.set(twin, list);
      }
    }
    if (wanted.size === 0) return;
    /** Suspect key id -> the held-named keys a put of which wrote its value. */
    const confirmed = new Map<number, Set<number>>();
    const lookAt = (op: ReplayRequest): void => {
      if (op.kind === 'txn') {
        for (const o of op.success ?? []) lookAt(o);
        for (const o of op.failure ?? []) lookAt(o);
        return;
      }
      if (op.kind !== 'put') return;
      const twin = keys.find(op.key);
      const list = wanted.get(twin);
      if (!list) return;
      for (const w of list) {
        if (!this.bytesEqual(op.value, w.value)) continue;
        const set = confirmed.get(w.id) ?? new Set<number>();
        set.add(twin);
        confirmed.set(w.id, set);
      }
    };
    const last = this.consistentIndex ?? Number.MAX_SAFE_INTEGER;
    await this.walUpTo(last, (e) => {
      if (e.request && e.index <= last) lookAt(e.request);
    });
    for (const [id, twins] of confirmed) {
      if (twins.size !== 1) continue;
      const s = keys.get(id)!;
      const good = [...twins][0]!;
      this.state.addFinding(
        salvageFinding({
          severity: 'warning',
          code: 'salvage.damaged-key-name',
          variant: 'older',
          file: this.dbFile,
          offset: s.page !== undefined ? s.page * this.state.pageSize : null,
          params: { bad: displayKey(keys.keyOf(id)), good: displayKey(keys.keyOf(good)), revision: s.modRevision, page: s.page ?? '?' },
        }),
      );
      keys.forget(id);
      this.state.olderDamagedNames++;
    }
  }
}

/** A held entry's last write of a key: the db holds its value (`db`), or where it is in the WAL (entry index, op ordinal). */
interface PendingWrite {
  index: number;
  ordinal: number;
  deleted: boolean;
  lease: bigint;
  /** -1: the db holds the value (the write equals its newest); else the WAL entry index whose put op `valueOrdinal` holds it. */
  valueIndex: number;
  valueOrdinal: number;
}

/**
 * The held writes by key id, in columns (the held span of a healthy WAL is
 * the whole WAL: one row per key it wrote). Rows keep the order keys first
 * came in, as a Map's entries do.
 */
class PendingWrites {
  /** Key id -> row + 1 (0: none). */
  private readonly rowOf = new NumberColumn((n) => new Int32Array(n));
  private readonly ids = new NumberColumn((n) => new Uint32Array(n));
  // As narrow as their values usually are (~27 bytes a row, was ~49): exact either way (`PackedNumberColumn`).
  private readonly indexes = new PackedNumberColumn(5);
  private readonly ordinals = new PackedNumberColumn(2);
  private readonly deleted = new NumberColumn((n) => new Uint8Array(n));
  /** Slots of `leaseValues` (writes share few leases). */
  private readonly leases = new NumberColumn((n) => new Uint32Array(n));
  private readonly leaseValues = new BigIntSlots();
  /** valueIndex + 1 (its -1, the db holds the value, is 0). */
  private readonly valueIndexes = new PackedNumberColumn(5);
  private readonly valueOrdinals = new PackedNumberColumn(2);
  size = 0;
  has(id: number): boolean {
    return id >= 0 && this.rowOf.get(id) > 0;
  }
  get(id: number): PendingWrite | undefined {
    return this.has(id) ? this.row(this.rowOf.get(id) - 1) : undefined;
  }
  /** The held write of `id` (which `has`) deletes it: `get(id).deleted` without the object. */
  isDeleted(id: number): boolean {
    return this.deleted.get(this.rowOf.get(id) - 1) === 1;
  }
  set(id: number, w: PendingWrite): void {
    let row = this.rowOf.get(id) - 1;
    if (row < 0) {
      row = this.size++;
      this.rowOf.set(id, row + 1);
      this.ids.set(row, id);
    }
    this.indexes.set(row, w.index);
    this.ordinals.set(row, w.ordinal);
    this.deleted.set(row, w.deleted ? 1 : 0);
    this.leases.set(row, this.leaseValues.slotOf(BigInt.asIntN(64, w.lease)));
    this.valueIndexes.set(row, w.valueIndex + 1);
    this.valueOrdinals.set(row, w.valueOrdinal);
  }
  /** Rows sorted by WAL entry index, then op ordinal (stable). */
  byWalOrder(): Uint32Array {
    const rows = new Uint32Array(this.size);
    for (let i = 0; i < rows.length; i++) rows[i] = i;
    // Rows start in ascending order, so the stable sort breaks (index, ordinal) ties by row.
    return sortByTwoKeys(
      rows,
      (row) => this.indexes.get(row),
      (row) => this.ordinals.get(row),
    );
  }
  /** Row `row`'s key id and fields, read from the columns (no object). */
  idAt(row: number): number {
    return this.ids.get(row);
  }
  indexAt(row: number): number {
    return this.indexes.get(row);
  }
  deletedAt(row: number): boolean {
    return this.deleted.get(row) === 1;
  }
  valueIndexAt(row: number): number {
    return this.valueIndexes.get(row) - 1;
  }
  leaseAt(row: number): bigint {
    return this.leaseValues.value(this.leases.get(row));
  }
  /** Row `row` as an object. */
  write(row: number): PendingWrite {
    return this.row(row);
  }
  /** [key id, write] for the given rows (default: all, in the order keys came). */
  *entries(rows?: Uint32Array): Generator<[number, PendingWrite]> {
    const n = rows ? rows.length : this.size;
    for (let i = 0; i < n; i++) {
      const row = rows ? rows[i]! : i;
      yield [this.ids.get(row), this.row(row)];
    }
  }
  private row(row: number): PendingWrite {
    return {
      index: this.indexes.get(row),
      ordinal: this.ordinals.get(row),
      deleted: this.deleted.get(row) === 1,
      lease: this.leaseValues.value(this.leases.get(row)),
      valueIndex: this.valueIndexes.get(row) - 1,
      valueOrdinal: this.valueOrdinals.get(row),
    };
  }
}

/** Ops in a request's whole tree (txn branches: success, then failure); a leaf op counts one. */
function opCount(req: ReplayRequest): number {
  if (req.kind !== 'txn') return 1;
  let n = 0;
  for (const op of req.success ?? []) n += opCount(op);
  for (const op of req.failure ?? []) n += opCount(op);
  return n;
}

/** The op at `ordinal` of the walk `opCount` counts. */
function opAt(req: ReplayRequest, ordinal: number): ReplayRequest | null {
  if (req.kind !== 'txn') return ordinal === 0 ? req : null;
  let at = ordinal;
  for (const branch of [req.success ?? [], req.failure ?? []]) {
    for (const op of branch) {
      const n = opCount(op);
      if (at < n) return opAt(op, at);
      at -= n;
    }
  }
  return null;
}

// ---------------------------------------------------------------- partitioned salvage

/**
 * Key-state bytes a salvage holds at once by default (`SalvageOptions.keyStateBudget`): about 1.1 million
 * ~50-byte keys (a million still in one pass). Past it the keys come in passes by key hash (`collectPartitions`),
 * each holding up to ~95% of this: 4 million such keys then peak at ~335 MB of RSS (610 MB in one pass).
 */
export const DEFAULT_KEY_STATE_BUDGET = 112 * 1024 * 1024;
/** Passes at most (each reads the whole db once). */
const MAX_PARTITIONS = 256;

/**
 * Revisions `writes` held WAL entries made, [lo, hi], the WAL's entries being `first`..`last`; null when the WAL
 * vouches for none. The WAL starts at the cluster's first entry: its writes are revisions 2, 3, ... (one per writing
 * entry), wherever it ends; else, when it reaches from before the db's consistent index to it, its held entries
 * wrote the db's last revisions. A WAL that ends short of the consistent index (damage ended it, or its newest files
 * are gone) and does not start at the first entry says nothing of which revisions it wrote. More `writes`, a span
 * holding the smaller one's.
 */
function heldSpan(
  first: number | null,
  last: number | null,
  writes: number,
  sourceConsistentIndex: number | null,
  dbMaxRevision: number,
): [number, number] | null {
  if (first === null) return null;
  if (first <= 1) return [2, 1 + writes];
  if (sourceConsistentIndex !== null && first <= sourceConsistentIndex && last !== null && last >= sourceConsistentIndex)
    return [Math.max(2, dbMaxRevision - writes + 1), dbMaxRevision];
  return null;
}

/**
 * The keys the WAL replay can look at (`Replayer`), from one pass over the WAL before the db's keys are read:
 * every key a put, a delete or a compare names, every range a delete or a compare names, and the leases that
 * entries above the consistent index revoke (a revoke deletes every live key of its lease, keys the WAL need not
 * name: `scanResident` finds them, `lateKeys`). A partitioned salvage holds these keys apart from the parts
 * and replays the WAL over them once: revision numbers, txn compare outcomes and deletes come out as when every key
 * is held, because the replay looks at no other key but one: a db key one byte away from a name the WAL wrote, at a
 * revision its held entries wrote (`Replayer.setAsideDamagedName`, `setAsideOlderDamagedNames`). Those are held too
 * (`lateKeys`, `heldMayHaveWritten`). Bounded by the WAL's size, unless it deletes or compares whole ranges (then
 * every key in them is resident).
 */
export class ResidentKeys {
  /** Keys the WAL names. */
  readonly named = new KeyIndex();
  /**
   * Keys the WAL does not name, held all the same (found by the scan of the WAL's keys, read in one more): those with
   * a revision that carries a revoked lease, and those with a revision the held entries may have written.
   */
  readonly lateKeys = new KeyIndex();
  /** The first and last entries the replay is given (`Replayer.first`, `last`); null: none. */
  firstIndex: number | null = null;
  lastIndex: number | null = null;
  /** Entries at or below the consistent index with a request: at least the held entries that wrote (`Replayer.heldWriteEntries`). */
  heldEntries = 0;
  /** Leases revoked by entries above the consistent index, as int64 (as `KeyStates.lease` holds them). */
  readonly revokedLeases = new Set<bigint>();
  /** Ranges named, merged (`seal`): sorted by start, disjoint. */
  private ranges: { start: Uint8Array; end: Uint8Array | null }[] = [];
  private readonly namedRanges: KeyRange[] = [];

  /** The keys of one request of a WAL entry (`above`: above the consistent index, where a revoke applies). */
  note(req: ReplayRequest, above: boolean): void {
    switch (req.kind) {
      case 'put':
        this.named.add(req.key);
        return;
      case 'delete-range':
        this.addRange(keyRange(req.key, req.rangeEnd));
        return;
      case 'txn':
        for (const c of req.compare ?? []) this.addRange(keyRange(c.key, c.rangeEnd));
        for (const op of req.success ?? []) this.note(op, above);
        for (const op of req.failure ?? []) this.note(op, above);
        return;
      case 'lease-revoke':
        // Held entries' revokes are not replayed (`Replayer.noteHeld`).
        if (above) this.revokedLeases.add(BigInt.asIntN(64, req.leaseId));
        return;
      default:
        return;
    }
  }

  /** The ranges noted, sorted and merged: call once the WAL pass is over. */
  seal(): void {
    const sorted = this.namedRanges.filter((r) => r.end === null || compareBytes(r.end, r.start) > 0).sort((a, b) => compareBytes(a.start, b.start));
    const merged: { start: Uint8Array; end: Uint8Array | null }[] = [];
    for (const r of sorted) {
      const last = merged.at(-1);
      if (last && (last.end === null || compareBytes(r.start, last.end) <= 0)) {
        if (last.end !== null && (r.end === null || compareBytes(r.end, last.end) > 0)) last.end = r.end;
        continue;
      }
      merged.push({ start: r.start, end: r.end });
    }
    this.ranges = merged;
  }

  /** No key, range or revoke noted. */
  get isEmpty(): boolean {
    return this.named.size === 0 && this.namedRanges.length === 0 && this.revokedLeases.size === 0;
  }

  /** Named by the WAL, alone or in a range (`h`: the key's `hashKeyBytes >>> 0`). */
  namedByWal(key: Uint8Array, h: number): boolean {
    return this.named.findHashed(key, h) >= 0 || this.inRanges(key);
  }

  /**
   * Only the WAL's single keys were noted, no range and no revoke: whether a key is resident then follows from its
   * hash alone, when false (`mayBeNamed`).
   */
  get singleKeysOnly(): boolean {
    return this.namedRanges.length === 0 && this.revokedLeases.size === 0;
  }

  /** With `singleKeysOnly`, false means no key with hash `h` is named by the WAL. */
  mayBeNamed(h: number): boolean {
    return this.named.holdsHash(h);
  }

  /** Held by the resident pass. */
  has(key: Uint8Array, h: number): boolean {
    return this.namedByWal(key, h) || (this.lateKeys.size > 0 && this.lateKeys.findHashed(key, h) >= 0);
  }

  /**
   * Main revisions the held entries may have written: every revision `Replayer.coveredRevisions` will give, and a
   * few more (the same `heldSpan` over every held entry, where the replay counts only those that wrote). Null: none.
   * `sourceConsistentIndex` is the db's own (`SalvageState`), `dbMaxRevision` its newest revision.
   */
  heldMayHaveWritten(sourceConsistentIndex: number | null, dbMaxRevision: number): [number, number] | null {
    return heldSpan(this.firstIndex, this.lastIndex, this.heldEntries, sourceConsistentIndex, dbMaxRevision);
  }

  private addRange(r: KeyRange): void {
    if (r.exact) this.named.add(r.start);
    else this.namedRanges.push(r);
  }

  private inRanges(key: Uint8Array): boolean {
    const ranges = this.ranges;
    if (ranges.length === 0) return false;
    // The last range starting at or before the key.
    let lo = 0;
    let hi = ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(ranges[mid]!.start, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return false;
    const r = ranges[lo - 1]!;
    return r.end === null || compareBytes(key, r.end) < 0;
  }
}

/** The resident keys of a WAL: one pass over its entries (those the replay applies: up to `commit`). */
async function residentKeysOf(wal: WalEntryStream | null, commit: number | null, consistentIndex: number | null, opts: RunOptions): Promise<ResidentKeys> {
  const resident = new ResidentKeys();
  if (wal) {
    await wal((e) => {
      throwIfCancelled(opts.signal);
      if (commit !== null && e.index > commit) return;
      // As the replay counts (`Replayer.apply`): every entry it is given, held when at or below the consistent index.
      resident.firstIndex ??= e.index;
      resident.lastIndex = e.index;
      if (e.type !== 'normal' || !e.request) return;
      const above = consistentIndex === null || e.index > consistentIndex;
      if (!above) resident.heldEntries++;
      resident.note(e.request, above);
    });
  }
  resident.seal();
  return resident;
}

const W_RESIDENT = 1;
const W_VERBATIM = 2;
const W_DETACHED = 4;
const W_ORPHANED = 8;

/**
 * The newest revision of every live key when the keys came in passes: ~15 bytes a key (revision, where its
 * KeyValue is in the db, flags), the key and value read again from the db when written. A resident key (one the
 * WAL replay may have changed) is a reference to its state in `SalvageState.keys` instead.
 */
export class WinnerRecords {
  private readonly mods = new PackedNumberColumn(5);
  private readonly subs = new PackedNumberColumn(2);
  /** The KeyValue's offset in the db, or the resident key's id (W_RESIDENT). */
  private readonly offsets = new PackedNumberColumn(5);
  private readonly lengths = new PackedNumberColumn(2);
  private readonly flags = new NumberColumn((n) => new Uint8Array(n));
  /** The leaf page of a record whose KeyValue is not in it (overflow pages): few. */
  private readonly pages = new Map<number, number>();
  /** The re-encoded KeyValue's size of a record not copied as it is (a lease detached, an odd encoding): few. */
  private readonly sizes = new Map<number, number>();
  count = 0;
  /** Where each run of records starts: the records of a run are in revision order (`endRun`). */
  private readonly runStarts: number[] = [0];
  /** Keys whose newest revision is a delete (not written). */
  deletedKeys = 0;
  /** Live keys whose lease is gone (written without it). */
  detachedKeys = 0;
  constructor(private readonly pageSize: number) {}

  addResident(id: number, mod: number, sub: number): void {
    const r = this.count++;
    this.mods.set(r, mod);
    this.subs.set(r, sub);
    this.offsets.set(r, id);
    this.flags.set(r, W_RESIDENT);
  }
  addDb(mod: number, sub: number, offset: number, length: number, page: number, flags: number, size: number | null): void {
    const r = this.count++;
    this.mods.set(r, mod);
    this.subs.set(r, sub);
    this.offsets.set(r, offset);
    this.lengths.set(r, length);
    this.flags.set(r, flags);
    if (page !== Math.floor(offset / this.pageSize)) this.pages.set(r, page);
    if (size !== null) this.sizes.set(r, size);
  }
  mod(r: number): number {
    return this.mods.get(r);
  }
  sub(r: number): number {
    return this.subs.get(r);
  }
  resident(r: number): boolean {
    return (this.flags.get(r) & W_RESIDENT) !== 0;
  }
  /** The resident key's id (`resident(r)`). */
  id(r: number): number {
    return this.offsets.get(r);
  }
  offset(r: number): number {
    return this.offsets.get(r);
  }
  length(r: number): number {
    return this.lengths.get(r);
  }
  verbatim(r: number): boolean {
    return (this.flags.get(r) & W_VERBATIM) !== 0;
  }
  detached(r: number): boolean {
    return (this.flags.get(r) & W_DETACHED) !== 0;
  }
  source(r: number): SalvageKeySource {
    return (this.flags.get(r) & W_ORPHANED) !== 0 ? 'orphaned-leaf' : 'tree';
  }
  page(r: number): number {
    return this.pages.get(r) ?? Math.floor(this.offsets.get(r) / this.pageSize);
  }
  /** The KeyValue's size as written (a record of the db). */
  size(r: number): number {
    return this.sizes.get(r) ?? this.lengths.get(r);
  }
  /** The records added since the last run ended (added in revision order) are a run. */
  endRun(): void {
    if (this.runStarts.at(-1) !== this.count) this.runStarts.push(this.count);
  }
  /**
   * The records in revision order (main, then sub; a tie in run order): the runs merged as they are walked, each
   * cursor from the start (nothing held but a position a run; the order of 4 million keys would take 16 MB).
   */
  byRevision(): RecordCursor {
    this.endRun();
    return new RecordCursor(this.runStarts, this.mods, this.subs);
  }
  /** Bytes held. */
  get bytes(): number {
    const cols = [this.mods, this.subs, this.offsets, this.lengths, this.flags];
    return cols.reduce((t, c) => t + c.bytes, 0) + (this.pages.size + this.sizes.size) * 40;
  }
}

/** A walk of `WinnerRecords` in revision order: `next()` is the next record, -1 after the last. */
class RecordCursor {
  private readonly at: Float64Array;
  private readonly end: Float64Array;
  /** The revision at each run's position. */
  private readonly mod: Float64Array;
  private readonly sub: Float64Array;
  constructor(
    runStarts: readonly number[],
    private readonly mods: PackedNumberColumn,
    private readonly subs: PackedNumberColumn,
  ) {
    const runs = runStarts.length - 1;
    this.at = new Float64Array(runs);
    this.end = new Float64Array(runs);
    this.mod = new Float64Array(runs);
    this.sub = new Float64Array(runs);
    for (let r = 0; r < runs; r++) {
      this.at[r] = runStarts[r]!;
      this.end[r] = runStarts[r + 1]!;
      this.mod[r] = mods.get(runStarts[r]!);
      this.sub[r] = subs.get(runStarts[r]!);
    }
  }
  next(): number {
    const { at, end, mod, sub } = this;
    let best = -1;
    for (let r = 0; r < at.length; r++) {
      if (at[r]! >= end[r]!) continue;
      if (best < 0 || mod[r]! < mod[best]! || (mod[r] === mod[best] && sub[r]! < sub[best]!)) best = r;
    }
    if (best < 0) return -1;
    const rec = at[best]!++;
    if (rec + 1 < end[best]!) {
      mod[best] = this.mods.get(rec + 1);
      sub[best] = this.subs.get(rec + 1);
    }
    return rec;
  }
}

/** A key's lease is in none of the leases found: the key is written without it (kept forever) rather than lost. */
function leaseGone(state: SalvageState, lease: bigint): boolean {
  return lease !== 0n && !state.leases.has(BigInt.asUintN(64, lease).toString()) && !state.leases.has(lease.toString());
}

/**
 * Parts for a scan that passed `budget`: its key bytes so far, scaled to the whole db, in parts of ~95% of the
 * budget (hashes spread keys evenly; a part the scaling misjudged is split when it passes the budget).
 */
function partitionsFor(over: OverBudget, budget: number): number {
  const estimate = (over.keyBytes * over.filePages) / Math.max(1, over.pagesDone);
  return Math.min(MAX_PARTITIONS, Math.max(2, Math.ceil((estimate * 1.05) / Math.max(1, budget))));
}

/** Key hashes (`hashKeyBytes >>> 0`) are below this. Parts are ranges of them: the high bits (the index's table takes the low ones). */
const HASHES = 0x1_0000_0000;

/**
 * One more scan of the db's pages (the first scan's tree and page size) keeping `keep`'s keys in `keys`; only the
 * bytes read count. Progress says which pass it is ("reading pages": the UI shows it as the page scan).
 */
async function scanKeys(
  state: SalvageState,
  src: ByteSource,
  file: string,
  keys: KeyStates,
  keep: KeepRevision,
  opts: RunOptions,
  pass: string,
  /** Stop past this many key-state bytes (the keys are then incomplete: false is returned); null: no bound. */
  keyBudget: number | null = null,
  /** The second set `keep` may choose (`SalvageState.otherKeys`). */
  otherKeys: KeyStates | null = null,
  /** `SalvageState.keepHash` for this pass: false only where `keep` would refuse (null: none refused early). */
  keepHash: KeepHash | null = null,
): Promise<boolean> {
  const phase = `salvage: reading pages again (${pass})`;
  opts.onProgress?.({ phase, bytesDone: 0, bytesTotal: state.filePages * state.pageSize, currentFile: file });
  const scan = new SalvageState();
  scan.keys = keys;
  scan.otherKeys = otherKeys;
  scan.keep = keep;
  scan.keepHash = keepHash;
  scan.tree = state.tree;
  scan.pageSize = state.pageSize;
  scan.filePages = state.filePages;
  await scanPages(scan, src, file, opts, keyBudget, phase, true);
  state.bytesRead += scan.bytesRead;
  return scan.overBudget === null;
}

/** The parts not read yet, and the first one, read with the WAL's keys (`scanResident`). */
interface Parts {
  /** Ranges [lo, hi) of key hashes, in order. */
  queue: [number, number][];
  /** The first part's range and whether it was read whole (false: it passed the budget and goes back, split). */
  first: [number, number];
  firstRead: boolean;
  /** The first part's states (then every later part's: one memory for them all). */
  pass: KeyStates;
  total: number;
}

/**
 * The resident keys' states (`ResidentKeys`) into `state.keys` and the first part's into `parts.pass`, in one scan
 * (one more for the keys it finds the WAL does not name but the replay may look at, `lateKeys`). Parts are ranges [lo, hi) of
 * the keys' 32-bit hashes, as many as the first scan's fill says; the first part is dropped if it passes the
 * budget (the fill misjudged the rest of the db: its keys bunched at the end), and split later.
 */
async function scanResident(state: SalvageState, src: ByteSource, file: string, resident: ResidentKeys, budget: number, opts: RunOptions): Promise<Parts> {
  state.keys = new KeyStates();
  const total = partitionsFor(state.overBudget!, budget);
  const queue: [number, number][] = [];
  for (let i = 0; i < total; i++) queue.push([Math.ceil((i * HASHES) / total), Math.ceil(((i + 1) * HASHES) / total)]);
  const first = queue.shift()!;
  const [lo, hi] = first;
  // One KeyStates for every part (the first scan's, cleared): each pass refills the same memory.
  const pass = state.spareKeys ?? new KeyStates();
  state.spareKeys = null;
  pass.clear();
  let dropped = false;
  const revoked = resident.revokedLeases;
  // A revision here that no entry naming its key wrote may be a name with a flipped byte: the replay looks for it.
  const walWrote = resident.heldMayHaveWritten(state.sourceConsistentIndex, state.maxRevision);
  const mayBeWalWritten = (main: number) => walWrote !== null && main >= walWrote[0] && main <= walWrote[1];
  /** Whether `keep` may be given a main revision at or past the span's start for this revision (read in place). */
  const mayReachWalWritten = (span: Uint8Array, revisionAt: number, valueStart: number, valueEnd: number): boolean => {
    if (walWrote === null) return false;
    if (u64At(span, revisionAt) >= walWrote[0]) return true;
    const mod = keyValueModRevisionAt(span, valueStart, valueEnd);
    return mod < 0 || mod >= walWrote[0];
  };
  await scanKeys(
    state,
    src,
    file,
    state.keys,
    (key, lease, main) => {
      const h = hashKeyBytes(key) >>> 0;
      if (resident.namedByWal(key, h)) return h;
      // Noted, not kept: a key must have every revision in one pass (its state is the newest of them). If it is in
      // the first part too, it is left out when that part's winners are recorded.
      if ((lease !== 0n && revoked.size > 0 && revoked.has(BigInt.asIntN(64, lease))) || mayBeWalWritten(main)) resident.lateKeys.add(key);
      if (dropped || h < lo || h >= hi) return -1;
      if (hi - lo > 1 && pass.estimatedBytes > budget) {
        dropped = true;
        pass.clear();
        return -1;
      }
      return h + HASHES;
    },
    opts,
    resident.isEmpty ? `part 1 of ${total}` : `part 1 of ${total}, with the WAL's keys`,
    null,
    pass,
    // Refused by the hash and revisions alone where `keep` needs no more: no range, no revoke (whose keys are known
    // by their lease). `keep` is given the revision the leaf says (`revisionInOrder`): the revision key's, or for a
    // damaged one the value's mod_revision. Either at or past the span's start: decoded (a flipped high bit reads
    // anywhere past its end).
    resident.singleKeysOnly
      ? (h, span, revisionAt, valueStart, valueEnd) =>
          (!dropped && h >= lo && h < hi) || resident.mayBeNamed(h) || mayReachWalWritten(span, revisionAt, valueStart, valueEnd)
      : null,
  );
  if (resident.lateKeys.size > 0)
    await scanKeys(
      state,
      src,
      file,
      state.keys,
      (key) => {
        const h = hashKeyBytes(key) >>> 0;
        return resident.lateKeys.findHashed(key, h) >= 0 ? h : -1;
      },
      opts,
      'keys the WAL may have written or revoked',
    );
  return { queue, first, firstRead: !dropped, pass, total };
}

/**
 * After the replay: the resident keys' winners (leases detached as `writeSalvage` does), then every other key in
 * passes by key hash, each holding its part's states only until its winners are recorded.
 */
async function collectPartitions(
  state: SalvageState,
  src: ByteSource,
  file: string,
  resident: ResidentKeys,
  parts: Parts,
  budget: number,
  opts: RunOptions,
): Promise<void> {
  const winners = new WinnerRecords(state.pageSize);
  const keys = state.keys;
  const residentLive = keys.liveByRevision();
  winners.deletedKeys += keys.size - residentLive.length;
  for (const id of residentLive) {
    if (leaseGone(state, keys.lease(id))) {
      const s = keys.get(id)!;
      s.lease = 0n;
      s.verbatim = false;
      keys.set(s);
      winners.detachedKeys++;
    }
    winners.addResident(id, keys.modRevision(id), keys.subRevision(id));
  }
  winners.endRun();
  const { queue, pass } = parts;
  let done = 0;
  if (parts.firstRead) {
    // Late keys (`ResidentKeys.lateKeys`) were read with it before they were known: they are resident.
    recordPart(state, winners, pass, resident.lateKeys.size > 0 ? (id) => resident.lateKeys.find(pass.keyOf(id)) >= 0 : null);
    done++;
  } else {
    const [lo, hi] = parts.first;
    const mid = Math.floor((lo + hi) / 2);
    queue.unshift([lo, mid], [mid, hi]);
  }
  // A part that passes the budget after all stops and is split in two.
  while (queue.length > 0) {
    const [lo, hi] = queue.shift()!;
    pass.clear();
    const complete = await scanKeys(
      state,
      src,
      file,
      pass,
      (key) => {
        const h = hashKeyBytes(key) >>> 0;
        return h >= lo && h < hi && !resident.has(key, h) ? h : -1;
      },
      opts,
      `part ${done + 1} of ${done + 1 + queue.length}`,
      // A single hash cannot be split: its keys are read whatever they cost.
      hi - lo > 1 ? budget : null,
      null,
      (h) => h >= lo && h < hi,
    );
    if (!complete) {
      const mid = Math.floor((lo + hi) / 2);
      queue.unshift([lo, mid], [mid, hi]);
      continue;
    }
    done++;
    recordPart(state, winners, pass, null);
  }
  pass.clear();
  state.winners = winners;
}

/** A part's live keys as winner records (a run in revision order), but those `skip` says are resident. */
function recordPart(state: SalvageState, winners: WinnerRecords, pass: KeyStates, skip: ((id: number) => boolean) | null): void {
  const all = pass.liveByRevision();
  if (!skip) winners.deletedKeys += pass.size - all.length;
  else for (let id = 0; id < pass.ids; id++) if (pass.has(id) && !pass.isLive(id) && !skip(id)) winners.deletedKeys++;
  const live = skip ? all.filter((id) => !skip(id)) : all;
  for (const id of live) {
    const lease = pass.lease(id);
    const detached = leaseGone(state, lease);
    if (detached) winners.detachedKeys++;
    const verbatim = pass.verbatim(id) && !detached;
    const size = verbatim
      ? null
      : keyValueSize({
          keyLength: pass.keyLength(id),
          createRevision: pass.createRevision(id),
          modRevision: pass.modRevision(id),
          version: pass.version(id),
          lease: detached ? 0n : lease,
          valueLength: pass.dbValueLength(id),
        });
    const flags = (verbatim ? W_VERBATIM : 0) | (detached ? W_DETACHED : 0) | (pass.source(id) === 'orphaned-leaf' ? W_ORPHANED : 0);
    winners.addDb(pass.modRevision(id), pass.subRevision(id), pass.dbOffset(id), pass.dbLength(id), pass.where(id), flags, size);
  }
  winners.endRun();
}

// ---------------------------------------------------------------- write

export interface SalvageWriteOptions extends RunOptions {
  outputKind: 'snapshot-db' | 'member-db';
  /** consistent_index to write (member-db: what the kept WAL is applied up to). */
  consistentIndex: number | null;
  keysListedMax?: number;
}

export interface SalvageWriteResult {
  keysWritten: number;
  deletedKeys: number;
  revisionRange: [number, number] | null;
  compactRevision: number | null;
  keys: SalvagedKey[];
  keysListedTruncated: boolean;
  sources: Record<SalvageKeySource, number>;
  leases: { written: number; detachedKeys: number };
  members: number;
  bytesWritten: number;
}

/**
 * Revision keys as the writer gets them (sorted by main, then sub), each after the one before: two keys claiming
 * the same main_sub (a damaged revision key that reads as another key's, or replayed revisions past 2^53, where a
 * number no longer tells n from n + 1) would stop the bbolt writer, whose keys must rise. The later one is written
 * at the next free sub revision of the same main revision (its KeyValue's mod_revision stays right); moves counted.
 */
class RisingRevisions {
  private lastMain = -1;
  private lastSub = -1;
  moved = 0;
  /** The first key moved: its id, revision and the sub it got. */
  first: { id: number; main: number; sub: number; to: number } | null = null;
  /** The sub revision to write `id`'s revision `main`_`sub` under. */
  sub(id: number, main: number, sub: number): number {
    let to = sub;
    if (main === this.lastMain && sub <= this.lastSub) {
      to = this.lastSub + 1;
      this.moved++;
      this.first ??= { id, main, sub, to };
    }
    this.lastMain = main;
    this.lastSub = to;
    return to;
  }
}

/** The finding for keys moved to a free sub revision (`RisingRevisions`), if any. */
async function noteSharedRevisions(state: SalvageState, rising: RisingRevisions, keyOf: (id: number) => Uint8Array | Promise<Uint8Array>): Promise<void> {
  const f = rising.first;
  if (!f) return;
  const key = displayKey(await keyOf(f.id));
  state.addFinding(
    salvageFinding({
      severity: 'warning',
      code: 'salvage.shared-revision',
      file: null,
      offset: null,
      params: { count: rising.moved, key, main: f.main, sub: f.sub, to: f.to },
    }),
  );
}

/** Phase 3: write the live keys in revision order, plus the small buckets. */
export async function writeSalvage(state: SalvageState, src: ByteSource | null, sink: PageSink, opts: SalvageWriteOptions): Promise<SalvageWriteResult> {
  if (state.winners) return writeWinners(state, src, sink, opts);
  const states = state.keys;
  // Ids in revision order; each key's state is read from the columns when it is needed (no object per key held).
  const live = states.liveByRevision();
  const deletedKeys = states.size - live.length;
  // Leases: keep those found; a key whose lease is gone is detached (kept forever) rather than lost.
  let detachedKeys = 0;
  for (const id of live) {
    const lease = states.lease(id);
    if (lease !== 0n && !state.leases.has(BigInt.asUintN(64, lease).toString()) && !state.leases.has(lease.toString())) {
      const s = states.get(id)!;
      s.lease = 0n;
      s.verbatim = false;
      states.set(s);
      detachedKeys++;
    }
  }
  const sources: Record<SalvageKeySource, number> = { tree: 0, 'orphaned-leaf': 0, wal: 0 };
  const listMax = opts.keysListedMax ?? DEFAULT_KEYS_LISTED;
  const keys: SalvagedKey[] = [];
  for (const id of live) {
    sources[states.source(id)]++;
    if (keys.length < listMax) keys.push(listedKey(states, id));
  }
  const maxRev = live.length > 0 ? states.modRevision(live[live.length - 1]!) : null;
  const minRev = live.length > 0 ? states.modRevision(live[0]!) : null;
  // Progress in value bytes written (of the sizes the plan counts, summed before the write).
  let planned = 0;
  let written = 0;
  let reported = 0;
  // One item, key buffer and reader for every revision: the writer uses (copies) them before it asks for the next.
  const keyBuf = new Uint8Array(17);
  let current = -1;
  const encodeCurrent = (value: Uint8Array): Uint8Array => encodeFromColumns(states, current, value);
  /** The stored KeyValue: unchanged, the stored bytes as they are (a view of the read window; the writer copies it); else re-encoded (the lease may have been detached; everything else is the stored KeyValue). */
  const fromDb = (raw: Uint8Array): Uint8Array => (states.verbatim(current) ? raw : encodeCurrent(kvValue(raw)));
  const readCurrent = (): Uint8Array | Promise<Uint8Array> => {
    const offset = states.dbOffset(current);
    const length = states.dbLength(current);
    // From a window already read (most values: they come in page order), without a promise.
    const now = peekCached(src!, offset, length);
    return now ? fromDb(now) : readExact(src!, offset, length).then(fromDb);
  };
  const item: { key: Uint8Array; value: Uint8Array | (() => Uint8Array | Promise<Uint8Array>) } = { key: keyBuf, value: readCurrent };
  const rising = new RisingRevisions();
  const revisions = function* (): Generator<RevisionItem> {
    for (const id of live) {
      throwIfCancelled(opts.signal);
      if (opts.onProgress && written - reported >= 16 << 20) {
        reported = written;
        opts.onProgress({ phase: 'salvage: writing the new db', bytesDone: written, bytesTotal: planned, currentFile: null });
      }
      current = id;
      const memValue = states.memValue(id);
      written += memValue ? memValue.length : states.dbLength(id);
      const main = states.modRevision(id);
      revisionKeyInto(keyBuf, main, rising.sub(id, main, states.subRevision(id)));
      item.value = memValue ? encodeCurrent(memValue) : readCurrent;
      yield item;
    }
  };
  /** What each item of `revisions()` will weigh, without reading a value: the layout is planned from it. */
  const revisionSizes = function* (): Generator<RevisionSize> {
    const size = { key: keyBuf, valueSize: 0 };
    const planned = new RisingRevisions();
    for (const id of live) {
      const main = states.modRevision(id);
      revisionKeyInto(keyBuf, main, planned.sub(id, main, states.subRevision(id)));
      size.valueSize = writtenSize(states, id);
      yield size;
    }
  };
  const res = await writeBackend(state, sink, opts, revisions(), revisionSizes, maxRev, (bytes) => (planned = bytes));
  await noteSharedRevisions(state, rising, (id) => states.keyOf(id));
  return {
    keysWritten: live.length,
    deletedKeys,
    revisionRange: minRev !== null && maxRev !== null ? [minRev, maxRev] : null,
    compactRevision: res.compactRevision,
    keys,
    keysListedTruncated: live.length > keys.length,
    sources,
    leases: { written: res.leases, detachedKeys },
    members: res.members,
    bytesWritten: res.size,
  };
}

/** A key's KeyValue built from its columns around `value` (a WAL value, or the stored one when the lease changed). */
function encodeFromColumns(states: KeyStates, id: number, value: Uint8Array): Uint8Array {
  return encodeKeyValue({
    key: states.keyOf(id),
    createRevision: states.createRevision(id),
    modRevision: states.modRevision(id),
    version: states.version(id),
    value,
    lease: states.lease(id),
  });
}

/** What a key's KeyValue weighs in the new db, without reading its value (the write's layout is planned from it). */
function writtenSize(states: KeyStates, id: number): number {
  const memValue = states.memValue(id);
  if (!memValue && states.verbatim(id)) return states.dbLength(id);
  const valueLength = memValue ? memValue.length : states.dbOffset(id) >= 0 ? states.dbValueLength(id) : 0;
  return keyValueSize({
    keyLength: states.keyLength(id),
    createRevision: states.createRevision(id),
    modRevision: states.modRevision(id),
    version: states.version(id),
    lease: states.lease(id),
    valueLength,
  });
}

/** A live key of `states` as the report lists it. */
function listedKey(states: KeyStates, id: number): SalvagedKey {
  const s = states.get(id)!;
  return {
    key: displayKey(states.keyOf(id)),
    modRevision: s.modRevision,
    sourceRevision: s.sourceRevision,
    valueSize: s.memValue ? s.memValue.length : s.dbOffset >= 0 ? s.dbValueLength : 0,
    source: s.source,
    ...(s.page !== undefined && s.source !== 'wal' ? { page: s.page } : {}),
    ...(s.walIndex !== undefined && s.source === 'wal' ? { walIndex: s.walIndex } : {}),
  };
}

/**
 * The new backend: the key bucket from `revisions` (revision order; `revisionSizes` plans the layout, its sum goes
 * to `onPlanned` first), the compaction marker above the newest revision seen, and the small buckets.
 */
async function writeBackend(
  state: SalvageState,
  sink: PageSink,
  opts: SalvageWriteOptions,
  revisions: Iterable<RevisionItem>,
  revisionSizes: () => Iterable<RevisionSize>,
  maxRev: number | null,
  onPlanned: (bytes: number) => void,
): Promise<{ size: number; compactRevision: number | null; leases: number; members: number }> {
  const small = (name: EtcdBucketName): [Uint8Array, Uint8Array][] => [...(state.small.get(name)?.values() ?? [])].map((i) => [i.key, i.value]);
  const meta: [Uint8Array, Uint8Array][] = [];
  if (opts.consistentIndex !== null) meta.push([META_CONSISTENT_INDEX, u64be(opts.consistentIndex)]);
  // Only the newest revision of each key is written: history below it is gone, say so as etcd does. The compaction
  // revision is the newest one seen anywhere (a delete's or a tombstone's too), because etcd's mvcc restore starts its
  // current revision there when the keys end below it: revisions stay monotonic for watchers and resourceVersions.
  const topSeen = Math.max(state.maxRevision, state.replayedTopRevision);
  const compactRevision = maxRev === null ? null : Math.max(maxRev, topSeen);
  if (compactRevision !== null) meta.push([META_FINISHED_COMPACT, revisionKey(compactRevision, 0)]);
  const leases = [...state.leases.values()].map((l) => [u64be(l.id), encodeLease(l.id, l.ttl)] as [Uint8Array, Uint8Array]);
  const cluster = small('cluster').filter(([k]) => compareBytes(k, CLUSTER_VERSION_KEY) === 0);
  const members = opts.outputKind === 'member-db' ? small('members') : [];
  let planned = 0;
  for (const item of revisionSizes()) planned += item.valueSize;
  onPlanned(planned);
  const res = await writeEtcdBackend(sink, {
    revisions,
    revisionSizes,
    buckets: {
      meta,
      lease: leases,
      cluster: cluster.length > 0 ? cluster : [[CLUSTER_VERSION_KEY, enc.encode('3.4.0')]],
      members,
      members_removed: opts.outputKind === 'member-db' ? small('members_removed') : [],
      auth: small('auth'),
      authUsers: small('authUsers'),
      authRoles: small('authRoles'),
    },
  });
  return { size: res.size, compactRevision, leases: leases.length, members: members.length };
}

/**
 * `writeSalvage` when the keys came in passes (`SalvageState.winners`): the records in revision order, each
 * KeyValue read again from the db (the key too: it is in the KeyValue), a resident key's from its state.
 */
async function writeWinners(state: SalvageState, src: ByteSource | null, sink: PageSink, opts: SalvageWriteOptions): Promise<SalvageWriteResult> {
  const winners = state.winners!;
  const states = state.keys;
  const sources: Record<SalvageKeySource, number> = { tree: 0, 'orphaned-leaf': 0, wal: 0 };
  let minRev: number | null = null;
  let maxRev: number | null = null;
  for (let walk = winners.byRevision(), r = walk.next(); r >= 0; r = walk.next()) {
    sources[winners.resident(r) ? states.source(winners.id(r)) : winners.source(r)]++;
    minRev ??= winners.mod(r);
    maxRev = winners.mod(r);
  }
  /** A record's stored KeyValue: from the window at hand, else read. */
  const raw = (r: number): Uint8Array | Promise<Uint8Array> =>
    peekCached(src!, winners.offset(r), winners.length(r)) ?? readExact(src!, winners.offset(r), winners.length(r));
  const listMax = opts.keysListedMax ?? DEFAULT_KEYS_LISTED;
  const keys: SalvagedKey[] = [];
  for (let walk = winners.byRevision(), r = walk.next(); r >= 0 && keys.length < listMax; r = walk.next()) {
    if (winners.resident(r)) {
      keys.push(listedKey(states, winners.id(r)));
      continue;
    }
    const at = raw(r);
    // Decoded when it was scanned: the same bytes decode the same.
    const kv = decodeKv(at instanceof Uint8Array ? at : await at)!;
    keys.push({
      key: displayKey(kv.key),
      modRevision: winners.mod(r),
      sourceRevision: winners.mod(r),
      valueSize: kv.valueLength,
      source: winners.source(r),
      page: winners.page(r),
    });
  }
  let planned = 0;
  let written = 0;
  let reported = 0;
  const keyBuf = new Uint8Array(17);
  /** The record being written and, for a resident one, its key's id. */
  let current = -1;
  let id = -1;
  const encodeResident = (value: Uint8Array): Uint8Array => encodeFromColumns(states, id, value);
  /** As `writeSalvage` writes it: the stored bytes when unchanged, else re-encoded with the record's revision and lease. */
  const fromDb = (stored: Uint8Array): Uint8Array => {
    if (id >= 0) return states.verbatim(id) ? stored : encodeResident(kvValue(stored));
    if (winners.verbatim(current)) return stored;
    const kv = decodeKv(stored)!;
    return encodeKeyValue({
      key: kv.key,
      createRevision: kv.createRevision,
      modRevision: winners.mod(current),
      version: kv.version,
      value: kvValue(stored),
      lease: winners.detached(current) ? 0n : kv.lease,
    });
  };
  const readCurrent = (): Uint8Array | Promise<Uint8Array> => {
    const offset = id >= 0 ? states.dbOffset(id) : winners.offset(current);
    const length = id >= 0 ? states.dbLength(id) : winners.length(current);
    const now = peekCached(src!, offset, length);
    return now ? fromDb(now) : readExact(src!, offset, length).then(fromDb);
  };
  const item: { key: Uint8Array; value: Uint8Array | (() => Uint8Array | Promise<Uint8Array>) } = { key: keyBuf, value: readCurrent };
  const rising = new RisingRevisions();
  const revisions = function* (): Generator<RevisionItem> {
    for (let walk = winners.byRevision(), r = walk.next(); r >= 0; r = walk.next()) {
      throwIfCancelled(opts.signal);
      if (opts.onProgress && written - reported >= 16 << 20) {
        reported = written;
        opts.onProgress({ phase: 'salvage: writing the new db', bytesDone: written, bytesTotal: planned, currentFile: null });
      }
      current = r;
      id = winners.resident(r) ? winners.id(r) : -1;
      const memValue = id >= 0 ? states.memValue(id) : null;
      written += memValue ? memValue.length : id >= 0 ? states.dbLength(id) : winners.length(r);
      revisionKeyInto(keyBuf, winners.mod(r), rising.sub(r, winners.mod(r), winners.sub(r)));
      item.value = memValue ? encodeResident(memValue) : readCurrent;
      yield item;
    }
  };
  const revisionSizes = function* (): Generator<RevisionSize> {
    const size = { key: keyBuf, valueSize: 0 };
    const planned = new RisingRevisions();
    for (let walk = winners.byRevision(), r = walk.next(); r >= 0; r = walk.next()) {
      revisionKeyInto(keyBuf, winners.mod(r), planned.sub(r, winners.mod(r), winners.sub(r)));
      size.valueSize = winners.resident(r) ? writtenSize(states, winners.id(r)) : winners.size(r);
      yield size;
    }
  };
  const res = await writeBackend(state, sink, opts, revisions(), revisionSizes, maxRev, (bytes) => (planned = bytes));
  await noteSharedRevisions(state, rising, async (r) => {
    if (winners.resident(r)) return states.keyOf(winners.id(r));
    const at = raw(r);
    return decodeKv(at instanceof Uint8Array ? at : await at)?.key ?? new Uint8Array(0);
  });
  return {
    keysWritten: winners.count,
    deletedKeys: winners.deletedKeys,
    revisionRange: minRev !== null && maxRev !== null ? [minRev, maxRev] : null,
    compactRevision: res.compactRevision,
    keys,
    keysListedTruncated: winners.count > keys.length,
    sources,
    leases: { written: res.leases, detachedKeys: winners.detachedKeys },
    members: res.members,
    bytesWritten: res.size,
  };
}

/** Revisions above the compaction that no page holds any more (lost unless the WAL brought the key back). */
export function missingRevisions(state: SalvageState): [number, number][] {
  const out: [number, number][] = [];
  // etcd's first write is revision 2 (the store starts at 1).
  const from = Math.max(2, (state.sourceCompacted ?? 0) + 1);
  if (state.maxRevision < from) return out;
  // Walk the sorted revisions: a gap is between two neighbours (never a loop over the revision numbers,
  // which a damaged key can make as large as 2^53).
  let next = from;
  state.revisionsSeen.forEachAscending((r) => {
    if (r < next) return true;
    if (r > next) {
      out.push([next, r - 1]);
      if (out.length >= MAX_LISTED) return false;
    }
    next = r + 1;
    return true;
  });
  if (out.length >= MAX_LISTED) return out;
  if (next <= state.maxRevision) out.push([next, state.maxRevision]);
  return out;
}

// ---------------------------------------------------------------- all phases

/**
 * Phases 1 and 2 without writing, with the budget a salvage has: the state holds every key's newest revision, or
 * past the budget the winners of the passes (`SalvageState.winners`) and the WAL's keys. Read the live keys with
 * `forEachLiveKey` (or `LiveKeyCursor`), which reads either.
 */
export async function collectSalvage(input: SalvageInput, opts: SalvageCollectOptions = {}): Promise<SalvageState> {
  const state = new SalvageState();
  await collectInto(state, input, opts, budgetOf(opts));
  return state;
}

function budgetOf(opts: SalvageCollectOptions): number | null {
  return opts.keyStateBudget === undefined ? DEFAULT_KEY_STATE_BUDGET : opts.keyStateBudget;
}

/** A live key as `LiveKeyCursor` hands it out: the key and value are its own copies (a held WAL value: the state's). */
export interface LiveKey {
  key: Uint8Array;
  value: Uint8Array;
  modRevision: number;
  createRevision: number;
  version: number;
  /** As a salvage writes it: 0 when the lease is in none of the leases found (the key is detached, not lost). */
  lease: bigint;
  source: SalvageKeySource;
}

/**
 * The live keys of a collected state one at a time, in revision order (main, then sub): every key's state
 * (`SalvageState.keys`), or when the keys came in passes the winner records merged by revision (`WinnerRecords.byRevision`),
 * each KeyValue read again from the db, a WAL key's from its state. The same keys in the same order either way
 * (a salvage in passes writes the same revisions: revisions are distinct, so no tie is ordered differently); only
 * the key handed out is held, beside the order (4 bytes a key held, or the ~15-byte records).
 */
export class LiveKeyCursor {
  /** Without passes: the live keys' ids in revision order, and the next one's position. */
  private readonly ids: Uint32Array | null;
  private at = 0;
  /** With passes: the records' walk. */
  private readonly walk: RecordCursor | null;
  private readonly src: ByteSource | null;
  /** How many live keys the walk yields (progress). */
  readonly total: number;

  constructor(
    private readonly state: SalvageState,
    src: ByteSource | null,
  ) {
    // Values come in revision order, which is mostly the db's page order: a few windows serve them.
    this.src = src ? cachedSource(src) : null;
    this.walk = state.winners ? state.winners.byRevision() : null;
    this.ids = state.winners ? null : state.keys.liveByRevision();
    this.total = this.ids ? this.ids.length : state.winners!.count;
  }

  /** The next live key, null after the last: a promise only when its KeyValue is not in a window already read. */
  next(): LiveKey | null | Promise<LiveKey | null> {
    if (this.ids) return this.at < this.ids.length ? this.ofState(this.ids[this.at++]!) : null;
    const winners = this.state.winners!;
    const r = this.walk!.next();
    if (r < 0) return null;
    if (winners.resident(r)) return this.ofState(winners.id(r));
    const make = (stored: Uint8Array): LiveKey => {
      // Decoded when it was scanned: the same bytes decode the same.
      const kv = decodeKv(stored)!;
      return {
        key: copyBytes(kv.key),
        value: copyBytes(kvValue(stored)),
        modRevision: winners.mod(r),
        createRevision: kv.createRevision,
        version: kv.version,
        lease: winners.detached(r) ? 0n : kv.lease,
        source: winners.source(r),
      };
    };
    return this.read(winners.offset(r), winners.length(r), make);
  }

  /** A key of `SalvageState.keys` (every key without passes; a WAL key with them). */
  private ofState(id: number): LiveKey | Promise<LiveKey> {
    const keys = this.state.keys;
    const make = (value: Uint8Array): LiveKey => ({
      key: copyBytes(keys.keyOf(id)),
      value,
      modRevision: keys.modRevision(id),
      createRevision: keys.createRevision(id),
      version: keys.version(id),
      lease: leaseGone(this.state, keys.lease(id)) ? 0n : keys.lease(id),
      source: keys.source(id),
    });
    const held = keys.memValue(id);
    if (held) return make(held);
    const offset = keys.dbOffset(id);
    if (offset < 0 || !this.src) return make(new Uint8Array(0));
    return this.read(offset, keys.dbLength(id), (stored) => make(copyBytes(kvValue(stored))));
  }

  private read<T>(offset: number, length: number, use: (stored: Uint8Array) => T): T | Promise<T> {
    if (!this.src) throw new Error('the live keys came in passes: their values must be read again from the db');
    const now = peekCached(this.src, offset, length);
    return now ? use(now) : readExact(this.src, offset, length).then(use);
  }
}

/** Every live key in revision order with its value bytes (read one at a time: `LiveKeyCursor`). */
export async function forEachLiveKey(
  state: SalvageState,
  src: ByteSource | null,
  /** `total` is how many keys the walk yields, for progress. */
  onKey: (k: LiveKey, total: number) => void | Promise<void>,
): Promise<void> {
  const cursor = new LiveKeyCursor(state, src);
  for (;;) {
    const next = cursor.next();
    const k = next instanceof Promise ? await next : next;
    if (!k) return;
    const done = onKey(k, cursor.total);
    if (done) await done;
  }
}

/**
 * Scan the db, replay the WAL, write the output to `sink`. The caller adds the
 * SHA-256 trailer for a snapshot.db (`snapshotTrailer`) and fills `sha256`.
 */
export async function salvageEtcd(input: SalvageInput, sink: PageSink, opts: SalvageOptions): Promise<SalvageReport> {
  const started = Date.now();
  const state = new SalvageState();
  const cached = await collectInto(state, input, opts, budgetOf(opts));
  return writeReport(state, cached, sink, opts, started);
}

async function collectInto(state: SalvageState, input0: SalvageInput, opts: RunOptions, keyBudget: number | null = null): Promise<SalvageInput> {
  const input: SalvageInput = { ...input0, db: input0.db ? cachedSource(input0.db, undefined, undefined, true) : null };
  if (input.db) await scanDb(state, input.db, input.dbFile, input.snapshotDb, opts, input.sha256, keyBudget);
  // Past the budget the scan dropped its keys (it had some): the WAL's keys are read first, every other key after the replay.
  const partitioned = state.overBudget !== null && input.db !== null && keyBudget !== null;
  // No consistent index (its page is lost) but a db: reconcile every entry with the leaves (the WAL's last write of a key wins).
  const ci = state.sourceConsistentIndex ?? (input.db && (state.keys.size > 0 || partitioned) ? Number.MAX_SAFE_INTEGER : null);
  let resident: ResidentKeys | null = null;
  let parts: Parts | null = null;
  if (partitioned) {
    state.keep = null;
    resident = await residentKeysOf(input.wal ?? null, input.walCommit ?? null, ci, opts);
    parts = await scanResident(state, input.db!, input.dbFile, resident, keyBudget, opts);
  }
  /** Revisions whose writes the WAL held (replayed), [lo, hi]; null when the WAL vouches for none. */
  let covered: [number, number] | null = null;

  const missing = missingRevisions(state);
  if (input.wal) {
    const replayer = new Replayer(state, input.db, ci, input.wal, input.bytesEqual, input.dbFile);
    const commit = input.walCommit ?? null;
    let lastProgress = 0;
    const progress = (): void => {
      if (opts.onProgress && replayer.entries - lastProgress >= 10_000) {
        lastProgress = replayer.entries;
        opts.onProgress({ phase: 'salvage: replaying the WAL', bytesDone: replayer.entries, bytesTotal: 0, currentFile: null });
      }
    };
    // Not async: an entry replayed at once (most are) costs the WAL reader no promise.
    await input.wal((e) => {
      throwIfCancelled(opts.signal);
      if (commit !== null && e.index > commit) return;
      const replayed = replayer.apply(e);
      if (replayed) return replayed.then(progress);
      progress();
    });
    await replayer.finish();
    // Only when the WAL reaches back to before the consistent index does it vouch for the db's last revisions.
    covered = replayer.coveredRevisions();
    if (replayer.first !== null && replayer.last !== null) {
      state.walReplay = { from: replayer.first, to: replayer.last, entries: replayer.entries, applied: replayer.applied, gapFilled: replayer.gapFilled };
    }
  }
  // Revisions no page holds: lost, unless they fall in the span the WAL holds (its entries below the
  // consistent index wrote the db's last revisions; replay brought those keys back, at new revision numbers).
  let walKeys = 0;
  for (let id = 0; id < state.keys.ids; id++) if (state.keys.has(id) && state.keys.source(id) === 'wal') walKeys++;
  if (state.cutPages) {
    const [from, to] = state.cutPages;
    if (covered && covered[0] <= 2)
      state.addFinding(
        salvageFinding({
          severity: 'info',
          code: 'salvage.revisions-from-wal',
          file: input.dbFile,
          offset: from * state.pageSize,
          params: { from: 2, to: covered[1], file: input.dbFile, cutFrom: from, cutTo: to, cutLast: to - 1 },
          variant: 'cut-pages',
        }),
      );
    else {
      const why = sayRepair('etcd-loss.cut-pages', { file: input.dbFile, from, to, last: to - 1 });
      state.addLoss({ key: null, revisions: null, page: from, reason: why.text, reasonText: why.local });
    }
  }
  const replayedNote = (x: number, y: number) =>
    state.addFinding(salvageFinding({ severity: 'info', code: 'salvage.revisions-from-wal', file: input.dbFile, offset: null, params: { from: x, to: y } }));
  for (const [a, b] of missing) {
    // Split [a, b] into the part the WAL covered and the parts it did not.
    const parts: [number, number, boolean][] = [];
    if (!covered || b < covered[0] || a > covered[1]) parts.push([a, b, false]);
    else {
      if (a < covered[0]) parts.push([a, covered[0] - 1, false]);
      parts.push([Math.max(a, covered[0]), Math.min(b, covered[1]), true]);
      if (b > covered[1]) parts.push([covered[1] + 1, b, false]);
    }
    for (const [x, y, replayed] of parts) {
      if (replayed) {
        replayedNote(x, y);
        continue;
      }
      const why = sayRepair(walKeys > 0 ? 'etcd-loss.revisions.wal' : 'etcd-loss.revisions.no-wal', { from: x, to: y });
      state.addLoss({ key: null, revisions: [x, y], page: null, reason: why.text, reasonText: why.local });
    }
  }
  if (state.keys.size === 0 && input.db && !partitioned) {
    state.addFinding(
      salvageFinding({
        severity: 'error',
        code: 'salvage.no-keys',
        file: input.dbFile,
        offset: null,
        params: { file: input.dbFile, pages: state.pagesScanned, leaves: state.leafPages },
      }),
    );
  }
  if (partitioned) await collectPartitions(state, input.db!, input.dbFile, resident!, parts!, keyBudget, opts);
  return input;
}

async function writeReport(state: SalvageState, input: SalvageInput, sink: PageSink, opts: SalvageOptions, started: number): Promise<SalvageReport> {
  let consistentIndex: number | null;
  if (opts.consistentIndex !== undefined) consistentIndex = opts.consistentIndex;
  else if (opts.outputKind === 'member-db') {
    consistentIndex = Math.max(state.sourceConsistentIndex ?? 0, state.walReplay?.to ?? 0, input.walCommit ?? 0) || null;
  } else {
    consistentIndex = state.sourceConsistentIndex;
  }
  const w = await writeSalvage(state, input.db, sink, {
    outputKind: opts.outputKind,
    consistentIndex,
    keysListedMax: opts.keysListedMax,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (state.lostCount > 0) {
    state.addFinding(salvageFinding({ severity: 'warning', code: 'salvage.lost', file: input.dbFile, offset: null, params: { count: state.lostCount } }));
  }
  if (w.leases.detachedKeys > 0) {
    state.addFinding(
      salvageFinding({ severity: 'info', code: 'salvage.lease-detached', file: input.dbFile, offset: null, params: { count: w.leases.detachedKeys } }),
    );
  }
  return {
    input: input.dbFile,
    output: opts.output,
    outputKind: opts.outputKind,
    pageSize: state.pageSize,
    pagesScanned: state.pagesScanned,
    leafPages: state.leafPages,
    orphanedLeafPages: state.orphanedLeafPages,
    unreadablePages: state.unreadablePages,
    keysWritten: w.keysWritten,
    sources: w.sources,
    keys: w.keys,
    keysListedTruncated: w.keysListedTruncated,
    deletedKeys: w.deletedKeys,
    revisionRange: w.revisionRange,
    compactRevision: w.compactRevision,
    sourceConsistentIndex: state.sourceConsistentIndex,
    consistentIndex,
    walReplay: state.walReplay,
    leases: w.leases,
    members: w.members,
    lost: state.lost,
    findings: state.findings,
    sha256: null,
    bytesWritten: w.bytesWritten,
    bytesRead: state.bytesRead,
    elapsedMs: Date.now() - started,
  };
}

/** Salvage of a data dir without a db: only the WAL's entries. */
export function noDbFinding(input: string): Finding {
  return salvageFinding({ severity: 'warning', code: 'salvage.no-db', file: null, offset: null, params: { input } });
}

/** The WAL cannot be read past a point: entries after it are not replayed. */
export function walStoppedFinding(e: { file: string | null; offset: number | null; engineError: string }): Finding {
  const variant = walStopVariant(e.file, e.offset);
  return salvageFinding({
    severity: 'warning',
    code: 'salvage.wal-stopped',
    file: e.file,
    offset: e.offset,
    params: { ...walStopParams(e.file, e.offset), error: e.engineError },
    ...(variant ? { variant } : {}),
    engineError: e.engineError,
  });
}

/** A damaged WAL record salvage stepped over, whose entry the db already holds. */
export function walSkippedFinding(
  skip: { file: string; offset: number; engineError: string; resumeAt?: number; zeroWord?: boolean },
  afterIndex: number,
  dbCi: number,
): Finding {
  // A zero length word is no error to etcd (its decoder ends the log there): said in words, not as Go's `EOF`.
  if (skip.zeroWord && skip.resumeAt !== undefined)
    return salvageFinding({
      severity: 'info',
      code: 'salvage.wal-skipped',
      variant: 'zero-word',
      file: skip.file,
      offset: skip.offset,
      params: { file: skip.file, offset: skip.offset, resume: skip.resumeAt, after: afterIndex, ci: dbCi },
    });
  return salvageFinding({
    severity: 'info',
    code: 'salvage.wal-skipped',
    file: skip.file,
    offset: skip.offset,
    params: { file: skip.file, offset: skip.offset, error: skip.engineError, after: afterIndex, ci: dbCi },
    engineError: skip.engineError,
  });
}
