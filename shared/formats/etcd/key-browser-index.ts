/**
 * The key browser's index: built once per opened db (one walk of the `key`
 * bucket), then every page, prefix, substring and group query is answered
 * from it without reading the db again, and strings are made only for the
 * rows a page returns.
 *
 * Why not a string and an object per key (what the browser did before): a
 * db of 8 million keys took a minute and 2.9 GB per query. Here the distinct
 * keys' bytes sit in one arena and what a row needs in typed-array columns
 * (newest revision's page and element, mod and create revision, history
 * count, tombstone), about 40 bytes a key besides its bytes; a sort by key
 * bytes (etcd's own order) gives the rows; group boundaries are found once.
 * A prefix is then two binary searches, a substring a byte search over the
 * arena, a page a slice of rows whose other fields (version, lease, value
 * size, the Kubernetes metadata) are read back from their page and element.
 *
 * Bounded: an index holds at most `budgetBytes` (key bytes, columns and,
 * while it is built, its hash table). Past it, it takes no new key: its rows
 * are then the first keys of the walk (each exact: a key it holds keeps
 * counting its revisions), the answer says `indexLimited`, and a prefix or
 * search is answered by an index of only the matching keys, bounded by the
 * same budget (EtcdKeyBrowser). That index is read from the leaves of the
 * groups the prefix falls in when the first walk noted where each group's
 * keys are (key-browser-locators.ts: a namespace reads its own leaves, not
 * the db), else by a walk of the whole db (a search without a prefix, a
 * prefix spanning most leaves); the same notes count every key and group of
 * the db, so the list of all keys gives exact group counts and `keysInDb`.
 */
import { EtcdQueryError } from './query-error';
import type { ByteSource } from '../../bytes/byte-source';
import type { EtcdKeyGroup, EtcdKeyItem, EtcdKeyPage, EtcdQuery } from '../../contract/etcd';
import type { OpenedBbolt } from './bbolt-walk';
import type { KeyValue } from './kv';
import { summarizeK8sValue } from './k8s-value';
import { hashKeyBytes } from './key-hash';
import { keyGroupSpan, type KeyGroupSpan } from './key-browser-groups';
import { forEachRevision, forEachRevisionInLeaves, LeafChangedError, openForKeys, revisionAt } from './key-browser-walk';
import { KeyGroupLocatorBuilder, KeyTaken, type KeyGroupLocators, type LeavesToRead } from './key-browser-locators';

/** Bytes one index may hold (a browser holds at most two: the whole db's and one filtered). */
export const KEY_BROWSER_BUDGET_BYTES = 160 * 1024 * 1024;

/** Column bytes per key while building: end offset 4, hash 4, page 4, element 2, mod 8, create 8, history 4, flags 1. */
const ENTRY_BYTES = 35;
const TOMBSTONE = 1;
/** A byte of the key is not ASCII: a search folds its case on the decoded text (toLowerCase), not byte by byte. */
const NON_ASCII = 2;

const utf8 = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();

/** ASCII lower case of every byte (others unchanged). */
const LOWER = new Uint8Array(256);
for (let i = 0; i < 256; i++) LOWER[i] = i >= 0x41 && i <= 0x5a ? i + 32 : i;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Which keys a query keeps: those starting with `prefix` (bytes) whose text,
 * lower-cased, contains `search` lower-cased, as the browser always matched.
 */
export class KeyMatcher {
  readonly prefix: Uint8Array | null;
  /** The search lower-cased, as text and (when it is ASCII) as bytes; null: no search. */
  readonly searchText: string | null;
  /** The search as ASCII bytes, when it is ASCII (an ASCII key can match only then). */
  readonly searchBytes: Uint8Array | null;

  constructor(prefix: string | undefined, search: string | undefined) {
    this.prefix = prefix ? encoder.encode(prefix) : null;
    this.searchText = search ? search.toLowerCase() : null;
    // eslint-disable-next-line no-control-regex -- ASCII is U+0000..U+007F
    this.searchBytes = this.searchText !== null && /^[\x00-\x7f]*$/.test(this.searchText) ? encoder.encode(this.searchText) : null;
  }

  get searches(): boolean {
    return this.searchText !== null;
  }

  /** Every key `m` matches is one this matches too: its prefix extends this prefix, and this search (if any) is its search. */
  covers(m: KeyMatcher): boolean {
    if (this.searchText !== null && this.searchText !== m.searchText) return false;
    const p = this.prefix;
    if (!p) return true;
    const q = m.prefix;
    if (!q || q.length < p.length) return false;
    for (let i = 0; i < p.length; i++) if (q[i] !== p[i]) return false;
    return true;
  }

  /** Does `b[start, end)` start with the prefix? */
  hasPrefix(b: Uint8Array, start: number, end: number): boolean {
    const p = this.prefix;
    if (!p) return true;
    if (end - start < p.length) return false;
    for (let i = 0; i < p.length; i++) if (b[start + i] !== p[i]) return false;
    return true;
  }

