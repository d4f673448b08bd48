/**
 * etcd's buckets in its bbolt db (etcd 3.4 `mvcc/backend` users): key, meta,
 * lease, alarm, cluster, members, members_removed, auth, authUsers,
 * authRoles. `SchemaCollector` is fed every leaf the tree walk reaches and
 * sums them up into `EtcdSchemaInfo`:
 * - key: revision keys (17 bytes, 18 with the tombstone mark) -> mvccpb.KeyValue;
 * - meta: `consistent_index` u64 BE, `term` (3.5+), `finishedCompactRev` (a revision key);
 * - members: hex id -> member JSON; members_removed: hex id -> "removed";
 * - alarm: key = etcdserverpb.AlarmMember {1 memberID, 2 alarm (1 NOSPACE, 2 CORRUPT)};
 * - lease: lease id u64 BE -> leasepb.Lease; cluster: `clusterVersion`.
 */
import type { EtcdMember, EtcdSchemaInfo } from '../../contract/etcd';
import type { Finding } from '../../contract/findings';
import { decodeMessage, idHex, numField, u64Field } from '../protobuf/wire';
import type { LeafVisit } from './bbolt-walk';
import { BUCKET_LEAF_FLAG } from './bbolt-page';
import { bucketNameOf, compareBytes, compareBytesAt, type PlainLeaf } from './bbolt-element';
import {
  decodeKeyValue,
  gogoKeyValueError,
  gogoKeyValueErrorAt,
  gogoKeyValueErrorWithin,
  keyValueKeyLength,
  keyValueKeyLengthAt,
  keyValueKeyStart,
  keyValueKeyStartAt,
  READS_PAST_READABLE,
} from './kv';
import { bboltFinding } from './bbolt-text';
import { hashKeyRange } from './key-hash';
import { decodeRevisionKey, decodeU64BE, encodeRevisionKey, revisionKeyMain, revisionKeyShapeAt, revisionKeySub } from './revision';

/** etcd 3.4 mvcc restore ranges `key` over [rev{1,0}, rev{MaxInt64,MaxInt64}). */
const RESTORE_MIN = encodeRevisionKey({ main: 1, sub: 0, tombstone: false });
const RESTORE_MAX = (() => {
  const b = new Uint8Array(17).fill(0xff);
  b[0] = 0x7f;
  b[8] = 0x5f;
  b[9] = 0x7f;
  return b;
})();

/** etcd's default backend quota (`--quota-backend-bytes` 0 = 2 GiB). */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;
export const ETCD_BUCKETS = ['alarm', 'auth', 'authRoles', 'authUsers', 'cluster', 'key', 'lease', 'members', 'members_removed', 'meta'] as const;
/** Undecodable items reported individually (all are counted). */
const MAX_ITEM_FINDINGS = 50;

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Bytes the schema collector's key set may hold (key bytes, per-key arrays, hash slots); past them the live-key count is a lower bound. */
export const KEY_SET_BUDGET_BYTES = 64 * 1024 * 1024;

/** Bytes an entry's arrays take besides its key bytes: end offset 4, flag 1, hash 4, restore state 1 + revision 16. */
const ENTRY_BYTES = 26;

/** A slot holds an entry number below 2^24 (a 64 MiB budget holds at most ~4 million entries)… */
const ENTRY_MASK = 0xff_ffff;

/** …under the top 7 bits of its hash (bits 24..30: the slot stays a non-negative Int32). */
function slotTag(h: number): number {
  return (h >>> 25) << 24;
}

/**
 * Where k3s and RKE2 keep their bootstrap data in their etcd (`/bootstrap/<hash of the join token>`: the cluster's
 * certificates and keys, encrypted with the token; k3s pkg/cluster/storage.go). A db or snapshot holding such a key
 * is theirs, and they restore it with their own reset, not `etcdctl snapshot restore`.
 */
const BOOTSTRAP_PREFIX = new TextEncoder().encode('/bootstrap/');

/**
 * The set of distinct keys with a live/deleted flag each, in typed arrays
 * (open addressing over an arena of key bytes): a 2 GiB db holds millions of
 * revisions, and a string per revision would keep the collector busy.
 *
 * With a budget (bytes of all its arrays), the set stops taking new keys
 * when growing an array would pass it (`full`); the keys it holds keep
 * being updated. A db of 8 million 50-byte keys would otherwise hold ~700 MB here.
 */
