/**
 * Writes an etcd backend (bbolt with etcd's buckets) through `BboltWriter`:
 * the `key` bucket from revisions streamed in revision order, the small
 * buckets (meta, members, lease, ...) from sorted lists. Used by salvage
 * (a `snapshot.db`) and repair (a `member/snap/db`).
 *
 * Encodings (etcd 3.4 `mvcc/revision.go`, `mvcc/mvccpb/kv.proto`,
 * `lease/leasepb/lease.proto`, `etcdserver/api/membership/store.go`):
 * - key bucket key: main u64 BE, `_`, sub u64 BE (17 bytes), `t` appended for a tombstone;
 * - value: mvccpb.KeyValue {1 key, 2 create_revision, 3 mod_revision, 4 version, 5 value, 6 lease} (proto3: zero fields omitted);
 * - meta: `consistent_index` u64 BE, `finishedCompactRev` a 17-byte revision;
 * - lease: ID u64 BE -> leasepb.Lease {1 ID, 2 TTL}.
 */
import { compareBytes } from './bbolt-element';
import { BboltWriter, type BboltLayout, type BboltWriteResult, type PageSink } from './bbolt-write';

/** Every bucket etcd 3.4 creates, in bbolt's (byte) order. */
export const ETCD_BUCKETS = ['alarm', 'auth', 'authRoles', 'authUsers', 'cluster', 'key', 'lease', 'members', 'members_removed', 'meta'] as const;
export type EtcdBucketName = (typeof ETCD_BUCKETS)[number];

const enc = new TextEncoder();

export function revisionKey(main: number, sub: number, tombstone = false): Uint8Array {
  return revisionKeyInto(new Uint8Array(tombstone ? 18 : 17), main, sub, tombstone);
}

/** `revisionKey` written into `out` (17 bytes, 18 for a tombstone): a writer that copies keys can be handed one reused buffer. */
export function revisionKeyInto(out: Uint8Array, main: number, sub: number, tombstone = false): Uint8Array {
  // Big-endian u64s from numbers (safe integers) without BigInt: salvage builds one per key, several times.
  putU64be(out, 0, main);
  out[8] = 0x5f;
  putU64be(out, 9, sub);
  if (tombstone) out[17] = 0x74;
  return out;
}

function putU64be(out: Uint8Array, at: number, v: number): void {
  const hi = Math.floor(v / 0x1_0000_0000);
  const lo = v >>> 0;
  out[at] = hi >>> 24;
  out[at + 1] = (hi >>> 16) & 0xff;
  out[at + 2] = (hi >>> 8) & 0xff;
  out[at + 3] = hi & 0xff;
  out[at + 4] = lo >>> 24;
  out[at + 5] = (lo >>> 16) & 0xff;
  out[at + 6] = (lo >>> 8) & 0xff;
  out[at + 7] = lo & 0xff;
}

export function u64be(v: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(v)), false);
  return out;
}