  /** Does the key `b[start, end)` contain the search (`nonAscii`: it has a byte ≥ 0x80)? */
  hasSearch(b: Uint8Array, start: number, end: number, nonAscii: boolean): boolean {
    const text = this.searchText;
    if (text === null) return true;
    if (nonAscii) return utf8.decode(b.subarray(start, end)).toLowerCase().includes(text);
    // An ASCII key lower-cased is ASCII: it cannot contain a search that is not.
    const s = this.searchBytes;
    if (!s) return false;
    const m = s.length;
    if (m === 0) return true;
    const first = s[0]!;
    for (let i = start, last = end - m; i <= last; i++) {
      if (LOWER[b[i]!] !== first) continue;
      let j = 1;
      while (j < m && LOWER[b[i + j]!] === s[j]) j++;
      if (j === m) return true;
    }
    return false;
  }

  /** Does a key (its bytes) match? */
  matches(key: Uint8Array): boolean {
    return this.matchesRange(key, 0, key.length);
  }

  /**
   * Does the key `b[start, end)` match? One pass over its bytes: an ASCII search found in them matches (the
   * decoded text, lower-cased, holds the same ASCII run); not found, a key with a byte >= 0x80 is matched on its
   * decoded text (hasSearch). A walk past the index asks this of every revision of the db (4M keys: a separate
   * pass to find non-ASCII bytes was a quarter of a search's CPU).
   */
  matchesRange(b: Uint8Array, start: number, end: number): boolean {
    if (!this.hasPrefix(b, start, end)) return false;
    if (this.searchText === null) return true;
    const s = this.searchBytes;
    if (s === null || s.length === 0) return this.hasSearch(b, start, end, this.hasNonAscii(b, start, end));
    const m = s.length;
    const first = s[0]!;
    let nonAscii = false;
    for (let i = start, last = end - m; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) nonAscii = true;
      if (i > last || LOWER[c] !== first) continue;
      let j = 1;
      while (j < m && LOWER[b[i + j]!] === s[j]) j++;
      if (j === m) return true;
    }
    return nonAscii && this.hasSearch(b, start, end, true);
  }

  private hasNonAscii(b: Uint8Array, start: number, end: number): boolean {
    for (let i = start; i < end; i++) if (b[i]! >= 0x80) return true;
    return false;
  }
}

/** The distinct keys of a walk, deduplicated by a hash table, their columns growing within the budget. */
class IndexBuilder {
  // Small at first: a small budget (a test's) holds from the first key on.
  arena = new Uint8Array(4096);
  used = 0;
  capacity = 64;
  ends = new Uint32Array(this.capacity);
  hashes = new Int32Array(this.capacity);
  page = new Uint32Array(this.capacity);
  element = new Uint16Array(this.capacity);
  mod = new Float64Array(this.capacity);
  create = new Float64Array(this.capacity);
  history = new Uint32Array(this.capacity);
  flags = new Uint8Array(this.capacity);
  slots = new Int32Array(128).fill(-1);
  size = 0;
  /** A new key was refused: holding it would have passed the budget. */
  full = false;
  /** The last key `add` was given: its entry (when held) and its hashKeyBytes. */
  lastEntry = -1;
  lastHash = 0;
  /** The most bytes held at once. */
  peakBytes = 0;

  constructor(private readonly budgetBytes: number) {
    this.peakBytes = this.bytes;
  }

  get bytes(): number {
    return this.arena.length + this.capacity * ENTRY_BYTES + this.slots.length * 4;
  }

  /** One revision of `kv.key` (newest kept, as the browser always did: a later equal main revision wins); how it took the key. */
  add(rev: { main: number; tombstone: boolean }, kv: KeyValue, page: number, element: number): KeyTaken {
    const key = kv.key;
    const h = hashKeyBytes(key);
    this.lastHash = h;
    this.lastEntry = -1;
    const mask = this.slots.length - 1;
    let slot = h & mask;
    for (;;) {
      const e = this.slots[slot]!;
      if (e < 0) break;
      if (this.hashes[e] === h && this.equals(e, key)) {
        if (this.mod[e]! > rev.main) {
          this.history[e]!++;
          // An older put seen after the newest revision (leaves read in page order, not key order, when no meta
          // leads to a tree): a tombstone keeps the create revision of the generation before it, the largest of its
          // older puts' (each generation starts after the one before).
          if (!rev.tombstone && kv.createRevision > this.create[e]!) this.create[e] = kv.createRevision;
        } else this.update(e, rev, kv, page, element);
        this.lastEntry = e;
        return KeyTaken.Held;
      }
      slot = (slot + 1) & mask;
    }
    // Once full, no key is taken (not even a shorter one that would fit): the rows are the first keys of the walk.
    if (this.full || !this.makeRoom(key.length)) {
      this.full = true;
      return KeyTaken.Refused;
    }
    const e = this.size++;
    this.lastEntry = e;
    this.arena.set(key, this.used);
    this.used += key.length;
    this.ends[e] = this.used;
    this.hashes[e] = h;
    let flags = 0;
    for (let i = 0; i < key.length; i++) if (key[i]! >= 0x80) flags = NON_ASCII;
    this.flags[e] = flags;
    this.create[e] = 0;
    this.history[e] = 0;
    this.update(e, rev, kv, page, element);
    if (this.size * 2 > this.slots.length) this.rehash();
    else this.slots[slot] = e;
    return KeyTaken.New;
  }

