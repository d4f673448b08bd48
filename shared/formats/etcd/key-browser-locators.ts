/**
 * Where each group's keys are, for a key browser past its index budget (more
 * keys than one index may hold): noted during the walk that builds the whole
 * db's index, so that a filter inside a group (a namespace, a resource, a
 * prefix that falls in one or a few groups) reads back only the leaves that
 * hold its groups' revisions instead of walking the whole db, and so that
 * the count of every group (and the total) is known without holding the keys.
 *
 * A group here is a key's resource and namespace as its bytes give them
 * (`keyGroupSpan`), interned to a small number by its identity: the key up
 * to its namespace (or its resource, when it has none), a prefix of all its
 * keys. For each group: the leaves (by their number in the walk's order)
 * where it has a revision, its identity (a prefix filter reads only the
 * groups whose identity agrees with it on their common length), its smallest
 * key (the groups of an answer are named and ordered by their first key, as
 * the index names them) and its number of distinct keys. The keys the index
 * holds are counted as it takes them; each key past it by a 64-bit hash of
 * its bytes (two 32-bit hashes), so two keys count as one only if both
 * hashes agree (odds about n²/2⁶⁵ for n keys past the index: 1 in 7 million
 * for the 2.3 million past it in a db of 4 million).
 *
 * What it costs: while the walk runs, 8 bytes a (group, leaf) pair (about
 * one a revision: a leaf's revisions are of many groups), 8 bytes a leaf,
 * 10-16 bytes a key the index does not hold (the hash set) and per group its
 * identity, its smallest key and a 28-byte slot; past the index's budget,
 * 4 bytes a key it holds at the end; after it, 4 bytes a pair and 8 a leaf
 * (4 million keys, 6.4 million revisions: 28 MB kept, ~90 MB more peak RSS
 * while the first walk runs; within the budget the pairs are let go).
 * Bounded by its own budget: past it the notes are dropped and the browser
 * walks the db for each filter, as it did before.
 */
import type { EtcdKeyGroup } from '../../contract/etcd';
import { keyGroupSpan, type KeyGroupSpan } from './key-browser-groups';
import { hashKeyPrefix } from './key-hash';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Pairs per chunk while the walk runs (the chunks are let go one by one as they are sorted by group). */
const CHUNK = 1 << 16;
/** Bytes a group costs besides its smallest key (its columns and its entry in the intern table). */
const GROUP_BYTES = 48;

/** A second hash of key bytes, independent of `hashKeyBytes` (other constants and seed, four bytes a step). */
function hashKeyBytesAgain(b: Uint8Array): number {
  const end = b.length;
  let h = (0x27d4eb2f ^ Math.imul(end, 0x165667b1)) | 0;
  let i = 0;
  for (; i + 4 <= end; i += 4) {
    h = Math.imul(h ^ (b[i + 3]! | (b[i + 2]! << 8) | (b[i + 1]! << 16) | (b[i]! << 24)), 0x5bd1e995);
    h ^= h >>> 13;
  }
  for (; i < end; i++) h = Math.imul(h ^ b[i]!, 0x2127599b);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) | 0;
}

/** Is `a` before `b` in etcd's order (bytes, a shorter key first on a common prefix)? */
function before(a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return a.length < b.length;
}

/**
 * The keys past the index, by a 64-bit hash of their bytes, each with its
 * group (open addressing, 0 is empty; grows by half while at most 80% full).
 */
class KeyHashSet {
  private slots = new Uint32Array(3 * 1024);
  private size = 0;
  /** The last `find` added the key (it was not there). */
  added = false;

  get bytes(): number {
    return this.slots.byteLength;
  }

  /** Bytes after the next growth (0: no growth needed for one more). */
  get growthBytes(): number {
    const capacity = this.slots.length / 3;
    return (this.size + 1) * 5 > capacity * 4 ? Math.ceil((capacity * 3) / 2) * 12 : 0;
  }