export class ByteKeySet {
  private arena = new Uint8Array(1 << 16);
  private used = 0;
  /** Entry e's bytes end at `ends[e]` (they start where entry e-1's end: the arena is filled in entry order). */
  private ends = new Uint32Array(1024);
  private flags = new Uint8Array(1024);
  /** Each entry's hash: a probe compares it before the bytes, and growing the table rehashes no key. */
  private hashes = new Int32Array(1024);
  /**
   * Per entry, etcd's key index as its mvcc restore builds it (SchemaCollector.indexPut): 0 not indexed,
   * 1 live, 2 deleted, 3 live at a revision whose key bbolt holds in another form (a read cannot find it),
   * and the revision last put (main, sub).
   */
  private restoreStates = new Uint8Array(1024);
  private restoreMains = new Float64Array(1024);
  private restoreSubs = new Float64Array(1024);
  /**
   * Open addressing: -1 empty, else the entry number (low ENTRY_BITS) under 7 bits of its hash (`slotTag`).
   * A probe that meets another key's slot skips it on the tag, without reading that entry's hash (most
   * probes of a new key: a cache miss less, where the bench db's 229k revisions made the set a tenth of
   * the walk's CPU).
   */
  private slots = new Int32Array(2048).fill(-1);
  size = 0;
  /** A new key was refused: holding it would have passed the budget. */
  full = false;

  constructor(private readonly budgetBytes = Number.POSITIVE_INFINITY) {}

  /** Bytes the set's arrays hold now. */
  get bytes(): number {
    return this.arena.length + this.ends.length * ENTRY_BYTES + this.slots.length * 4;
  }

  private equals(e: number, b: Uint8Array, start: number, end: number): boolean {
    const at = e === 0 ? 0 : this.ends[e - 1]!;
    if (this.ends[e]! - at !== end - start) return false;
    const arena = this.arena;
    for (let i = start, j = at; i < end; i++, j++) if (arena[j] !== b[i]) return false;
    return true;
  }

  /** Set the flag of `key` (adding it when new); false when the key is new and the set is full (nothing changes). */
  set(key: Uint8Array, flag: boolean): boolean {
    return this.setRange(key, 0, key.length, flag);
  }

  /** `set` of the key `b[start, end)`, without a view of it. */
  setRange(b: Uint8Array, start: number, end: number, flag: boolean): boolean {
    // addRange first: it may replace `flags` with a bigger array (`this.flags[this.addRange(…)]` would write to the old one).
    const e = this.addRange(b, start, end);
    if (e < 0) return false;
    this.flags[e] = flag ? 1 : 0;
    return true;
  }

  /** The entry number of `key` (0, 1, 2… in first-seen order), adding it when new; -1 when new and the set is full. */
  add(key: Uint8Array): number {
    return this.addRange(key, 0, key.length);
  }