  private update(e: number, rev: { main: number; tombstone: boolean }, kv: KeyValue, page: number, element: number): void {
    // A tombstone keeps the create revision the key had (its own KeyValue has none).
    if (!rev.tombstone) this.create[e] = kv.createRevision;
    this.mod[e] = rev.main;
    this.flags[e] = (this.flags[e]! & ~TOMBSTONE) | (rev.tombstone ? TOMBSTONE : 0);
    this.history[e]!++;
    this.page[e] = page;
    this.element[e] = element;
  }

  private equals(e: number, key: Uint8Array): boolean {
    const at = e === 0 ? 0 : this.ends[e - 1]!;
    if (this.ends[e]! - at !== key.length) return false;
    const arena = this.arena;
    for (let i = 0; i < key.length; i++) if (arena[at + i] !== key[i]) return false;
    return true;
  }

  /** Grow what one more key of `keyBytes` needs, unless that passes the budget (the arena grows only as far as it allows). */
  private makeRoom(keyBytes: number): boolean {
    const needArena = this.used + keyBytes;
    if (needArena > 0xffff_ffff) return false;
    let arenaLength = needArena > this.arena.length ? Math.min(0xffff_ffff, Math.max(this.arena.length * 2, needArena)) : this.arena.length;
    let capacity = this.size + 1 > this.capacity ? this.capacity * 2 : this.capacity;
    const slots = (this.size + 1) * 2 > this.slots.length ? this.slots.length * 2 : this.slots.length;
    if (arenaLength === this.arena.length && capacity === this.capacity && slots === this.slots.length) return true;
    if (capacity > this.capacity && Math.max(needArena, this.arena.length) + capacity * ENTRY_BYTES + slots * 4 > this.budgetBytes) {
      // Doubling the columns would pass the budget: grow them as far as the budget holds keys of the average length so far.
      const perKey = ENTRY_BYTES + needArena / (this.size + 1);
      const arenaNow = Math.max(needArena, this.arena.length);
      capacity = Math.min(capacity, Math.floor((this.budgetBytes - slots * 4) / perKey), Math.floor((this.budgetBytes - slots * 4 - arenaNow) / ENTRY_BYTES));
      // Not by a few slots at a time (each growth copies the columns): a sixteenth more at least, or full.
      if (capacity < this.capacity + Math.max(64, this.capacity >> 4)) return false;
    }
    const others = capacity * ENTRY_BYTES + slots * 4;
    if (arenaLength + others > this.budgetBytes && arenaLength > this.arena.length) arenaLength = Math.max(needArena, this.budgetBytes - others);
    if (arenaLength + others > this.budgetBytes) return false;
    if (arenaLength !== this.arena.length) {
      const next = new Uint8Array(arenaLength);
      next.set(this.arena.subarray(0, this.used));
      this.arena = next;
    }
    if (capacity !== this.capacity) this.growColumns(capacity);
    // The table itself grows in `add` (rehash), once the key is in.
    this.peakBytes = Math.max(this.peakBytes, arenaLength + others);
    return true;
  }

  private growColumns(n: number): void {
    const grow = <T extends Uint32Array | Int32Array | Uint16Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const next = make(n);
      next.set(a);
      return next;
    };
    this.ends = grow(this.ends, (k) => new Uint32Array(k));
    this.hashes = grow(this.hashes, (k) => new Int32Array(k));
    this.page = grow(this.page, (k) => new Uint32Array(k));
    this.element = grow(this.element, (k) => new Uint16Array(k));
    this.mod = grow(this.mod, (k) => new Float64Array(k));
    this.create = grow(this.create, (k) => new Float64Array(k));
    this.history = grow(this.history, (k) => new Uint32Array(k));
    this.flags = grow(this.flags, (k) => new Uint8Array(k));
    this.capacity = n;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let e = 0; e < this.size; e++) {
      let i = this.hashes[e]! & mask;
      while (slots[i]! >= 0) i = (i + 1) & mask;
      slots[i] = e;
    }
    this.slots = slots;
  }

  /** The index of the keys held (the table is dropped: the rows are looked up by binary search from now on). */
  finish(filter: KeyMatcher | null): KeyBrowserIndex {
    const n = this.size;
    this.slots = new Int32Array(0);
    this.hashes = new Int32Array(0);
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    sortByKeyBytes(order, this.arena, this.ends);
    return new KeyBrowserIndex(this, order, filter);
  }
}

/**
 * Sort entry numbers by their keys' bytes (shorter first on a common
 * prefix): a three-way radix quicksort, four bytes a step, which does not
 * compare again the long prefixes Kubernetes keys share (`/registry/pods/ns/`).
 */
