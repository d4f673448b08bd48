/**
 * A compact index of byte-string keys for salvage, which remembers one entry
 * per distinct etcd key (a million keys is an ordinary cluster): the key
 * bytes sit in a byte arena, an open-addressing hash table maps them to a
 * dense id (0, 1, 2, ...), and what a caller remembers per key goes in
 * columns indexed by that id (`NumberColumn`, `BigIntColumn`; narrower:
 * `PackedNumberColumn`, and `BigIntSlots` for values many keys share).
 *
 * Why not a `Map<string, object>`: every key would be a JS string plus an
 * object plus a map entry (~260 bytes a key measured), all on V8's heap,
 * which the garbage collector walks again and again. Here a key costs its
 * bytes plus a few fixed-size array slots, outside the collected heap.
 *
 * Columns and the arena grow in fixed-size chunks: nothing is copied when
 * they grow (no moment with both an old and a doubled array), and a key's
 * bytes never move, so `key(id)` is a stable view.
 */
import { hashKeyBytes } from './key-hash';

const CHUNK_BITS = 16;
/** Slots per column chunk. */
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;
/** Bytes per arena chunk (a longer key gets a chunk of its own). */
const ARENA_CHUNK = 1 << 20;
/** Arena positions are `chunk * ARENA_CHUNK + offset` (a long key's own chunk: offset 0), 5 bytes up to a TiB of keys. */
const ARENA_STRIDE = ARENA_CHUNK;

type NumberArray = Float64Array | Uint32Array | Int32Array | Uint8Array;

/** A growable array of numbers in chunks of 65,536 slots (zero when never set). */
export class NumberColumn {
  private readonly chunks: NumberArray[] = [];
  constructor(private readonly make: (n: number) => NumberArray) {}
  get(i: number): number {
    const c = this.chunks[i >>> CHUNK_BITS];
    return c ? c[i & CHUNK_MASK]! : 0;
  }
  set(i: number, v: number): void {
    const n = i >>> CHUNK_BITS;
    while (this.chunks.length <= n) this.chunks.push(this.make(CHUNK));
    this.chunks[n]![i & CHUNK_MASK] = v;
  }
  /** Every slot back to zero, the chunks kept for reuse. */
  clear(): void {
    for (const c of this.chunks) c.fill(0);
  }
  /** Bytes held. */
  get bytes(): number {
    let b = 0;
    for (const c of this.chunks) b += c.byteLength;
    return b;
  }
}

/** A growable array of 64-bit signed integers (0n when never set). */
export class BigIntColumn {
  private readonly chunks: BigInt64Array[] = [];
  get(i: number): bigint {
    const c = this.chunks[i >>> CHUNK_BITS];
    return c ? c[i & CHUNK_MASK]! : 0n;
  }
  set(i: number, v: bigint): void {
    const n = i >>> CHUNK_BITS;
    while (this.chunks.length <= n) this.chunks.push(new BigInt64Array(CHUNK));
    this.chunks[n]![i & CHUNK_MASK] = v;
  }
  get bytes(): number {
    return this.chunks.length * CHUNK * 8;
  }
}

/**
 * Exact numbers in `width` bytes a slot (2, 4 or 5; 0 where never set):
 * a non-negative integer below the width's all-ones value sits inline, any
 * other number (larger, negative, fractional, NaN) in a side map, its slot
 * holding the all-ones value. For columns whose values are almost always
 * small (revisions, lengths, versions, offsets): 5 bytes reach 2^40 - 2 (a
 * TiB offset, a trillion revisions) where a Float64Array takes 8, and a
 * damaged record's odd number still comes back exactly.
 */