  /** The slot of a key (`hash`: its hashKeyBytes), added when it was not there (`added`; its group is then to be set). */
  find(key: Uint8Array, hash: number): number {
    const a = hash >>> 0 || 1;
    const b = hashKeyBytesAgain(key) >>> 0;
    if ((this.size + 1) * 5 > (this.slots.length / 3) * 4) this.grow();
    const capacity = this.slots.length / 3;
    let i = ((a ^ Math.imul(b, 0x9e3779b1)) >>> 0) % capacity;
    for (;;) {
      const x = this.slots[3 * i]!;
      if (x === 0) {
        this.slots[3 * i] = a;
        this.slots[3 * i + 1] = b;
        this.size++;
        this.added = true;
        return i;
      }
      if (x === a && this.slots[3 * i + 1] === b) {
        this.added = false;
        return i;
      }
      if (++i === capacity) i = 0;
    }
  }

  groupAt(slot: number): number {
    return this.slots[3 * slot + 2]!;
  }

  setGroup(slot: number, g: number): void {
    this.slots[3 * slot + 2] = g;
  }

  private grow(): void {
    const old = this.slots;
    const capacity = Math.ceil((old.length / 3) * 1.5);
    const slots = new Uint32Array(capacity * 3);
    for (let j = 0; j < old.length; j += 3) {
      const a = old[j]!;
      if (a === 0) continue;
      const b = old[j + 1]!;
      let i = ((a ^ Math.imul(b, 0x9e3779b1)) >>> 0) % capacity;
      while (slots[3 * i] !== 0) if (++i === capacity) i = 0;
      slots[3 * i] = a;
      slots[3 * i + 1] = b;
      slots[3 * i + 2] = old[j + 2]!;
    }
    this.slots = slots;
  }
}

/** How the index took a revision's key: a key it holds from now on (new), one it held already, or one past its budget. */
export const KeyTaken = { New: 0, Held: 1, Refused: 2 } as const;
export type KeyTaken = (typeof KeyTaken)[keyof typeof KeyTaken];

/**
 * The 8 bytes of `b` after `from` as two big-endian words (0 past its end):
 * when a key's words are above the smallest key's, it is after it (both
 * start with the same identity), without reading the smallest key.
 */
function wordAt(b: Uint8Array, from: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) v = (v << 8) | (from + k < b.length ? b[from + k]! : 0);
  return v >>> 0;
}

/**
 * A slot of the group table: everything a revision touches of its group in
 * one place (a revision's group is a random one: one memory line, not one
 * per column). [0] group + 1 (0: empty), [1] identity hash, [2] identity's
 * offset in the arena, [3] its length, [4] has a namespace (1/0), [5, 6] the
 * smallest key's words after its identity.
 */
const SLOT = 7;

/** A pair's first word: an entry of the index, or (this bit set) the group of a key past it. */
const PAST = 0x8000_0000;
/** A pair dropped at `finish` (its group's previous pair was in the same leaf). */
const NONE = 0xffff_ffff;

/**
 * Takes the walk's leaves and revisions, in order; `finish` gives the
 * locators, or null when there can be none (the db's `key` bucket is inline
 * in its parent's page, or the notes passed their budget).
 */
export class KeyGroupLocatorBuilder {
  private leafPages = new Uint32Array(1024);
  private leafCounts = new Uint32Array(1024);
  private leaves = 0;
  private pairChunks: Uint32Array[] = [];
  private chunk = new Uint32Array(0);
  private pairs = 0;
  private table = new Int32Array(128 * SLOT);
  private groups = 0;
  /** The identities' bytes (a key up to its namespace, or its resource when it has none). */
  private arena = new Uint8Array(4096);
  private arenaUsed = 0;
  /** Per group: its distinct keys and its smallest key. */
  private keyCounts = new Uint32Array(64);
  private smallest: Uint8Array[] = [];
  private smallestBytes = 0;
  /** The last revision's group slot and identity length (groupOf). */
  private slotAt = 0;
  private identityLength = 0;
  private readonly past = new KeyHashSet();
  private readonly span: KeyGroupSpan = { registry: false, resourceStart: 0, resourceEnd: 0, nsStart: -1, nsEnd: -1 };
  private failed = false;