function sortByKeyBytes(order: Uint32Array, arena: Uint8Array, ends: Uint32Array): void {
  /** Four bytes from `d` as one number (each byte + 1, 0 past the end), so order by word is order by bytes. */
  const word = (e: number, d: number): number => {
    const start = (e === 0 ? 0 : ends[e - 1]!) + d;
    const end = ends[e]!;
    let v = 0;
    for (let k = 0; k < 4; k++) v = v * 257 + (start + k < end ? arena[start + k]! + 1 : 0);
    return v;
  };
  const compareFrom = (a: number, b: number, d: number): number => {
    const sa = (a === 0 ? 0 : ends[a - 1]!) + d;
    const sb = (b === 0 ? 0 : ends[b - 1]!) + d;
    const la = ends[a]! - sa;
    const lb = ends[b]! - sb;
    const n = Math.min(la, lb);
    for (let i = 0; i < n; i++) {
      const x = arena[sa + i]!;
      const y = arena[sb + i]!;
      if (x !== y) return x - y;
    }
    return la - lb;
  };
  const swap = (i: number, j: number): void => {
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  };
  const stack: number[] = [0, order.length, 0];
  while (stack.length > 0) {
    let d = stack.pop()!;
    let hi = stack.pop()!;
    let lo = stack.pop()!;
    while (hi - lo > 1) {
      if (hi - lo <= 16) {
        for (let i = lo + 1; i < hi; i++) for (let j = i; j > lo && compareFrom(order[j - 1]!, order[j]!, d) > 0; j--) swap(j - 1, j);
        break;
      }
      const pivot = word(order[lo + ((hi - lo) >> 1)]!, d);
      let lt = lo;
      let gt = hi - 1;
      let i = lo;
      while (i <= gt) {
        const w = word(order[i]!, d);
        if (w < pivot) swap(lt++, i++);
        else if (w > pivot) swap(i, gt--);
        else i++;
      }
      stack.push(lo, lt, d, gt + 1, hi, d);
      // Keys equal in a word that ends them are one key (they are distinct): nothing left to order.
      if (pivot % 257 === 0) break;
      lo = lt;
      hi = gt + 1;
      d += 4;
    }
  }
}

/** A group's text from its span. */
function spanGroup(a: Uint8Array, span: KeyGroupSpan): { resource: string; namespace: string | null } {
  const text = utf8.decode(a.subarray(span.resourceStart, span.resourceEnd));
  return {
    resource: span.registry ? text : text ? `(${text})` : '(other)',
    namespace: span.nsStart >= 0 ? utf8.decode(a.subarray(span.nsStart, span.nsEnd)) : null,
  };
}

/** Rows of a query: a range of the sorted keys, or (a search) the matching rows in order. */
interface RowSet {
  from: number;
  to: number;
  rows: Uint32Array | null;
  total: number;
}

/** The newest revision of one key, where the index saw it. */
export interface KeyLocation {
  main: number;
  tombstone: boolean;
  page: number;
  element: number;
}

/** The index of a walk's keys, sorted by their bytes. */
export class KeyBrowserIndex {
  readonly size: number;
  /** It refused keys past its budget: its rows are the first keys of the walk, not all. */
  readonly limited: boolean;
  /** The most bytes it held (while it was built), and what it holds now. */
  readonly peakBytes: number;
  readonly bytes: number;
  /** Which keys it was built of (null: all). */
  readonly filter: KeyMatcher | null;
  private readonly arena: Uint8Array;
  private readonly ends: Uint32Array;
  private readonly page: Uint32Array;
  private readonly element: Uint16Array;
  private readonly mod: Float64Array;
  private readonly create: Float64Array;
  private readonly history: Uint32Array;
  private readonly flags: Uint8Array;
  /** Row -> entry (sorted by key bytes), and row -> group. */
  private readonly order: Uint32Array;
  private readonly rowGroup: Uint32Array;
  /** Groups by number (the first key of each in sorted order names it). */
  private readonly groupList: { resource: string; namespace: string | null }[] = [];
  private allGroups: EtcdKeyGroup[] | null = null;

  constructor(b: IndexBuilder, order: Uint32Array, filter: KeyMatcher | null) {
    this.size = b.size;
    this.limited = b.full;
    this.filter = filter;
    this.arena = b.arena;
    this.ends = b.ends;
    this.page = b.page;
    this.element = b.element;
    this.mod = b.mod;
    this.create = b.create;
    this.history = b.history;
    this.flags = b.flags;
    this.order = order;
    this.rowGroup = new Uint32Array(this.size);
    this.groupRows();
    // The build's hash table and hashes are gone (4 of ENTRY_BYTES); the row order and groups came.
    this.bytes = b.arena.length + b.capacity * (ENTRY_BYTES - 4) + order.byteLength + this.rowGroup.byteLength;
    this.peakBytes = Math.max(b.peakBytes, this.bytes);
  }

  private start(e: number): number {
    return e === 0 ? 0 : this.ends[e - 1]!;
  }