  /** The entry number of the key `b[start, end)`, or -1 when the set does not hold it (nothing is added). */
  findRange(b: Uint8Array, start: number, end: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    const h = hashKeyRange(b, start, end);
    const tag = slotTag(h);
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s < 0) return -1;
      if ((s & ~ENTRY_MASK) === tag) {
        const e = s & ENTRY_MASK;
        if (this.hashes[e] === h && this.equals(e, b, start, end)) return e;
      }
    }
  }

  /** `add` of the key `b[start, end)`, without a view of it. */
  addRange(b: Uint8Array, start: number, end: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    const h = hashKeyRange(b, start, end);
    const tag = slotTag(h);
    let i = h & mask;
    for (;;) {
      const s = slots[i]!;
      if (s < 0) break;
      if ((s & ~ENTRY_MASK) === tag) {
        const e = s & ENTRY_MASK;
        if (this.hashes[e] === h && this.equals(e, b, start, end)) return e;
      }
      i = (i + 1) & mask;
    }
    const length = end - start;
    if (!this.makeRoom(length)) {
      this.full = true;
      return -1;
    }
    const e = this.size++;
    this.hashes[e] = h;
    const arena = this.arena;
    const used = this.used;
    // A short key byte by byte: cheaper than a view for `set`.
    if (length <= 64) for (let k = 0; k < length; k++) arena[used + k] = b[start + k]!;
    else arena.set(b.subarray(start, end), used);
    this.used = used + length;
    this.ends[e] = this.used;
    this.flags[e] = 0;
    if (this.size * 2 > this.slots.length) this.rehash();
    else this.slots[i] = tag | e;
    return e;
  }

  /**
   * Grow what one more entry of `keyBytes` needs (arena, entry arrays, and the
   * slot table it would make rehash), unless that passes the budget. The key
   * bytes are counted in Uint32 offsets: the arena stays below 4 GiB.
   */
  private makeRoom(keyBytes: number): boolean {
    const needArena = this.used + keyBytes;
    if (needArena > 0xffff_ffff || this.size >= ENTRY_MASK) return false;
    const arenaLength = needArena > this.arena.length ? Math.min(0xffff_ffff, Math.max(this.arena.length * 2, needArena)) : this.arena.length;
    const entries = this.size + 1 > this.ends.length ? this.ends.length * 2 : this.ends.length;
    const slots = (this.size + 1) * 2 > this.slots.length ? this.slots.length * 2 : this.slots.length;
    if (arenaLength === this.arena.length && entries === this.ends.length && slots === this.slots.length) return true;
    let bytes = arenaLength + entries * ENTRY_BYTES + slots * 4;
    let arenaTo = arenaLength;
    if (bytes > this.budgetBytes && arenaLength > needArena && arenaLength > this.arena.length) {
      // Doubling the arena would pass the budget: grow it only as far as the budget allows (never shrink it).
      arenaTo = Math.max(needArena, this.arena.length, arenaLength - (bytes - this.budgetBytes));
      bytes = arenaTo + entries * ENTRY_BYTES + slots * 4;
    }
    if (bytes > this.budgetBytes) return false;
    if (arenaTo !== this.arena.length) {
      const next = new Uint8Array(arenaTo);
      next.set(this.arena.subarray(0, this.used));
      this.arena = next;
    }
    if (entries !== this.ends.length) this.growEntries(entries);
    return true;
  }

  /** The bytes of entry `e`. */
  keyAt(e: number): Uint8Array {
    return this.arena.subarray(e === 0 ? 0 : this.ends[e - 1]!, this.ends[e]!);
  }

  countSet(): number {
    let n = 0;
    for (let e = 0; e < this.size; e++) n += this.flags[e]!;
    return n;
  }

  /** How many keys with their flag set start with `prefix`. */
  countSetWithPrefix(prefix: Uint8Array): number {
    let n = 0;
    const arena = this.arena;
    for (let e = 0; e < this.size; e++) {
      if (this.flags[e] === 0) continue;
      const at = e === 0 ? 0 : this.ends[e - 1]!;
      if (this.ends[e]! - at < prefix.length) continue;
      let same = true;
      for (let i = 0; i < prefix.length && same; i++) same = arena[at + i] === prefix[i];
      if (same) n++;
    }
    return n;
  }

  private growEntries(n: number) {
    const ends = new Uint32Array(n);
    ends.set(this.ends);
    const f = new Uint8Array(n);
    f.set(this.flags);
    const h = new Int32Array(n);
    h.set(this.hashes);
    this.ends = ends;
    this.flags = f;
    this.hashes = h;
    const states = new Uint8Array(n);
    states.set(this.restoreStates);
    const mains = new Float64Array(n);
    mains.set(this.restoreMains);
    const subs = new Float64Array(n);
    subs.set(this.restoreSubs);
    this.restoreStates = states;
    this.restoreMains = mains;
    this.restoreSubs = subs;
  }

  /** Set the flag of entry `e` (a number `addRange` gave). */
  setFlag(e: number, flag: boolean): void {
    this.flags[e] = flag ? 1 : 0;
  }

  restoreState(e: number): number {
    return this.restoreStates[e]!;
  }

  restoreMain(e: number): number {
    return this.restoreMains[e]!;
  }

  restoreSub(e: number): number {
    return this.restoreSubs[e]!;
  }

  setRestore(e: number, state: 1 | 2 | 3, main: number, sub: number): void {
    this.restoreStates[e] = state;
    this.restoreMains[e] = main;
    this.restoreSubs[e] = sub;
  }

  private rehash() {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let e = 0; e < this.size; e++) {
      const h = this.hashes[e]!;
      let i = h & mask;
      while (slots[i]! >= 0) i = (i + 1) & mask;
      slots[i] = slotTag(h) | e;
    }
    this.slots = slots;
  }
}