function varint(v: bigint, out: number[]): void {
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

/** Protobuf message builder for the few messages written here. */
export class ProtoWriter {
  private parts: Uint8Array[] = [];
  private size = 0;
  uint(no: number, v: number | bigint, omitZero = true): this {
    if (omitZero && BigInt(v) === 0n) return this;
    const b: number[] = [];
    varint(BigInt((no << 3) | 0), b);
    varint(BigInt(v), b);
    return this.push(Uint8Array.from(b));
  }
  bytes(no: number, v: Uint8Array | string, omitEmpty = true): this {
    const data = typeof v === 'string' ? enc.encode(v) : v;
    if (omitEmpty && data.length === 0) return this;
    const b: number[] = [];
    varint(BigInt((no << 3) | 2), b);
    varint(BigInt(data.length), b);
    this.push(Uint8Array.from(b));
    return this.push(data);
  }
  private push(b: Uint8Array): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export interface KeyValueFields {
  key: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Uint8Array;
  lease: bigint;
}

export function encodeKeyValue(kv: KeyValueFields): Uint8Array {
  return new ProtoWriter()
    .bytes(1, kv.key)
    .uint(2, kv.createRevision)
    .uint(3, kv.modRevision)
    .uint(4, kv.version)
    .bytes(5, kv.value)
    .uint(6, kv.lease)
    .finish();
}

/** Bytes a varint of `v` takes (any uint64; int64 as its two's complement). */
function varintBytes(v: number | bigint): number {
  let x = BigInt.asUintN(64, BigInt(v));
  let n = 1;
  while (x >= 0x80n) {
    x >>= 7n;
    n++;
  }
  return n;
}

/** The size `encodeKeyValue` gives these fields with a value of `valueLength` bytes (without building it). */
export function keyValueSize(kv: Omit<KeyValueFields, 'value' | 'key'> & { keyLength: number; valueLength: number }): number {
  let n = 0;
  const bytesField = (len: number) => (len === 0 ? 0 : 1 + varintBytes(len) + len);
  const uintField = (v: number | bigint) => (BigInt(v) === 0n ? 0 : 1 + varintBytes(v));
  n += bytesField(kv.keyLength);
  n += uintField(kv.createRevision) + uintField(kv.modRevision) + uintField(kv.version);
  n += bytesField(kv.valueLength);
  n += uintField(kv.lease);
  return n;
}

export function encodeLease(id: bigint, ttl: number): Uint8Array {
  return new ProtoWriter().uint(1, id).uint(2, ttl).finish();
}

/**
 * One stored revision of the key bucket: its bbolt key (revisionKey) and the KeyValue bytes (or a reader
 * for them, which may answer at once). Both are used before the next item is asked for (the writer copies
 * them): an iterator may hand out the same buffers each time.
 */
export interface RevisionItem {
  key: Uint8Array;
  value: Uint8Array | (() => Uint8Array | Promise<Uint8Array>);
}

/** A key bucket item's bbolt key and the size of its value (what a plan needs). */
export interface RevisionSize {
  key: Uint8Array;
  valueSize: number;
}

export interface EtcdBackendContent {
  /** key bucket items, sorted by bbolt key (= by revision). */
  revisions: Iterable<RevisionItem> | AsyncIterable<RevisionItem>;
  /**
   * The same items' keys and value sizes, in the same order: the layout is
   * planned from them first, then every page is written in file order (metas
   * first), so the sink may hash the file as it is written.
   */
  revisionSizes?: () => Iterable<RevisionSize> | AsyncIterable<RevisionSize>;
  /** The other buckets' items; each list is sorted here. Missing buckets are written empty. */
  buckets: Partial<Record<Exclude<EtcdBucketName, 'key'>, [Uint8Array, Uint8Array][]>>;
}

export async function writeEtcdBackend(sink: PageSink, content: EtcdBackendContent): Promise<BboltWriteResult> {
  let layout: BboltLayout | undefined;
  if (content.revisionSizes) {
    const sizes = content.revisionSizes;
    const plan = await fillBackend(BboltWriter.planner(), content, async (w) => {
      const items = sizes();
      // A plain iterable is walked without a promise per item; a put is awaited only when it wrote a page.
      if (Symbol.iterator in items) {
        for (const item of items) {
          const put = w.put(item.key, item.valueSize);
          if (put) await put;
        }
      } else for await (const item of items) await w.put(item.key, item.valueSize);
    });
    layout = { pages: plan.pages, rootPage: plan.rootPage };
  }
  return fillBackend(new BboltWriter(sink, layout ? { layout } : {}), content, async (w) => {
    const revisions = content.revisions;
    // A plain iterable is walked without awaiting each item, and a value read at once is not awaited either.
    if (Symbol.iterator in revisions) {
      for (const item of revisions) {
        const value = typeof item.value === 'function' ? item.value() : item.value;
        const put = w.put(item.key, value instanceof Promise ? await value : value);
        if (put) await put;
      }
    } else {
      for await (const item of revisions) {
        const value = typeof item.value === 'function' ? item.value() : item.value;
        await w.put(item.key, value instanceof Promise ? await value : value);
      }
    }
  });
}

async function fillBackend(w: BboltWriter, content: EtcdBackendContent, putRevisions: (w: BboltWriter) => Promise<void>): Promise<BboltWriteResult> {
  for (const name of ETCD_BUCKETS) {
    await w.bucket(name);
    if (name === 'key') {
      await putRevisions(w);
      continue;
    }
    const items = [...(content.buckets[name] ?? [])].sort((a, b) => compareBytes(a[0], b[0]));
    let prev: Uint8Array | null = null;
    for (const [k, v] of items) {
      if (prev && compareBytes(prev, k) === 0) continue; // first wins on a duplicate key
      await w.put(k, v);
      prev = k;
    }
  }
  return w.finish();
}

export const META_CONSISTENT_INDEX = enc.encode('consistent_index');
export const META_FINISHED_COMPACT = enc.encode('finishedCompactRev');
export const META_SCHEDULED_COMPACT = enc.encode('scheduledCompactRev');
export const CLUSTER_VERSION_KEY = enc.encode('clusterVersion');