  /** The group of every row: a string is made only where the group's bytes change from the row before. */
  private groupRows(): void {
    const ids = new Map<string, number>();
    let prev: KeyGroupSpan = { registry: false, resourceStart: 0, resourceEnd: 0, nsStart: -1, nsEnd: -1 };
    let cur: KeyGroupSpan = { registry: false, resourceStart: 0, resourceEnd: 0, nsStart: -1, nsEnd: -1 };
    const a = this.arena;
    const same = (x: KeyGroupSpan, y: KeyGroupSpan): boolean => {
      if (x.registry !== y.registry || x.resourceEnd - x.resourceStart !== y.resourceEnd - y.resourceStart || x.nsEnd - x.nsStart !== y.nsEnd - y.nsStart)
        return false;
      if (x.nsStart < 0 !== y.nsStart < 0) return false;
      for (let i = 0; i < x.resourceEnd - x.resourceStart; i++) if (a[x.resourceStart + i] !== a[y.resourceStart + i]) return false;
      for (let i = 0; i < x.nsEnd - x.nsStart; i++) if (a[x.nsStart + i] !== a[y.nsStart + i]) return false;
      return true;
    };
    for (let row = 0; row < this.size; row++) {
      const e = this.order[row]!;
      keyGroupSpan(a, this.start(e), this.ends[e]!, cur);
      if (row > 0 && same(prev, cur)) {
        this.rowGroup[row] = this.rowGroup[row - 1]!;
      } else {
        const { resource, namespace } = spanGroup(a, cur);
        // The same id the browser always used (a namespace of '' and none are one group).
        const id = `${resource}\0${namespace ?? ''}`;
        let g = ids.get(id);
        if (g === undefined) {
          g = this.groupList.length;
          this.groupList.push({ resource, namespace });
          ids.set(id, g);
        }
        this.rowGroup[row] = g;
      }
      const t = prev;
      prev = cur;
      cur = t;
    }
  }

  /** The keys it holds, by entry, and the entries in key order (for the notes of where each group is: entry e is arena[ends[e - 1], ends[e])). */
  get heldKeys(): { arena: Uint8Array; ends: Uint32Array; order: Uint32Array } {
    return { arena: this.arena, ends: this.ends, order: this.order };
  }

  /** The group of one row, as text. */
  private groupOfRow(row: number): { resource: string; namespace: string | null } {
    const e = this.order[row]!;
    const span: KeyGroupSpan = { registry: false, resourceStart: 0, resourceEnd: 0, nsStart: -1, nsEnd: -1 };
    keyGroupSpan(this.arena, this.start(e), this.ends[e]!, span);
    return spanGroup(this.arena, span);
  }

  /** Compare row `row`'s key with `p` on p's length: <0 before every key starting with p, 0 starts with it, >0 after. */
  private comparePrefix(row: number, p: Uint8Array): number {
    const e = this.order[row]!;
    const s = this.start(e);
    const len = this.ends[e]! - s;
    const n = Math.min(len, p.length);
    for (let i = 0; i < n; i++) {
      const d = this.arena[s + i]! - p[i]!;
      if (d !== 0) return d;
    }
    return len < p.length ? -1 : 0;
  }

