/**
 * bbolt v1.3.6's `Cursor.Seek` over one bucket's page tree, as etcd 3.4 reads a
 * single revision (`UnsafeRange(key, revision, nil)`: Seek, then the key found
 * must equal the one asked for, else `C | mvcc: range cannot find rev (M,S)`).
 * Both searches are Go's `sort.Search` (a binary search): over keys out of
 * order (a flipped bit in a revision key), it takes the wrong way, and a
 * revision the key index holds is not found although its element is there.
 * etcd starts on such a db, and dies on the first read that reaches it.
 *
 * Pages come from the walk's reader. A page that is neither branch nor leaf,
 * or a child outside the file, ends the seek as "not found" (the walk
 * reports those pages; this model is asked only about trees freepages walks).
 */
import { childPageOf, compareBytes, decodeBranchElements, decodeLeafElements, type BranchElement, type LeafElement } from './bbolt-element';
import { BRANCH_PAGE_FLAG, LEAF_PAGE_FLAG, decodePageHeader } from './bbolt-page';
import type { PageReader } from './bbolt-walk';

/** Levels followed at most (a real tree has a handful; a cycle must end). */
const MAX_DEPTH = 64;

interface Level {
  /** The page this level was decoded from. */
  pos: number;
  keys: Uint8Array[];
  /** Branch levels: the child page of each key; null for the leaf. */
  children: number[] | null;
  index: number;
}

/** Go's sort.Search over [0, n): the smallest i with f(i) true, probing as Go does (f may disagree with order). */
function goSearch(n: number, f: (i: number) => boolean): number {
  let i = 0;
  let j = n;
  while (i < j) {
    const h = (i + j) >>> 1;
    if (!f(h)) i = h + 1;
    else j = h;
  }
  return i;
}

export class BucketSeeker {
  /** Decoded pages, kept while a run of seeks goes on (the same branches are read for every revision). */
  private readonly pages = new Map<number, Level | null>();

  constructor(
    private readonly reader: PageReader,
    private readonly root: number,
  ) {}

  private async level(pos: number): Promise<Level | null> {
    const known = this.pages.get(pos);
    if (known !== undefined) return known ? { ...known, index: 0 } : null;
    let decoded: Level | null = null;
    if (pos >= 2 && pos < this.reader.filePages) {
      const first = this.reader.cachedSpan(pos) ?? (await this.reader.span(pos));
      const h = decodePageHeader(first);
      if (h && (h.flags & (BRANCH_PAGE_FLAG | LEAF_PAGE_FLAG)) !== 0) {
        const span = h.overflow === 0 ? first : (this.reader.cachedSpan(pos, h.overflow + 1) ?? (await this.reader.span(pos, h.overflow + 1)));
        // The cursor takes a page with the leaf flag as a leaf (elemRef.isLeaf), whatever else is set.
        const at = pos * this.reader.pageSize;
        if ((h.flags & LEAF_PAGE_FLAG) !== 0) {
          const els = decodeLeafElements(span, h.count);
          decoded = { pos, keys: await Promise.all(els.map((e) => this.keyOf(e, at))), children: null, index: 0 };
        } else {
          const els = decodeBranchElements(span, h.count);
          decoded = {
            pos,
            keys: await Promise.all(els.map((e) => this.keyOf(e, at))),
            children: els.map((e) => childPageOf(e, this.reader.pageSize)),
            index: 0,
          };
        }
      }
    }
    // Kept small: a tree of a few thousand branch pages; leaves are decoded again when evicted.
    if (this.pages.size > 4096) this.pages.clear();
    this.pages.set(pos, decoded);
    return decoded ? { ...decoded, index: 0 } : null;
  }

  /**
   * The key bbolt compares: a key outside its page is read where its element points (the walk reports it,
   * and a branch key past the file as the fault etcd dies of before any read); past the file, or too long to
   * read, it stays empty.
   */
  private async keyOf(e: BranchElement | LeafElement, pageAt: number): Promise<Uint8Array> {
    if (!e.problem) return e.key.slice();
    return (await this.reader.keyOutsidePage(pageAt + e.at, e)) ?? e.key;
  }

  /**
   * The leaf element `Seek(key)` lands on when its key is exactly `key` (page and index), else null (what etcd's
   * one-revision read needs). Two elements
   * with the same key (a revision key damaged into its neighbour's) are both "found": the one landed on is the one
   * etcd reads, whatever the other holds.
   */
  async seek(key: Uint8Array): Promise<{ page: number; index: number } | null> {
    const stack: Level[] = [];
    let pos = this.root;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const lv = await this.level(pos);
      if (!lv) return null;
      stack.push(lv);
      if (!lv.children) {
        // nsearch: the first element not below the key.
        lv.index = goSearch(lv.keys.length, (i) => compareBytes(lv.keys[i]!, key) !== -1);
        break;
      }
      // searchPage: `exact` is set by any probe that compares equal, not only by the one found.
      let exact = false;
      let index = goSearch(lv.keys.length, (i) => {
        const c = Math.sign(compareBytes(lv.keys[i]!, key));
        if (c === 0) exact = true;
        return c !== -1;
      });
      if (!exact && index > 0) index--;
      lv.index = index;
      if (index >= lv.children.length) return null;
      pos = lv.children[index]!;
    }
    const top = stack[stack.length - 1];
    if (!top || top.children) return null;
    // Seek: past the last element of its leaf, the cursor moves on (next()) to the first element of the next leaf.
    if (top.index >= top.keys.length) {
      const found = await this.next(stack);
      const leaf = stack[stack.length - 1]!;
      return found !== null && compareBytes(found, key) === 0 ? { page: leaf.pos, index: leaf.index } : null;
    }
    return compareBytes(top.keys[top.index]!, key) === 0 ? { page: top.pos, index: top.index } : null;
  }

  /** Cursor.next from a leaf past its end: up the stack to a level with a next element, then down its first keys. */
  private async next(stack: Level[]): Promise<Uint8Array | null> {
    for (let round = 0; round < MAX_DEPTH * 4; round++) {
      let i = stack.length - 1;
      for (; i >= 0; i--) {
        const lv = stack[i]!;
        if (lv.index < lv.keys.length - 1) {
          lv.index++;
          break;
        }
      }
      if (i < 0) return null;
      stack.length = i + 1;
      // first(): down the first child at each level to a leaf.
      while (stack.length < MAX_DEPTH) {
        const lv = stack[stack.length - 1]!;
        if (!lv.children) break;
        const child = await this.level(lv.children[lv.index]!);
        if (!child) return null;
        stack.push(child);
      }
      const leaf = stack[stack.length - 1]!;
      if (leaf.children || leaf.keys.length === 0) continue;
      return leaf.keys[leaf.index] ?? null;
    }
    return null;
  }
}