  constructor(private readonly budgetBytes: number) {}

  /** Bytes held now. */
  get bytes(): number {
    return (
      this.leafPages.byteLength * 2 +
      this.pairChunks.length * CHUNK * 8 +
      this.table.byteLength +
      this.arena.byteLength +
      this.groups * GROUP_BYTES +
      this.smallestBytes +
      this.past.bytes
    );
  }

  /** A leaf of the `key` bucket, before its revisions. */
  leaf(page: number, inline: boolean, elements: number): void {
    if (this.failed) return;
    // A leaf inline in its parent's page cannot be read back on its own.
    if (inline) return this.fail();
    if (this.leaves === this.leafPages.length) {
      if (!this.fits(this.leafPages.byteLength * 2)) return;
      const pages = new Uint32Array(this.leaves * 2);
      pages.set(this.leafPages);
      const counts = new Uint32Array(this.leaves * 2);
      counts.set(this.leafCounts);
      this.leafPages = pages;
      this.leafCounts = counts;
    }
    this.leafPages[this.leaves] = page;
    this.leafCounts[this.leaves] = elements;
    this.leaves++;
  }

  /**
   * A revision of `key`, of the leaf last told, as the index took it:
   * `entry` is the index's number of the key (when it holds it), `hash` the
   * key's hashKeyBytes. A key the index holds is noted by its entry only
   * (its group is found at `finish`, once a key, and only when the index
   * passed its budget: a db within it pays 8 bytes a revision and no more);
   * a key past it by its group, found from its bytes at its first revision.
   */
  revision(key: Uint8Array, taken: KeyTaken, entry: number, hash: number): void {
    if (this.failed) return;
    let noted = entry;
    if (taken === KeyTaken.Refused) {
      const growth = this.past.growthBytes;
      if (growth > 0 && !this.fits(growth)) return;
      const slot = this.past.find(key, hash);
      let g: number;
      if (this.past.added) {
        g = this.groupOf(key);
        if (g < 0) return;
        this.past.setGroup(slot, g);
        this.firstKey(key, g);
      } else {
        g = this.past.groupAt(slot);
      }
      noted = (g | PAST) >>> 0;
    }
    const i = this.pairs % CHUNK;
    if (i === 0) {
      if (!this.fits(CHUNK * 8)) return;
      this.chunk = new Uint32Array(CHUNK * 2);
      this.pairChunks.push(this.chunk);
    }
    this.chunk[2 * i] = noted;
    this.chunk[2 * i + 1] = this.leaves - 1;
    this.pairs++;
  }

  /** A key's first revision (groupOf just found its slot): one more key in group g, maybe its smallest. */
  private firstKey(key: Uint8Array, g: number): void {
    this.keyCounts[g]!++;
    const t = this.table;
    const at = this.slotAt;
    const from = this.identityLength;
    const hi = wordAt(key, from);
    const minHi = t[at + 5]! >>> 0;
    if (hi > minHi || (hi === minHi && wordAt(key, from + 4) > t[at + 6]! >>> 0)) return;
    const min = this.smallest[g]!;
    const n = Math.min(min.length, key.length);
    let c = from;
    while (c < n && min[c] === key[c]) c++;
    if (c < n ? key[c]! < min[c]! : key.length < min.length) {
      this.smallestBytes += key.length - min.length;
      this.smallest[g] = key.slice();
      t[at + 5] = hi;
      t[at + 6] = wordAt(key, from + 4);
    }
  }

  private fits(more: number): boolean {
    if (this.bytes + more <= this.budgetBytes) return true;
    this.fail();
    return false;
  }

  private fail(): void {
    this.failed = true;
    this.pairChunks = [];
    this.chunk = new Uint32Array(0);
    this.smallest = [];
    this.table = new Int32Array(0);
    this.arena = new Uint8Array(0);
  }