  /** The first row for which `after(row)` holds (rows are sorted: false then true). */
  private firstRow(after: (row: number) => boolean): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (after(mid)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Rows matching `m`: a prefix is two binary searches, a search a byte search over those rows' keys. */
  rowsOf(m: KeyMatcher): RowSet {
    let from = 0;
    let to = this.size;
    const p = m.prefix;
    if (p) {
      from = this.firstRow((r) => this.comparePrefix(r, p) >= 0);
      to = this.firstRow((r) => this.comparePrefix(r, p) > 0);
    }
    if (!m.searches) return { from, to, rows: null, total: to - from };
    const hits = new Uint32Array(to - from);
    let n = 0;
    const a = this.arena;
    if (from === 0 && to === this.size) {
      // The whole arena in entry order (sequential reads), then the hits in row order.
      const hit = this.searchArena(m);
      for (let row = 0; row < this.size; row++) if (hit[this.order[row]!]) hits[n++] = row;
    } else {
      for (let row = from; row < to; row++) {
        const e = this.order[row]!;
        if (m.hasSearch(a, this.start(e), this.ends[e]!, (this.flags[e]! & NON_ASCII) !== 0)) hits[n++] = row;
      }
    }
    return { from, to, rows: hits.slice(0, n), total: n };
  }

  /**
   * Which entries contain the search: one pass over the whole arena (the
   * keys lie in it one after another) for the ASCII keys, the text's own
   * lower case for the others.
   */
  private searchArena(m: KeyMatcher): Uint8Array {
    const hit = new Uint8Array(this.size);
    const a = this.arena;
    const ends = this.ends;
    const s = m.searchBytes;
    if (s && s.length > 0 && this.size > 0) {
      const len = s.length;
      const first = s[0]!;
      // The search is lower case: its first byte matches itself or, for a letter, its upper case.
      const firstUpper = first >= 0x61 && first <= 0x7a ? first - 32 : first;
      const used = ends[this.size - 1]!;
      let e = 0;
      for (let i = 0, last = used - len; i <= last; i++) {
        const c = a[i]!;
        if (c !== first && c !== firstUpper) continue;
        while (ends[e]! <= i) e++;
        if (i + len > ends[e]!) continue;
        let j = 1;
        while (j < len && LOWER[a[i + j]!] === s[j]) j++;
        if (j === len) {
          hit[e] = 1;
          // The rest of this key need not be searched.
          i = ends[e]! - 1;
        }
      }
    } else if (s) {
      hit.fill(1);
    }
    for (let e = 0; e < this.size; e++) if (this.flags[e]! & NON_ASCII) hit[e] = m.hasSearch(a, this.start(e), ends[e]!, true) ? 1 : 0;
    return hit;
  }

  /** Groups of a row set with their counts, in the order they first appear. */
  groupsOf(set: RowSet): EtcdKeyGroup[] {
    const whole = set.rows === null && set.from === 0 && set.to === this.size;
    if (whole && this.allGroups) return this.allGroups.map((g) => ({ ...g }));
    const counts = new Uint32Array(this.groupList.length);
    const seen: number[] = [];
    const firstRows: number[] = [];
    const count = (row: number): void => {
      const g = this.rowGroup[row]!;
      if (counts[g]++ === 0) {
        seen.push(g);
        firstRows.push(row);
      }
    };
    if (set.rows) for (const row of set.rows) count(row);
    else for (let row = set.from; row < set.to; row++) count(row);
    // Named by their first key in this set, as the walk named them (a namespace '' and none are one group, named by the first).
    const groups = seen.map((g, i) => ({ ...this.groupOfRow(firstRows[i]!), count: counts[g]! }));
    if (whole) this.allGroups = groups.map((g) => ({ ...g }));
    return groups;
  }

  /** The row at position `i` of a row set. */
  rowAt(set: RowSet, i: number): number {
    return set.rows ? set.rows[i]! : set.from + i;
  }

  keyBytes(row: number): Uint8Array {
    const e = this.order[row]!;
    return this.arena.subarray(this.start(e), this.ends[e]!);
  }

  location(row: number): KeyLocation {
    const e = this.order[row]!;
    return { main: this.mod[e]!, tombstone: (this.flags[e]! & TOMBSTONE) !== 0, page: this.page[e]!, element: this.element[e]! };
  }

  createRevision(row: number): number {
    return this.create[this.order[row]!]!;
  }

  historyCount(row: number): number {
    return this.history[this.order[row]!]!;
  }

  /** The row of exactly `key`, or -1. */
  find(key: Uint8Array): number {
    const row = this.firstRow((r) => this.comparePrefix(r, key) >= 0);
    if (row < this.size) {
      const b = this.keyBytes(row);
      if (sameBytes(b, key)) return row;
    }
    return -1;
  }
}

/**
 * Walk the db once, keeping the keys `filter` matches (all when null),
 * within `budgetBytes`; with `locators`, noting where each group's keys are
 * (for the whole db's index, in case it passes its budget).
 */
export async function buildKeyBrowserIndex(
  db: OpenedBbolt,
  filter: KeyMatcher | null,
  budgetBytes: number = KEY_BROWSER_BUDGET_BYTES,
  locators?: KeyGroupLocatorBuilder,
  /** Asked at each leaf: true stops the walk (EtcdQueryError `interrupted`; nothing of it is kept). */
  interrupted?: () => boolean,
): Promise<KeyBrowserIndex> {
  const b = new IndexBuilder(budgetBytes);
  // A key the fast read of its KeyValue's first field cannot find is decoded whole, then matched.
  const keep = filter ? (b: Uint8Array, start: number, end: number) => filter.matchesRange(b, start, end) : undefined;
  const onLeaf =
    locators || interrupted
      ? (page: number, inline: boolean, elements: number) => {
          if (interrupted?.()) throw new EtcdQueryError('interrupted', 'stopped: a newer search replaced this one');
          locators?.leaf(page, inline, elements);
        }
      : undefined;
  await forEachRevision(
    db,
    (rev, kv, page, element) => {
      if (filter && !filter.matches(kv.key)) return;
      const taken = b.add(rev, kv, page, element);
      locators?.revision(kv.key, taken, b.lastEntry, b.lastHash);
    },
    undefined,
    keep,
    onLeaf,
  );
  return b.finish(filter);
}

/**
 * The index of the keys `filter` matches, from the given leaves only (the
 * leaves of the groups its prefix falls in, in the walk's order): the same
 * index as `buildKeyBrowserIndex` gives, for none of the other leaves holds
 * such a key. LeafChangedError when a leaf no longer holds what the walk saw.
 */
export async function buildKeyBrowserIndexFromLeaves(
  db: OpenedBbolt,
  filter: KeyMatcher,
  leaves: LeavesToRead,
  budgetBytes: number = KEY_BROWSER_BUDGET_BYTES,
): Promise<KeyBrowserIndex> {
  const b = new IndexBuilder(budgetBytes);
  await forEachRevisionInLeaves(
    db,
    leaves.pages,
    leaves.counts,
    (rev, kv, page, element) => {
      if (filter.matches(kv.key)) b.add(rev, kv, page, element);
    },
    (bytes, start, end) => filter.matchesRange(bytes, start, end),
  );
  return b.finish(filter);
}

export interface EtcdKeyBrowserOptions {
  /** Bytes each of its (at most two) indexes may hold; KEY_BROWSER_BUDGET_BYTES by default. */
  budgetBytes?: number;
  /** Bytes the notes of where each group's keys are may hold while the whole db's index is built; KEY_BROWSER_BUDGET_BYTES by default. */
  locatorBudgetBytes?: number;
  /** Smallest db whose walks another thread reads ahead (bbolt-walk.ts READ_AHEAD_MIN_BYTES; tests set it lower). */
  readAheadMinBytes?: number;
}

/**
 * A filter past the budget reads back its groups' leaves when they are at
 * most this share of the db's leaves; more, and the walk (reads in large
 * sequential chunks) costs less than a read per leaf: a leaf read back cost
 * ~3x its share of a walk (2M keys: one resource on ~90% of the leaves,
 * 6.4 s read back against 2.1-2.9 s walked), so the two meet near a third.
 */
const READ_BACK_MAX_SHARE = 0.25;

/**
 * The key browser of one opened db: its index, built at the first query and
 * kept for the next ones, and (when the db has more keys than the index may
 * hold) the index of the last prefix or search. Queries run one at a time.
 * Whoever keeps it keeps `src` open: it reads rows back from it.
 */
export class EtcdKeyBrowser {
  private db: Promise<OpenedBbolt> | null = null;
  private whole: Promise<KeyBrowserIndex> | null = null;
  /** Where each group's keys are, when the whole db's index passed its budget (null: within it, or no notes). */
  private locators: KeyGroupLocators | null = null;
  private filtered: { id: string; index: Promise<KeyBrowserIndex> } | null = null;
  /** The last query's rows (paging through one filter reuses them). */
  private lastRows: { index: KeyBrowserIndex; id: string; set: RowSet; groups: EtcdKeyGroup[] } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly budgetBytes: number;
  private readonly locatorBudgetBytes: number;