export function alarmName(n: number): EtcdSchemaInfo['alarms'][number]['alarm'] {
  return n === 1 ? 'NOSPACE' : n === 2 ? 'CORRUPT' : `unknown(${n})`;
}

/** A member JSON value (`{"id":…,"peerURLs":[…],"name":"n1","clientURLs":[…]}`); the id comes from the bucket key (JSON numbers lose 64-bit precision). */
export function decodeMember(idKey: string, value: Uint8Array): EtcdMember | null {
  try {
    const j = JSON.parse(utf8.decode(value)) as Record<string, unknown>;
    if (!j || typeof j !== 'object') return null;
    const urls = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 64) : []);
    const m: EtcdMember = { id: idKey, name: typeof j.name === 'string' ? j.name : '', peerURLs: urls(j.peerURLs), clientURLs: urls(j.clientURLs) };
    if (j.isLearner === true) m.isLearner = true;
    return m;
  } catch {
    return null;
  }
}

/** The Go runtime panic etcd 3.4's `bytesToRev` hits on a key of `n` bytes (bbolt hands out slices with cap = len); null for 17+. */
export function bytesToRevPanic(n: number): string | null {
  if (n < 8) return `runtime error: slice bounds out of range [:8] with capacity ${n}`;
  if (n < 9) return `runtime error: slice bounds out of range [9:${n}]`;
  if (n < 17) return `runtime error: index out of range [7] with length ${n - 9}`;
  return null;
}

export interface SchemaCollectorOptions {
  /** Bytes the distinct-key set may hold (default KEY_SET_BUDGET_BYTES); tests pass a small one. */
  keySetBudgetBytes?: number;
}

export class SchemaCollector {
  private buckets = new Map<string, { keys: number; inline: boolean }>();
  private readonly live: ByteKeySet;
  /**
   * The exact sub revision (Go's int64) of each key whose read revision is stored in another form (restore state
   * 3): its damage often reaches the sub revision, past what the restore model's doubles hold exactly.
   */
  private readonly unseekableSubs = new Map<number, bigint>();
  consistentIndex: number | null = null;
  term: number | null = null;
  revision: number | null = null;
  compactedRevision: number | null = null;
  revisions = 0;
  tombstones = 0;
  members: EtcdMember[] = [];
  removedMembers: string[] = [];
  alarms: EtcdSchemaInfo['alarms'] = [];
  leases = 0;
  clusterVersion: string | null = null;
  badItems = 0;
  /** The main revision restore took last (etcd's current revision after start-up, with the compaction's). */
  private restoreLastMain = 0;
  /** The `key` bucket's root page (null: inline, or not seen). */
  keyBucketRoot: number | null = null;
  /** The first `cannot unmarshal event: …` etcd's mvcc restore would stop with. */
  mvccRestoreError: string | null = null;
  private restoreEnded = false;
  private restoreSeeked = false;
  readonly findings: Finding[] = [];

  constructor(
    private readonly file: string,
    private readonly pageSize: number,
    opts: SchemaCollectorOptions = {},
  ) {
    this.keySetBudgetBytes = opts.keySetBudgetBytes ?? KEY_SET_BUDGET_BYTES;
    this.live = new ByteKeySet(this.keySetBudgetBytes);
  }

  private readonly keySetBudgetBytes: number;
  /** Revisions of keys the full key set could not hold (their keys are not in `liveKeys`). */
  private uncountedRevisions = 0;

  private bad(code: 'etcd.member-decode' | 'etcd.revision-key' | 'etcd.kv-decode', params: Record<string, string | number>, page: number) {
    this.badItems++;
    if (this.findings.length < MAX_ITEM_FINDINGS)
      this.findings.push(bboltFinding({ severity: 'warning', code, file: this.file, offset: page * this.pageSize, params: { ...params, page } }));
  }