  /** The group number of a key (interned at its first key), or -1 past the budget; sets slotAt and identityLength. */
  private groupOf(key: Uint8Array): number {
    const s = this.span;
    keyGroupSpan(key, 0, key.length, s);
    // The identity is the key up to its namespace, or its resource when it has none (a prefix of all its keys),
    // and whether it has a namespace: a namespace never holds '/', so the bytes tell the resource and namespace apart.
    const hasNs = s.nsStart >= 0 ? 1 : 0;
    const length = hasNs ? s.nsEnd : s.resourceEnd;
    this.identityLength = length;
    const h = hashKeyPrefix(key, length) ^ (hasNs ? 0x5bd1e995 : 0);
    const t = this.table;
    const slots = t.length / SLOT;
    let slot = h & (slots - 1);
    const arena = this.arena;
    for (;;) {
      const at = slot * SLOT;
      const g = t[at]! - 1;
      if (g < 0) break;
      if (t[at + 1] === h && t[at + 3] === length && t[at + 4] === hasNs) {
        const off = t[at + 2]!;
        let i = 0;
        while (i < length && arena[off + i] === key[i]) i++;
        if (i === length) {
          this.slotAt = at;
          return g;
        }
      }
      slot = (slot + 1) & (slots - 1);
    }
    if (!this.fits(GROUP_BYTES + length + key.length + (this.arenaUsed + length > arena.length ? arena.length * 2 + length : 0))) return -1;
    const g = this.groups++;
    if (this.arenaUsed + length > arena.length) {
      const next = new Uint8Array(Math.max(arena.length * 2, this.arenaUsed + length));
      next.set(arena.subarray(0, this.arenaUsed));
      this.arena = next;
    }
    this.arena.set(key.subarray(0, length), this.arenaUsed);
    if (g === this.keyCounts.length) {
      const counts = new Uint32Array(g * 2);
      counts.set(this.keyCounts);
      this.keyCounts = counts;
    }
    this.smallest.push(key.slice());
    this.smallestBytes += key.length;
    const at = slot * SLOT;
    t[at] = g + 1;
    t[at + 1] = h;
    t[at + 2] = this.arenaUsed;
    t[at + 3] = length;
    t[at + 4] = hasNs;
    // Above every key: the first key of the group is its smallest until one below it comes.
    t[at + 5] = -1;
    t[at + 6] = -1;
    this.arenaUsed += length;
    this.slotAt = at;
    if (this.groups * 2 > slots) this.rehash();
    return g;
  }

  private rehash(): void {
    const old = this.table;
    const slots = (old.length / SLOT) * 2;
    if (!this.fits(slots * SLOT * 4)) return;
    const t = new Int32Array(slots * SLOT);
    for (let from = 0; from < old.length; from += SLOT) {
      if (old[from] === 0) continue;
      let slot = old[from + 1]! & (slots - 1);
      while (t[slot * SLOT] !== 0) slot = (slot + 1) & (slots - 1);
      const to = slot * SLOT;
      t.set(old.subarray(from, from + SLOT), to);
      if (from === this.slotAt) this.slotAt = to;
    }
    this.table = t;
  }