  constructor(
    readonly src: ByteSource,
    opts: EtcdKeyBrowserOptions = {},
  ) {
    this.budgetBytes = opts.budgetBytes ?? KEY_BROWSER_BUDGET_BYTES;
    this.locatorBudgetBytes = opts.locatorBudgetBytes ?? KEY_BROWSER_BUDGET_BYTES;
    this.readAheadMinBytes = opts.readAheadMinBytes;
  }

  private readonly readAheadMinBytes: number | undefined;

  /**
   * The db the index walks read, with a reader of its own that reuses its buffers (no garbage chunk per read,
   * blocking reads, and a big db's chunks read ahead by another thread: a 4M-key db's substring walk took a
   * third less CPU); the walks run one at a time (`serial`), and what they keep is copied. Rows and values
   * are read back through `opened()`, whose views stay valid.
   */
  private walked: Promise<OpenedBbolt> | null = null;

  private walkDb(): Promise<OpenedBbolt> {
    if (!this.walked) {
      const p = openForKeys(this.src, { recycleReads: true, readAheadMinBytes: this.readAheadMinBytes });
      this.walked = p;
      p.catch(() => {
        if (this.walked === p) this.walked = null;
      });
    }
    return this.walked;
  }

  private opened(): Promise<OpenedBbolt> {
    if (!this.db) {
      const p = openForKeys(this.src);
      this.db = p;
      // A failure is not kept: the next query tries again.
      p.catch(() => {
        if (this.db === p) this.db = null;
      });
    }
    return this.db;
  }

  /** The index of all keys (built at the first call). */
  index(): Promise<KeyBrowserIndex> {
    if (!this.whole) {
      const p = this.walkDb().then(async (db) => {
        const notes = new KeyGroupLocatorBuilder(this.locatorBudgetBytes);
        const index = await buildKeyBrowserIndex(db, null, this.budgetBytes, notes);
        // Kept only past the budget (within it, the index answers every filter).
        this.locators = index.limited ? notes.finish(index.heldKeys.arena, index.heldKeys.ends, index.heldKeys.order) : null;
        return index;
      });
      this.whole = p;
      p.catch(() => {
        if (this.whole === p) this.whole = null;
      });
    }
    return this.whole;
  }

  /** The index a query is answered from: the whole db's, or past its budget, one of the query's matching keys. */
  private async indexFor(m: KeyMatcher, id: string, interrupted?: () => boolean): Promise<KeyBrowserIndex> {
    const whole = await this.index();
    if (!whole.limited || (!m.prefix && !m.searches)) return whole;
    if (this.filtered?.id !== id) {
      // A narrower query (a search typed in a namespace, a longer prefix) is answered by the exact index it held.
      const held = this.filtered ? await this.filtered.index.catch(() => null) : null;
      if (held?.filter && !held.limited && held.filter.covers(m)) return held;
      // The previous filter's index is let go before the next one is built: at most two are held.
      this.filtered = null;
      if (this.lastRows?.index !== whole) this.lastRows = null;
      const db = await this.walkDb();
      this.filtered = { id, index: this.buildFiltered(db, m, interrupted) };
      const f = this.filtered;
      f.index.catch(() => {
        if (this.filtered === f) this.filtered = null;
      });
    }
    return this.filtered.index;
  }

