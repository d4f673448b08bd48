/**
 * Keys and values of etcd's `key` bucket on demand: the newest revision of
 * every key (with its history count and whether it is deleted), grouped by
 * Kubernetes resource and namespace, filtered by prefix and substring, paged;
 * and one value, decoded (JSON pretty-printed, protobuf as its metadata,
 * encrypted marked). The keys come from the key browser's index
 * (key-browser-index.ts): a caller that keeps an `EtcdKeyBrowser` per opened
 * db builds it once; `listKeys` alone builds one for one answer.
 */
import type { ByteSource } from '../../bytes/byte-source';
import type { EtcdKeyPage, EtcdQuery, EtcdValueDetail } from '../../contract/etcd';
import { toHex } from './bbolt-page';
import type { OpenedBbolt } from './bbolt-walk';
import { summarizeK8sValue, parseJsonValue } from './k8s-value';
import { EtcdKeyBrowser, type KeyLocation } from './key-browser-index';
import { forEachRevision, openForKeys, revisionAt, valueAt } from './key-browser-walk';

export { keyGroup } from './key-browser-groups';
export { forEachRevision, openForKeys, valueAt } from './key-browser-walk';

/** Bytes of a value shown as hex in a value detail. */
export const HEX_PREVIEW_BYTES = 256;
/** Values shown as text up to this size. */
const MAX_DISPLAY_BYTES = 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: false });

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One page of keys (newest revision each), with the groups of all keys that match: one walk, for this answer only. */
export async function listKeys(src: ByteSource, query: Extract<EtcdQuery, { kind: 'keys' }>): Promise<EtcdKeyPage> {
  return new EtcdKeyBrowser(src).listKeys(query);
}

function display(value: Uint8Array, k8s: EtcdValueDetail['k8s']): string {
  if (value.length > MAX_DISPLAY_BYTES) return `(${value.length} bytes; too large to show)`;
  switch (k8s?.encoding) {
    case 'json': {
      const j = parseJsonValue(value);
      return j.ok ? JSON.stringify(j.value, null, 2) : utf8.decode(value);
    }
    case 'protobuf':
    case 'encrypted':
      return JSON.stringify(k8s, null, 2);
    case 'text':
      return utf8.decode(value);
    default:
      return toHex(value, HEX_PREVIEW_BYTES);
  }
}

/**
 * One key's value: the newest revision, or the given main revision. Throws a
 * clear error when the key (or revision) is not in the db. With `browser`
 * (the db's key browser), the newest revision is found in its index when it
 * has one; otherwise the db is walked for that key.
 */
export async function readValue(src: ByteSource, key: string, revision?: number, browser?: EtcdKeyBrowser): Promise<EtcdValueDetail> {
  const want = new TextEncoder().encode(key);
  let db: OpenedBbolt | null = null;
  let best: KeyLocation | null = null;
  if (browser && revision === undefined) {
    const at = await browser.locate(key);
    db = await browser.openedDb();
    if (at === null) throw new Error(`${src.name}: key ${key} is not in the db`);
    // Where the index saw it, if that is still it (the file may have changed since).
    const read = at ? await revisionAt(db, at.page, at.element) : null;
    if (at && read && read.rev.main === at.main && sameBytes(read.kv.key, want)) best = at;
  }
  const opened = db ?? (await openForKeys(src));
  if (!best) {
    let found: KeyLocation | null = null;
    await forEachRevision(
      opened,
      (rev, kv, page, element) => {
        if (!sameBytes(kv.key, want)) return;
        if (revision !== undefined ? rev.main === revision : !found || rev.main > found.main)
          found = { main: rev.main, tombstone: rev.tombstone, page, element };
      },
      want,
    );
    best = found as KeyLocation | null;
  }
  const b = best;
  if (!b)
    throw new Error(revision !== undefined ? `${src.name}: key ${key} has no revision ${revision} in the db` : `${src.name}: key ${key} is not in the db`);
  if (b.tombstone) return { key, modRevision: b.main, display: `(deleted at revision ${b.main})`, hexPreview: '', size: 0 };
  const value = (await valueAt(opened, b.page, b.element)) ?? new Uint8Array(0);
  const k8s = summarizeK8sValue(value);
  return { key, modRevision: b.main, display: display(value, k8s), k8s, hexPreview: toHex(value, HEX_PREVIEW_BYTES), size: value.length };
}