  /**
   * The locators (null: none, see the class comment), given the keys the
   * index holds (`arena`, `ends`: entry e is arena[ends[e - 1], ends[e]);
   * `order`: its entries sorted by key); the pairs are sorted by group, their
   * chunks let go.
   */
  finish(arena: Uint8Array, ends: Uint32Array, order: Uint32Array): KeyGroupLocators | null {
    if (this.failed) return null;
    // The groups of the keys the index holds, in key order: a group's keys are one run, looked up once.
    const size = order.length;
    const entryGroups = new Uint32Array(size);
    if (!this.fits(entryGroups.byteLength)) return null;
    const s = this.span;
    let prev: Uint8Array | null = null;
    let prevLength = -1;
    let prevHasNs = false;
    let prevGroup = -1;
    for (let r = 0; r < size; r++) {
      const e = order[r]!;
      const key = arena.subarray(e === 0 ? 0 : ends[e - 1]!, ends[e]!);
      keyGroupSpan(key, 0, key.length, s);
      const hasNs = s.nsStart >= 0;
      const length = hasNs ? s.nsEnd : s.resourceEnd;
      let same = prev !== null && length === prevLength && hasNs === prevHasNs;
      for (let i = 0; same && i < length; i++) if (key[i] !== prev![i]) same = false;
      if (same) {
        // After the run's first key, which was compared with the group's smallest: a larger key.
        this.keyCounts[prevGroup]!++;
      } else {
        const g = this.groupOf(key);
        if (g < 0) return null;
        this.firstKey(key, g);
        prev = key;
        prevLength = length;
        prevHasNs = hasNs;
        prevGroup = g;
      }
      entryGroups[e] = prevGroup;
    }
    const groups = this.groups;
    const identityLengths = new Uint32Array(groups);
    for (let at = 0; at < this.table.length; at += SLOT) if (this.table[at] !== 0) identityLengths[this.table[at]! - 1] = this.table[at + 3]!;
    this.table = new Int32Array(0);
    this.arena = new Uint8Array(0);
    const chunks = this.pairChunks;
    this.pairChunks = [];
    this.chunk = new Uint32Array(0);
    const used = (c: number): number => (c === chunks.length - 1 ? this.pairs - c * CHUNK : CHUNK);
    // Each pair's group in place of its entry, and a group's pair again in the same leaf dropped (NONE).
    const lastLeaf = new Int32Array(groups).fill(-1);
    const starts = new Uint32Array(groups + 1);
    let kept = 0;
    for (let c = 0; c < chunks.length; c++) {
      const chunk = chunks[c]!;
      for (let i = 0, n = used(c); i < n; i++) {
        const noted = chunk[2 * i]!;
        const g = noted & PAST ? noted & ~PAST : entryGroups[noted]!;
        const leaf = chunk[2 * i + 1]!;
        if (lastLeaf[g] === leaf) {
          chunk[2 * i] = NONE;
          continue;
        }
        lastLeaf[g] = leaf;
        chunk[2 * i] = g;
        starts[g + 1]!++;
        kept++;
      }
    }
    // Counting sort of the pairs by group: each group's leaves stay in the walk's order.
    for (let g = 0; g < groups; g++) starts[g + 1]! += starts[g]!;
    const leafOf = new Uint32Array(kept);
    const next = starts.slice(0, groups);
    for (let c = 0; c < chunks.length; c++) {
      const chunk = chunks[c]!;
      for (let i = 0, n = used(c); i < n; i++) if (chunk[2 * i] !== NONE) leafOf[next[chunk[2 * i]!]!++] = chunk[2 * i + 1]!;
      // Let each chunk go once it is sorted in.
      chunks[c] = new Uint32Array(0);
    }
    return new KeyGroupLocators(
      this.leafPages.slice(0, this.leaves),
      this.leafCounts.slice(0, this.leaves),
      starts,
      leafOf,
      this.smallest,
      identityLengths,
      this.keyCounts.slice(0, groups),
    );
  }
}

/** The leaves a filter reads back: their pages and element counts, in the walk's order. */
export interface LeavesToRead {
  pages: Uint32Array;
  counts: Uint32Array;
}

/** Each group's leaves, shared prefix, smallest key and key count, for the whole db. */
export class KeyGroupLocators {
  /** Distinct keys of the whole db. */
  readonly keys: number;
  readonly bytes: number;
  private groupsAnswer: EtcdKeyGroup[] | null = null;

  constructor(
    private readonly leafPages: Uint32Array,
    private readonly leafCounts: Uint32Array,
    /** Group g's leaves are leafOf[starts[g], starts[g + 1]). */
    private readonly starts: Uint32Array,
    private readonly leafOf: Uint32Array,
    private readonly smallest: Uint8Array[],
    /** Every key of group g starts with the first identityLengths[g] bytes of its smallest key. */
    private readonly identityLengths: Uint32Array,
    private readonly keyCounts: Uint32Array,
  ) {
    let keys = 0;
    for (const n of keyCounts) keys += n;
    this.keys = keys;
    let smallestBytes = 0;
    for (const k of smallest) smallestBytes += k.length + 16;
    this.bytes = leafPages.byteLength * 2 + starts.byteLength + leafOf.byteLength + identityLengths.byteLength * 2 + smallestBytes;
  }