  /**
   * The index of a filter past the budget: from its groups' leaves when a
   * prefix falls in few enough groups, else (or when a leaf changed since the
   * walk) by a walk of the whole db.
   */
  private async buildFiltered(db: OpenedBbolt, m: KeyMatcher, interrupted?: () => boolean): Promise<KeyBrowserIndex> {
    const locators = this.locators;
    if (locators && m.prefix) {
      const leaves = locators.leavesFor(m.prefix);
      if (leaves.pages.length <= locators.leafCount * READ_BACK_MAX_SHARE) {
        try {
          return await buildKeyBrowserIndexFromLeaves(db, m, leaves, this.budgetBytes);
        } catch (e) {
          if (!(e instanceof LeafChangedError)) throw e;
        }
      }
    }
    return buildKeyBrowserIndex(db, m, this.budgetBytes, undefined, interrupted);
  }

  /** Run `fn` after the queries before it (one index build at a time). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * One page of keys (newest revision each), with the groups of all keys that match. `interrupted` is asked
   * during a filter's walk of the whole db (past the index): true stops it (the whole db's index, kept for
   * every query, is built to the end).
   */
  listKeys(query: Extract<EtcdQuery, { kind: 'keys' }>, interrupted?: () => boolean): Promise<EtcdKeyPage> {
    return this.serial(() => this.answer(query, interrupted));
  }

  private async answer(query: Extract<EtcdQuery, { kind: 'keys' }>, interrupted?: () => boolean): Promise<EtcdKeyPage> {
    const m = new KeyMatcher(query.prefix, query.search);
    const id = `${query.prefix ?? ''}\0${query.search ?? ''}`;
    const index = await this.indexFor(m, id, interrupted);
    // Paging through one filter: its rows and groups are the last query's.
    let last = this.lastRows;
    // Past the budget, the whole list's groups and total are the notes' (exact), not the held keys'.
    const counted = index.limited && !index.filter && !m.prefix && !m.searches ? this.locators : null;
    if (!last || last.index !== index || last.id !== id) {
      const set = index.rowsOf(m);
      last = this.lastRows = { index, id, set, groups: counted ? counted.groups() : index.groupsOf(set) };
    }
    const { set } = last;
    const groups = last.groups.map((g) => ({ ...g }));
    const offset = Math.max(0, query.offset);
    const end = Math.min(set.total, offset + Math.max(0, query.limit));
    const db = await this.opened();
    const items: EtcdKeyItem[] = [];
    for (let i = offset; i < end; i++) items.push(await this.item(db, index, index.rowAt(set, i)));
    const page: EtcdKeyPage = { total: set.total, offset, items, groups };
    if (index.limited) page.indexLimited = { keysIndexed: index.size };
    if (counted) page.keysInDb = counted.keys;
    return page;
  }

  private async item(db: OpenedBbolt, index: KeyBrowserIndex, row: number): Promise<EtcdKeyItem> {
    const keyBytes = index.keyBytes(row);
    const key = utf8.decode(keyBytes);
    const at = index.location(row);
    const read = await revisionAt(db, at.page, at.element);
    if (!read || read.rev.main !== at.main || !sameBytes(read.kv.key, keyBytes))
      throw new Error(`${this.src.name} changed since its keys were listed (key ${key} is no longer at page ${at.page}); validate it again`);
    const kv = read.kv;
    const item: EtcdKeyItem = {
      key,
      createRevision: index.createRevision(row),
      modRevision: at.main,
      version: at.tombstone ? 0 : kv.version,
      lease: kv.lease !== 0n ? BigInt.asUintN(64, kv.lease).toString(16) : null,
      tombstone: at.tombstone,
      valueSize: kv.value.length,
      history: index.historyCount(row),
    };
    if (!at.tombstone && key.startsWith('/registry/')) item.k8s = summarizeK8sValue(kv.value);
    return item;
  }

  /**
   * Where the newest revision of `key` is, from an index already built: null
   * when the whole db's index holds every key and not this one, undefined
   * when no index can tell (none built yet, or past its budget without it).
   */
  async locate(key: string): Promise<KeyLocation | null | undefined> {
    const bytes = encoder.encode(key);
    for (const p of [this.whole, this.filtered?.index]) {
      if (!p) continue;
      const index = await p.catch(() => null);
      if (!index) continue;
      const row = index.find(bytes);
      if (row >= 0) return index.location(row);
      if (!index.limited && !index.filter) return null;
    }
    return undefined;
  }

  /** The opened db (for reading a value the index located). */
  openedDb(): Promise<OpenedBbolt> {
    return this.opened();
  }
}