export class PackedNumberColumn {
  /*
   * Chunks of their own, one typed-array type per field (not NumberColumns): an element access site that sees
   * one array type stays fast in V8, one that sees five (every NumberColumn's) does not.
   */
  /** The low 16 bits (width 2) or 32 bits (widths 4 and 5). */
  private readonly low16: Uint16Array[] | null;
  private readonly low32: Uint32Array[] | null;
  /** Byte 5 of a 5-byte column (null otherwise). */
  private readonly high: Uint8Array[] | null;
  /** The all-ones value of the width: this slot's number is in `escaped`. */
  private readonly escape: number;
  private readonly escaped = new Map<number, number>();
  constructor(width: 2 | 4 | 5) {
    this.low16 = width === 2 ? [] : null;
    this.low32 = width === 2 ? null : [];
    this.high = width === 5 ? [] : null;
    this.escape = 2 ** (8 * width) - 1;
  }
  get(i: number): number {
    const c = i >>> CHUNK_BITS;
    const at = i & CHUNK_MASK;
    let v: number;
    if (this.low16) {
      const chunk = this.low16[c];
      v = chunk ? chunk[at]! : 0;
    } else {
      const chunk = this.low32![c];
      v = chunk ? chunk[at]! : 0;
      if (this.high && chunk) v += this.high[c]![at]! * 0x100000000;
    }
    return v === this.escape ? this.escaped.get(i)! : v;
  }
  set(i: number, v: number): void {
    let inline = v;
    if (v >= 0 && v < this.escape && Number.isInteger(v)) {
      if (this.escaped.size > 0) this.escaped.delete(i);
    } else {
      inline = this.escape;
      this.escaped.set(i, v);
    }
    const c = i >>> CHUNK_BITS;
    const at = i & CHUNK_MASK;
    if (this.low16) {
      while (this.low16.length <= c) this.low16.push(new Uint16Array(CHUNK));
      this.low16[c]![at] = inline;
      return;
    }
    const low32 = this.low32!;
    while (low32.length <= c) {
      low32.push(new Uint32Array(CHUNK));
      this.high?.push(new Uint8Array(CHUNK));
    }
    if (this.high) {
      const hi = Math.floor(inline / 0x100000000);
      this.high[c]![at] = hi;
      low32[c]![at] = inline - hi * 0x100000000;
    } else low32[c]![at] = inline;
  }
  /** Bytes held (a side map entry counted at ~40 bytes). */
  get bytes(): number {
    const chunks = (this.low16?.length ?? 0) * 2 + (this.low32?.length ?? 0) * 4 + (this.high?.length ?? 0);
    return chunks * CHUNK + this.escaped.size * 40;
  }
}

/**
 * Distinct 64-bit integers to small dense slots (0n is slot 0): a column of
 * slots costs 4 bytes a row where the values would take 8, when rows share
 * few values (etcd keys share their leases). An open-addressing table over a
 * BigInt64 column: 16 bytes a distinct value, outside V8's collected heap.
 */
export class BigIntSlots {
  private readonly values = new BigIntColumn();
  /** Hash position -> slot (0: empty; slot 0, the value 0n, is never in it); at most half full. */
  private table = new Int32Array(64);
  private count = 1;
  /** The last value asked for and its slot (rows often repeat the same lease). */
  private lastValue = 0n;
  private lastSlot = 0;
  /** Distinct values held (0n included). */
  get size(): number {
    return this.count;
  }
  value(slot: number): bigint {
    return slot === 0 ? 0n : this.values.get(slot);
  }
  /** The slot of `v` (a new one when it is new). */
  slotOf(v: bigint): number {
    if (v === 0n) return 0;
    if (v === this.lastValue) return this.lastSlot;
    const mask = this.table.length - 1;
    let at = bigHash(v) & mask;
    for (; ; at = (at + 1) & mask) {
      const held = this.table[at]!;
      if (held === 0) break;
      if (this.values.get(held) === v) return this.remember(v, held);
    }
    const slot = this.count++;
    this.values.set(slot, v);
    this.table[at] = slot;
    if (this.count * 2 > this.table.length) this.grow();
    return this.remember(v, slot);
  }
  get bytes(): number {
    return this.values.bytes + this.table.byteLength;
  }
  private remember(v: bigint, slot: number): number {
    this.lastValue = v;
    this.lastSlot = slot;
    return slot;
  }
  private grow(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let slot = 1; slot < this.count; slot++) {
      let at = bigHash(this.values.get(slot)) & mask;
      while (table[at] !== 0) at = (at + 1) & mask;
      table[at] = slot;
    }
    this.table = table;
  }
}

/** A 32-bit hash of a 64-bit integer (its two halves mixed). */
function bigHash(v: bigint): number {
  const u = BigInt.asUintN(64, v);
  const lo = Number(u & 0xffffffffn);
  const hi = Number(u >> 32n);
  return Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0;
}

/** Byte strings to dense ids: `add` gives a key's id (a new one for a new key), `find` looks one up. */
export class KeyIndex {
  private arena: Uint8Array[] = [];
  /** Arena chunks of a `clear`ed index, filled again before new ones are allocated. */
  private spare: Uint8Array[] = [];
  /** The arena chunk being filled (-1: none yet) and how far. */
  private current = -1;
  private arenaFill = 0;
  private readonly positions = new PackedNumberColumn(5);
  /** Two bytes a key (a key of 64 KiB or more goes to the column's side map). */
  private readonly lengths = new PackedNumberColumn(2);
  private readonly hashes = new NumberColumn((n) => new Uint32Array(n));
  /** Slot -> id + 1 (0: empty); a power of two in size, at most half full. */
  private table = new Int32Array(1024);
  private count = 0;
  /** Bytes of all keys held (their arena share, without the chunks' unused tails). */
  private keyBytesHeld = 0;

  /** Keys held. */
  get size(): number {
    return this.count;
  }

  /** The id of `key`, or -1 when it is not held. */
  find(key: Uint8Array): number {
    return this.findHashed(key, hashKeyBytes(key) >>> 0); // unsigned, as the Uint32 column holds it
  }