  /** Feed one leaf visit of the walk (bbolt order). */
  onLeaf = (leaf: LeafVisit): void => {
    const path = leaf.bucket;
    if (path.length === 0) {
      for (const e of leaf.elements) {
        if (e.problem || (e.flags & BUCKET_LEAF_FLAG) === 0) continue;
        const name = bucketNameOf(e.key);
        const inline = e.value.length >= 16 && e.value.subarray(0, 8).every((b) => b === 0);
        if (!this.buckets.has(name)) this.buckets.set(name, { keys: 0, inline });
        if (name === 'key' && !inline && e.value.length >= 16 && this.keyBucketRoot === null) {
          const root = new DataView(e.value.buffer, e.value.byteOffset, 8).getBigUint64(0, true);
          if (root <= BigInt(Number.MAX_SAFE_INTEGER)) this.keyBucketRoot = Number(root);
        }
      }
      return;
    }
    if (path.length !== 1) return;
    const name = path[0]!;
    const b = this.buckets.get(name);
    if (b) b.keys += leaf.elements.length;
    const restored = name === 'key' ? this.restoreLeaf(leaf) : null;
    const els = leaf.elements;
    for (let i = 0; i < els.length; i++) {
      const e = els[i]!;
      if (e.problem) continue;
      switch (name) {
        case 'key':
          this.keyItem(e.key, 0, e.key.length, e.value, 0, e.value.length, leaf.page, restored !== null && i >= restored.from && i < restored.to);
          break;
        case 'meta': {
          const k = utf8.decode(e.key);
          if (k === 'consistent_index') this.consistentIndex = decodeU64BE(e.value);
          else if (k === 'term') this.term = decodeU64BE(e.value);
          else if (k === 'finishedCompactRev') this.compactedRevision = decodeRevisionKey(e.value)?.main ?? null;
          break;
        }
        case 'members': {
          const id = utf8.decode(e.key);
          const m = decodeMember(id, e.value);
          if (m) this.members.push(m);
          else this.bad('etcd.member-decode', { id }, leaf.page);
          break;
        }
        case 'members_removed':
          this.removedMembers.push(utf8.decode(e.key));
          break;
        case 'alarm': {
          const m = decodeMessage(e.key, 8);
          this.alarms.push({ memberId: idHex(u64Field(m.fields, 1)), alarm: alarmName(numField(m.fields, 2)) });
          break;
        }
        case 'lease':
          this.leases++;
          break;
        case 'cluster':
          if (utf8.decode(e.key) === 'clusterVersion') this.clusterVersion = utf8.decode(e.value);
          break;
      }
    }
  };

  /**
   * A leaf of `key` read in place (the walk's `plainLeaves`: every element inside the span, none a sub-bucket,
   * keys in order): what onLeaf does with its decoded elements, without them.
   */
  onPlainKeyLeaf = (page: number, span: Uint8Array, leaf: PlainLeaf): void => {
    const count = leaf.count;
    const b = this.buckets.get('key');
    if (b) b.keys += count;
    const restored = this.restorePlainLeaf(span, leaf);
    const keyStart = leaf.keyStart;
    const keySize = leaf.keySize;
    const valueSize = leaf.valueSize;
    for (let i = 0; i < count; i++) {
      const k = keyStart[i]!;
      const size = keySize[i]!;
      this.keyItem(span, k, size, span, k + size, valueSize[i]!, page, restored !== null && i >= restored.from && i < restored.to);
    }
  };

  /** The walk's option for leaves of `key` read in place. */
  readonly plainKeyLeaves = { bucket: 'key', onLeaf: this.onPlainKeyLeaf };

  /** restoreLeaf over a plain leaf (no element has a problem, none lies outside the span, no value is cut). */
  private restorePlainLeaf(span: Uint8Array, leaf: PlainLeaf): { from: number; to: number } | null {
    if (this.mvccRestoreError !== null || this.restoreEnded) return null;
    const count = leaf.count;
    const keyStart = leaf.keyStart;
    const keySize = leaf.keySize;
    const start = this.restoreSeek(count, (h) => compareBytesAt(span, keyStart[h]!, keySize[h]!, RESTORE_MIN, 0, RESTORE_MIN.length) < 0);
    for (let i = start; i < count; i++) {
      const k = keyStart[i]!;
      const size = keySize[i]!;
      if (compareBytesAt(span, k, size, RESTORE_MAX, 0, RESTORE_MAX.length) >= 0) {
        this.restoreEnded = true;
        return { from: start, to: i };
      }
      if (this.restoreStops(gogoKeyValueErrorAt(span, k + size, k + size + leaf.valueSize[i]!), size)) return { from: start, to: i };
    }
    return { from: start, to: count };
  }