  /** Leaves of the db's `key` bucket. */
  get leafCount(): number {
    return this.leafPages.length;
  }

  /** Can group g hold a key starting with `prefix`? (Its keys share its identity: they agree on their common length, or none can.) */
  private mayHold(g: number, prefix: Uint8Array): boolean {
    const shared = this.smallest[g]!;
    const n = Math.min(this.identityLengths[g]!, prefix.length);
    for (let i = 0; i < n; i++) if (shared[i] !== prefix[i]) return false;
    return true;
  }

  /**
   * The leaves holding every revision of every key that starts with
   * `prefix` (and some more: whole groups), in the walk's order; a leaf of
   * several such groups once.
   */
  leavesFor(prefix: Uint8Array): LeavesToRead {
    const groups = this.identityLengths.length;
    let n = 0;
    for (let g = 0; g < groups; g++) if (this.mayHold(g, prefix)) n += this.starts[g + 1]! - this.starts[g]!;
    const ordinals = new Uint32Array(n);
    let at = 0;
    let one = true;
    for (let g = 0; g < groups; g++) {
      if (!this.mayHold(g, prefix)) continue;
      if (at > 0) one = false;
      ordinals.set(this.leafOf.subarray(this.starts[g]!, this.starts[g + 1]!), at);
      at += this.starts[g + 1]! - this.starts[g]!;
    }
    // One group's leaves are in order already; several are merged by leaf number, each once.
    if (!one) ordinals.sort();
    let distinct = 0;
    for (let i = 0; i < n; i++) if (i === 0 || ordinals[i] !== ordinals[i - 1]) ordinals[distinct++] = ordinals[i]!;
    const pages = new Uint32Array(distinct);
    const counts = new Uint32Array(distinct);
    for (let i = 0; i < distinct; i++) {
      pages[i] = this.leafPages[ordinals[i]!]!;
      counts[i] = this.leafCounts[ordinals[i]!]!;
    }
    return { pages, counts };
  }

  /**
   * The groups of the whole db with their exact counts, as an index of all
   * keys would give them: one per resource and namespace text (a namespace
   * '' and none are one), named by its first key and in the order of their
   * first keys.
   */
  groups(): EtcdKeyGroup[] {
    if (!this.groupsAnswer) {
      const span: KeyGroupSpan = { registry: false, resourceStart: 0, resourceEnd: 0, nsStart: -1, nsEnd: -1 };
      const byId = new Map<string, { first: Uint8Array; count: number }>();
      for (let g = 0; g < this.smallest.length; g++) {
        const first = this.smallest[g]!;
        keyGroupSpan(first, 0, first.length, span);
        const text = utf8.decode(first.subarray(span.resourceStart, span.resourceEnd));
        const resource = span.registry ? text : text ? `(${text})` : '(other)';
        const namespace = span.nsStart >= 0 ? utf8.decode(first.subarray(span.nsStart, span.nsEnd)) : '';
        // Groups whose bytes differ but whose text is the same (invalid UTF-8) are one, as in the index.
        const id = `${resource}\0${namespace}`;
        const had = byId.get(id);
        if (!had) byId.set(id, { first, count: this.keyCounts[g]! });
        else {
          had.count += this.keyCounts[g]!;
          if (before(first, had.first)) had.first = first;
        }
      }
      const all = [...byId.values()].sort((a, b) => (before(a.first, b.first) ? -1 : before(b.first, a.first) ? 1 : 0));
      this.groupsAnswer = all.map(({ first, count }) => {
        keyGroupSpan(first, 0, first.length, span);
        const text = utf8.decode(first.subarray(span.resourceStart, span.resourceEnd));
        return {
          resource: span.registry ? text : text ? `(${text})` : '(other)',
          namespace: span.nsStart >= 0 ? utf8.decode(first.subarray(span.nsStart, span.nsEnd)) : null,
          count,
        };
      });
    }
    return this.groupsAnswer.map((g) => ({ ...g }));
  }
}