  /** `find` with the key's `hashKeyBytes(key) >>> 0` already at hand (a caller that needs the hash too). */
  findHashed(key: Uint8Array, h: number): number {
    const mask = this.table.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const at = this.table[slot]!;
      if (at === 0) return -1;
      if (this.hashes.get(at - 1) === h && this.equals(at - 1, key)) return at - 1;
    }
  }

  /** Some key held has hash `h` (`hashKeyBytes >>> 0`): false means no key with that hash is held. */
  holdsHash(h: number): boolean {
    const mask = this.table.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const at = this.table[slot]!;
      if (at === 0) return false;
      if (this.hashes.get(at - 1) === h) return true;
    }
  }

  /** The id of `key`, added (its bytes copied) when it is new. */
  add(key: Uint8Array): number {
    return this.addHashed(key, hashKeyBytes(key) >>> 0); // unsigned, as the Uint32 column holds it
  }

  /** `add` with the key's `hashKeyBytes(key) >>> 0` already at hand. */
  addHashed(key: Uint8Array, h: number): number {
    const mask = this.table.length - 1;
    let slot = h & mask;
    for (; ; slot = (slot + 1) & mask) {
      const at = this.table[slot]!;
      if (at === 0) break;
      if (this.hashes.get(at - 1) === h && this.equals(at - 1, key)) return at - 1;
    }
    const id = this.count++;
    this.positions.set(id, this.store(key));
    this.lengths.set(id, key.length);
    this.hashes.set(id, h);
    this.keyBytesHeld += key.length;
    this.table[slot] = id + 1;
    if (this.count * 2 > this.table.length) this.grow();
    return id;
  }

  /** The bytes of key `id`: a view into the arena, valid as long as the index (the bytes never move). */
  key(id: number): Uint8Array {
    const pos = this.positions.get(id);
    const chunk = Math.floor(pos / ARENA_STRIDE);
    const offset = pos - chunk * ARENA_STRIDE;
    return this.arena[chunk]!.subarray(offset, offset + this.lengths.get(id));
  }

  /** Bytes of all keys held. */
  get keyBytes(): number {
    return this.keyBytesHeld;
  }

  /** Length of key `id` in bytes. */
  keyLength(id: number): number {
    return this.lengths.get(id);
  }

  /** Bytes held by the index (arena, columns, table): what it costs. */
  get bytes(): number {
    let b = this.table.byteLength + this.positions.bytes + this.lengths.bytes + this.hashes.bytes;
    for (const c of this.arena) b += c.byteLength;
    for (const c of this.spare) b += c.byteLength;
    return b;
  }

  /**
   * No key held any more, the memory kept: the table and columns are filled again by the next keys (a column slot
   * is written whenever an id is handed out), the arena's chunks are reused (a long key's own chunk is dropped).
   * One index for pass after pass allocates nothing new, where a new index a pass left the old one's megabytes to
   * the garbage collector.
   */
  clear(): void {
    this.table.fill(0);
    this.count = 0;
    this.keyBytesHeld = 0;
    this.spare = this.spare.concat(this.arena.filter((c) => c.length === ARENA_CHUNK));
    this.arena = [];
    this.current = -1;
    this.arenaFill = 0;
  }

  private equals(id: number, key: Uint8Array): boolean {
    if (this.lengths.get(id) !== key.length) return false;
    // In the arena where the bytes are (no view made: every revision of a known key lands here).
    const pos = this.positions.get(id);
    const chunk = Math.floor(pos / ARENA_STRIDE);
    const offset = pos - chunk * ARENA_STRIDE;
    const held = this.arena[chunk]!;
    for (let i = 0; i < key.length; i++) if (held[offset + i] !== key[i]) return false;
    return true;
  }

  /** Copy the bytes into the arena; returns their position. */
  private store(key: Uint8Array): number {
    if (key.length > ARENA_CHUNK) {
      // A long key gets a chunk of its own (appended: positions of the chunks before never change).
      this.arena.push(new Uint8Array(key));
      return (this.arena.length - 1) * ARENA_STRIDE;
    }
    // A full chunk takes no more (not even an empty key: its position would name the next chunk).
    if (this.current < 0 || this.arenaFill + key.length > ARENA_CHUNK || this.arenaFill === ARENA_CHUNK) {
      this.current = this.arena.push(this.spare.pop() ?? new Uint8Array(ARENA_CHUNK)) - 1;
      this.arenaFill = 0;
    }
    const offset = this.arenaFill;
    this.arena[this.current]!.set(key, offset);
    this.arenaFill += key.length;
    return this.current * ARENA_STRIDE + offset;
  }

  private grow(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let id = 0; id < this.count; id++) {
      let slot = this.hashes.get(id) & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = id + 1;
    }
    this.table = table;
  }
}