  /**
   * Where restore starts in this leaf: 0, except in the first leaf it sees, where `Seek(rev{1,0})` binary-searches
   * (Go's sort.Search) for the first of `count` elements not `belowMin`.
   */
  private restoreSeek(count: number, belowMin: (i: number) => boolean): number {
    if (this.restoreSeeked) return 0;
    this.restoreSeeked = true;
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const h = (lo + hi) >>> 1;
      if (belowMin(h)) lo = h + 1;
      else hi = h;
    }
    return lo;
  }

  /**
   * Whether restore stops at a revision whose value gogo unmarshals with `err` (null: it does) and whose key is
   * `keySize` bytes (bytesToRev panics on a short one): then `mvccRestoreError` says how.
   */
  private restoreStops(err: string | null, keySize: number): boolean {
    if (err) {
      this.mvccRestoreError = `cannot unmarshal event: ${err}`;
      return true;
    }
    const short = bytesToRevPanic(keySize);
    if (short) {
      this.mvccRestoreError = short;
      return true;
    }
    return false;
  }

  /**
   * etcd 3.4's mvcc restore over one leaf of `key`, as its bbolt cursor goes:
   * `Seek(rev{1,0})` binary-searches the first leaf (Go's sort.Search, so keys
   * out of order can hide part of it), then `Next()` visits every element of
   * every later leaf in tree order, stopping at the first key >= the range end.
   * Each value is unmarshalled (`cannot unmarshal event: …`), each key cut into
   * a revision (a key shorter than 17 bytes panics in bytesToRev).
   */
  private restoreLeaf(leaf: LeafVisit): { from: number; to: number } | null {
    if (this.mvccRestoreError !== null || this.restoreEnded) return null;
    const els = leaf.elements;
    const start = this.restoreSeek(els.length, (h) => compareBytes(els[h]!.key, RESTORE_MIN) < 0);
    for (let i = start; i < els.length; i++) {
      const e = els[i]!;
      // Elements outside the readable file fault earlier (the walk reports them).
      if (e.problem && !e.outOfPage) continue;
      if (compareBytes(e.key, RESTORE_MAX) >= 0) {
        this.restoreEnded = true;
        return { from: start, to: i };
      }
      let err: string | null;
      if (e.valueCut) {
        // The value runs past the end of the file: gogo fails within what can be read, or reads past it.
        const within = gogoKeyValueErrorWithin(e.value, e.valueSize);
        if (within === READS_PAST_READABLE) {
          // Past what the walk read of one element (16 MiB): what etcd meets there is not known here.
          if (e.valueCut === 'read-limit' || !e.faultPastFile) continue;
          this.mvccRestoreError = e.faultPastFile;
          return { from: start, to: i };
        }
        err = within;
      } else err = gogoKeyValueError(e.value);
      if (this.restoreStops(err, e.key.length)) return { from: start, to: i };
    }
    return { from: start, to: els.length };
  }

  /**
   * etcd 3.4's key index as its mvcc restore builds it (restoreIntoIndex), one revision of entry `e` at a time:
   * a key's first live revision creates its index (a key first seen as a tombstone is not indexed); every later
   * revision, put or tombstone, goes through `keyIndex.put`, which panics unless it is above the revision last
   * put: a revision key with a bit flipped upwards makes the next revision of its key "smaller" (etcd stops at
   * start-up). A tombstone of a deleted key is ErrRevisionNotFound, which restore ignores.
   */
  private indexPut(e: number, main: number, sub: number, tombstone: boolean, unseekableSub: bigint | null = null) {
    const seekable = unseekableSub === null;
    const set = this.live;
    const state = set.restoreState(e);
    const liveState = seekable ? 1 : 3;
    if (state === 0) {
      if (tombstone) return;
      set.setRestore(e, liveState, main, sub);
      if (unseekableSub !== null) this.unseekableSubs.set(e, unseekableSub);
      return;
    }
    if (state === 2 && tombstone) return;
    const lastMain = set.restoreMain(e);
    const lastSub = set.restoreSub(e);
    if (main > lastMain || (main === lastMain && sub > lastSub)) {
      set.setRestore(e, tombstone ? 2 : liveState, main, sub);
      if (unseekableSub !== null) this.unseekableSubs.set(e, unseekableSub);
      else if (this.unseekableSubs.size > 0) this.unseekableSubs.delete(e);
      return;
    }
    // Go prints a revision struct with %v: {main sub}.
    this.mvccRestoreError ??= `store.keyindex: put with unexpected smaller revision [{${main} ${unseekableSub ?? sub}} / {${lastMain} ${this.unseekableSubs.get(e) ?? lastSub}}]`;
  }

  /** etcd's current revision after start-up: the last one restored, or the compaction's when that is higher. */
  private get currentRevision(): number {
    return Math.max(this.restoreLastMain, this.compactedRevision ?? 0);
  }

  /** `currentRevision`, for a finding's words. */
  get restoredRevision(): number {
    return this.currentRevision;
  }

  /**
   * Live keys whose read revision's key is stored in another form (byte 8 not '_'): a read of them asks bbolt for
   * a key it does not hold. Each with its key bytes and revision, at most `max`.
   */
  unseekableReads(max: number): { key: Uint8Array; main: number; sub: number | bigint }[] {
    const out: { key: Uint8Array; main: number; sub: number | bigint }[] = [];
    for (let e = 0; e < this.live.size && out.length < max; e++) {
      if (this.live.restoreState(e) !== 3 || this.live.restoreMain(e) > this.currentRevision) continue;
      out.push({ key: this.live.keyAt(e), main: this.live.restoreMain(e), sub: this.unseekableSubs.get(e) ?? this.live.restoreSub(e) });
    }
    return out;
  }

  /**
   * Keys whose newest revision lies above etcd's current revision (restore sets it from the last key in byte order,
   * so a revision key flipped upwards in the middle of the bucket stays above it): a read at the current revision
   * sees such a key as it was before that revision. A deleted key comes back with its last value, a key rewritten
   * serves its older value, a key written once is missing. How many, and the first in key order.
   */
  revisionsAboveCurrent(): { count: number; first: { key: Uint8Array; main: number; tombstone: boolean } | null } {
    const current = this.currentRevision;
    let count = 0;
    let first: { key: Uint8Array; main: number; tombstone: boolean } | null = null;
    for (let e = 0; e < this.live.size; e++) {
      const state = this.live.restoreState(e);
      if (state === 0 || this.live.restoreMain(e) <= current) continue;
      count++;
      const key = this.live.keyAt(e);
      if (!first || compareBytes(key, first.key) < 0) first = { key, main: this.live.restoreMain(e), tombstone: state === 2 };
    }
    return { count, first };
  }

  /**
   * Whether the revision `key` of KeyValue `value` is the one etcd's key index (as restore built it) reads for a
   * live key at its current revision: the revision a range of that key asks bbolt for.
   */
  isReadRevision(key: Uint8Array, value: Uint8Array): boolean {
    const rev = decodeRevisionKey(key);
    if (!rev || rev.tombstone || key[0]! >= 0x20 || key[9]! >= 0x20) return false;
    // A range reads at etcd's current revision: a newest revision above it (flipped upwards) is not read at all,
    // the key looks absent.
    if (rev.main > this.currentRevision) return false;
    const start = keyValueKeyStart(value);
    if (start < 0) return false;
    const e = this.live.findRange(value, start, start + keyValueKeyLength(value, start));
    return e >= 0 && this.live.restoreState(e) === 1 && this.live.restoreMain(e) === rev.main && this.live.restoreSub(e) === rev.sub;
  }

  /**
   * One revision of `key`: the key `kb[ko, ko + kl)` and its value `vb[vo, vo + vl)` (a decoded element's views,
   * or a leaf's span twice when it is read in place).
   */
  private keyItem(kb: Uint8Array, ko: number, kl: number, vb: Uint8Array, vo: number, vl: number, page: number, restoring: boolean) {
    // The shape and numbers without decodeRevisionKey's object: this runs for every revision of the db.
    const shape = revisionKeyShapeAt(kb, ko, kl);
    if (shape === 0) {
      const key = kb.subarray(ko, ko + kl);
      const value = vb.subarray(vo, vo + vl);
      this.bad('etcd.revision-key', { size: key.length }, page);
      // etcd's bytesToRev reads bytes 0-7 and 9-16 whatever byte 8 is: the key index still gets this revision,
      // but a read asks bbolt for it with '_' there, and finds nothing. The damage that changed byte 8 often
      // changed the sub revision beside it too: that one is kept exactly (Go's int64) for etcd's text.
      if (restoring && this.mvccRestoreError === null && key.length === 17 && key[0]! < 0x20) {
        const start = keyValueKeyStart(value);
        const main = decodeU64BE(key.subarray(0, 8));
        const sub = BigInt.asIntN(64, new DataView(key.buffer, key.byteOffset + 9, 8).getBigUint64(0, false));
        if (main !== null) {
          this.restoreLastMain = main;
          const e = start >= 0 ? this.live.addRange(value, start, start + keyValueKeyLength(value, start)) : -1;
          if (e >= 0) this.indexPut(e, main, Number(sub), false, sub);
        }
      }
      return;
    }
    const main = revisionKeyMain(kb, ko);
    const tombstone = shape === 2;
    this.revisions++;
    if (tombstone) this.tombstones++;
    if (this.revision === null || main > this.revision) this.revision = main;
    // The key where it is in the value (etcd writes it first); decodeKeyValue for anything else.
    const start = keyValueKeyStartAt(vb, vo, vo + vl);
    let e: number;
    if (start >= 0) e = this.live.addRange(vb, start, start + keyValueKeyLengthAt(vb, vo, start));
    else {
      const kv = decodeKeyValue(vb.subarray(vo, vo + vl));
      if (!kv.ok) {
        this.bad('etcd.kv-decode', { revision: `${main}_${revisionKeySub(kb, ko)}`, error: kv.error }, page);
        return;
      }
      e = this.live.add(kv.kv.key);
    }
    if (e < 0) {
      this.uncountedRevisions++;
      return;
    }
    this.live.setFlag(e, !tombstone);
    // etcd reads a revision as two int64: modelled where both are below 2^53 (a number holds them exactly and
    // the sign bit is clear); a revision past that is left out of the model (no finding rather than a wrong one).
    if (restoring && this.mvccRestoreError === null && kb[ko]! < 0x20 && kb[ko + 9]! < 0x20) {
      // restoreIntoIndex: etcd's current revision is the last one restored, in tree order (not the largest).
      this.restoreLastMain = main;
      this.indexPut(e, main, revisionKeySub(kb, ko), tombstone);
    }
  }

  finish(): EtcdSchemaInfo {
    const liveKeys = this.live.countSet();
    const lowerBound = this.live.full;
    if (lowerBound)
      this.findings.push(
        bboltFinding({
          severity: 'info',
          code: 'etcd.live-keys-lower-bound',
          file: this.file,
          offset: null,
          params: {
            keys: liveKeys,
            distinct: this.live.size,
            uncounted: this.uncountedRevisions,
            revisions: this.revisions,
            budget: Math.round((this.keySetBudgetBytes / (1024 * 1024)) * 10) / 10,
          },
        }),
      );
    const info: EtcdSchemaInfo = {
      buckets: [...this.buckets].map(([name, b]) => ({ name, keys: b.keys, inline: b.inline })),
      consistentIndex: this.consistentIndex,
      term: this.term,
      revision: this.revision,
      compactedRevision: this.compactedRevision,
      liveKeys,
      revisions: this.revisions,
      tombstones: this.tombstones,
      members: this.members,
      removedMembers: this.removedMembers,
      alarms: this.alarms,
      leases: this.leases,
      clusterVersion: this.clusterVersion,
      quotaBytes: DEFAULT_QUOTA_BYTES,
    };
    if (lowerBound) info.liveKeysLowerBound = true;
    const bootstrap = this.live.countSetWithPrefix(BOOTSTRAP_PREFIX);
    if (bootstrap > 0) {
      info.bootstrapKeys = bootstrap;
      this.findings.push(bboltFinding({ severity: 'info', code: 'etcd.k3s-bootstrap', file: this.file, offset: null, params: { keys: bootstrap } }));
    }
    return info;
  }
}
