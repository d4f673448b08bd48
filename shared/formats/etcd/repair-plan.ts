/**
 * How `lifeboat repair` brings an etcd db back (the etcd counterpart of the
 * dqlite repair plan), decided from the db alone:
 * - `unchanged`: the chosen meta's tree walks clean the way bbolt's
 *   freepages() walks it (etcd opens it);
 * - `revert-meta`: the chosen meta's tree is damaged but the other meta's
 *   (one transaction older) is clean, and its consistent index is not below
 *   the newest WAL snapshot (etcd then re-applies the newer WAL entries
 *   itself). This is bbolt's `surgery revert-meta-page`;
 * - `rebuild`: neither tree is usable: a new db from every readable leaf and
 *   the WAL (salvage.ts).
 */
import type { ByteSource } from '../../bytes/byte-source';
import type { Finding } from '../../contract/findings';
import type { LocalText } from '../../contract/text';
import { openBbolt, revertibleMeta, walkTree, type OpenedBbolt, type WalkResult } from './bbolt-walk';
import { encodeConfChange, encodeEntry, encodeHardState, encodeMetadata, encodeWalSnapshot } from './raft-entry';
import { encodeWalRecord, RECORD_TYPE } from './wal-record';
import { walName } from './wal-name';
import { engineText, repairText, sayRepair } from './repair-say';
import { salvageFinding, walStopParams, walStopVariant } from './salvage-say';
import { translateLocal } from '../../i18n/index';
import { SchemaCollector } from './schema';
import { readsAfterStart } from './bbolt-db';

export type DbStrategy = 'unchanged' | 'revert-meta' | 'rebuild';

export interface DbStrategyChoice {
  strategy: DbStrategy;
  /** One sentence: why. */
  reason: string;
  /** `reason` as catalog key + params (shared/i18n/etcd-repair-result-text.ts). */
  reasonText: LocalText;
  /** The meta page copied over the other one (revert-meta only). */
  revertTo: 0 | 1 | null;
  /** The problem etcd would die on with the chosen meta. */
  crash: string | null;
  /** consistent_index of the tree that is kept (unchanged / revert-meta). */
  consistentIndex?: number | null;
}

/** A tree's walk, its consistent index, and where etcd's mvcc restore stops on it (null: it gets through). */
interface TreeCheck {
  walk: WalkResult;
  consistentIndex: number | null;
  mvccRestoreError: string | null;
  /** etcd would start, then die on a read (`range cannot find rev`): kept unchanged, the copy would not serve. */
  readFatal: string | null;
  /** etcd would start and serve one key's value for another (a revision key damaged into its neighbour's). */
  wrongRead: { key: string; served: string } | null;
  /** etcd would start and serve keys as they were before their newest revision (a revision key damaged upwards). */
  olderRead: { key: string; revision: number } | null;
}

async function walkWithConsistentIndex(db: OpenedBbolt, meta: 0 | 1): Promise<TreeCheck> {
  // A tree freepages walks clean can still stop etcd right after, in the mvcc restore (a value that does not
  // unmarshal, or one that runs past the end of the file), or at the first read: keeping such a db unchanged
  // would not serve. The schema collector models both, and reads the consistent index too.
  const restore = new SchemaCollector('', db.pageSize);
  const walk = await walkTree(db, meta, { onLeaf: restore.onLeaf, plainLeaves: restore.plainKeyLeaves });
  const mvccRestoreError = walk.crash === null ? restore.mvccRestoreError : null;
  const reads = await readsAfterStart(db, walk, restore);
  return {
    walk,
    consistentIndex: restore.consistentIndex,
    mvccRestoreError,
    readFatal: reads.fatal?.text ?? null,
    wrongRead: reads.wrong ? { key: reads.wrong.key, served: reads.wrong.servedKey } : null,
    olderRead: reads.older ? { key: reads.older.key, revision: reads.older.main } : null,
  };
}

/** What etcd died on: bbolt's own panic text as it is, a problem in Lifeboat's words as its template, the mvcc restore's fatal text, else "damaged tree". */
function crashOf(t: TreeCheck): { text: string; local: LocalText } {
  const w = t.walk;
  if (w.crash !== null) return { text: w.crash, local: engineText(w.crash) };
  const after = t.mvccRestoreError ?? t.readFatal;
  if (after !== null && !w.problems.some((p) => p.kind !== 'extra')) return { text: after, local: engineText(after) };
  if (t.wrongRead !== null && !w.problems.some((p) => p.kind !== 'extra')) return sayRepair('etcd-repair.reason.reads-wrong', t.wrongRead);
  if (t.olderRead !== null && !w.problems.some((p) => p.kind !== 'extra')) return sayRepair('etcd-repair.reason.reads-older', t.olderRead);
  const p = w.problems[0];
  if (!p) return { text: 'damaged tree', local: repairText('etcd-repair.reason.damaged-tree') };
  if (p.variant !== undefined)
    return { text: p.text, local: { key: `bbolt-problem.${p.code.replace(/^bbolt\./, '')}.${p.variant}`, ...(p.params ? { params: p.params } : {}) } };
  return { text: p.text, local: engineText(p.text) };
}

/** A strategy's reason in both forms. */
function because(said: { text: string; local: LocalText }): Pick<DbStrategyChoice, 'reason' | 'reasonText'> {
  return { reason: said.text, reasonText: said.local };
}

function clean(t: TreeCheck): boolean {
  return (
    t.walk.crash === null &&
    !t.walk.problems.some((p) => p.kind !== 'extra') &&
    t.mvccRestoreError === null &&
    t.readFatal === null &&
    t.wrongRead === null &&
    t.olderRead === null
  );
}

/**
 * Decide how to bring the db back. `minConsistentIndex`: the newest snapshot
 * index etcd will load (a reverted db below it fails "database file ... does
 * not match with snapshot").
 */
export async function chooseDbStrategy(src: ByteSource, opts: { minConsistentIndex?: number } = {}): Promise<DbStrategyChoice> {
  const db = await openBbolt(src);
  if (db.empty) return { strategy: 'rebuild', ...because(sayRepair('etcd-repair.reason.empty')), revertTo: null, crash: null };
  if (db.openError !== null || db.chosenMeta === null) {
    const error = db.openError !== null ? engineText(db.openError) : repairText('etcd-repair.reason.no-valid-meta');
    return { strategy: 'rebuild', ...because(sayRepair('etcd-repair.reason.cannot-open', undefined, { error: [error] })), revertTo: null, crash: db.openError };
  }
  const chosen = db.chosenMeta;
  const mine = await walkWithConsistentIndex(db, chosen);
  if (clean(mine)) {
    const min = opts.minConsistentIndex ?? 0;
    // A tree without etcd's meta bucket (or its consistent_index) reads as index 0 to etcd.
    const ci = mine.consistentIndex ?? 0;
    if (ci < min) {
      // etcd would look for <snapshot index>.snap.db ("failed to find database snapshot file").
      return {
        strategy: 'rebuild',
        ...because(sayRepair('etcd-repair.reason.intact-ci-below', { ci, min })),
        revertTo: null,
        crash: null,
      };
    }
    return { strategy: 'unchanged', ...because(sayRepair('etcd-repair.reason.intact')), revertTo: null, crash: null, consistentIndex: mine.consistentIndex };
  }
  const crashSaid = crashOf(mine);
  const crash = crashSaid.text;
  const other = (1 - chosen) as 0 | 1;
  if (revertibleMeta(db, other)) {
    const older = await walkWithConsistentIndex(db, other);
    if (clean(older)) {
      const min = opts.minConsistentIndex ?? 0;
      if (older.consistentIndex !== null && older.consistentIndex >= min) {
        return {
          strategy: 'revert-meta',
          ...because(sayRepair('etcd-repair.reason.revert', undefined, { crash: [crashSaid.local] })),
          revertTo: other,
          crash,
          consistentIndex: older.consistentIndex,
        };
      }
      return {
        strategy: 'rebuild',
        ...because(
          sayRepair(
            'etcd-repair.reason.older-ci-below',
            { min },
            {
              crash: [crashSaid.local],
              ci: [older.consistentIndex !== null ? repairText('etcd-repair.value', { value: older.consistentIndex }) : repairText('etcd-repair.unknown')],
            },
          ),
        ),
        revertTo: null,
        crash,
      };
    }
  }
  return { strategy: 'rebuild', ...because(sayRepair('etcd-repair.reason.damaged', undefined, { crash: [crashSaid.local] })), revertTo: null, crash };
}

/**
 * bbolt's `surgery revert-meta-page`: the bytes to write so that the page of
 * the newer meta holds a copy of meta `revertTo` (header id set to its new
 * position; the checksum covers the meta fields only, so it stays valid).
 */
export async function revertMetaPage(src: ByteSource, revertTo: 0 | 1): Promise<{ offset: number; bytes: Uint8Array }> {
  const db = await openBbolt(src);
  const pageSize = db.pageSize;
  const page = (await src.read(revertTo * pageSize, pageSize)).slice();
  const target = 1 - revertTo;
  new DataView(page.buffer).setBigUint64(0, BigInt(target), true);
  return { offset: target * pageSize, bytes: page };
}

// ---------------------------------------------------------------- findings of the repair

/** The WAL stops being readable before its end, and repair keeps the WAL: etcd will not start on the copy. */
export function walUnreadableFinding(
  e: { file: string | null; offset: number | null; engineError: string; fatalText?: string | null },
  input: string,
): Finding {
  const variant = walStopVariant(e.file, e.offset);
  return salvageFinding({
    severity: 'error',
    code: 'repair.wal-unreadable',
    file: e.file,
    offset: e.offset,
    params: { ...walStopParams(e.file, e.offset), error: e.engineError, input },
    ...(variant ? { variant } : {}),
    engineError: e.fatalText ?? e.engineError,
  });
}

/**
 * Records after the WAL's readable end that the db may already hold. `hidden`
 * says where (etcd-loss.wal-hidden.where): the message nests it, so the UI
 * reads it from `messageText`.
 */
export function walHiddenRecordsFinding(file: string, offset: number, hidden: { text: string; local: LocalText }, dbCi: number): Finding {
  const messageText: LocalText = { key: 'finding.repair.wal-hidden-records.message', params: { ci: dbCi }, texts: { where: [hidden.local] } };
  return {
    severity: 'warning',
    code: 'repair.wal-hidden-records',
    file,
    offset,
    message: translateLocal('en', messageText),
    messageText,
  };
}

// ---------------------------------------------------------------- a fresh WAL for a member whose WAL is unreadable

export interface FreshWalMember {
  /** Member ID, lower-case hex (types.ID.String()). */
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

/**
 * The WAL `etcdctl snapshot restore` would write, but keeping this member's
 * and cluster's IDs (so the other members still know it): the CRC record,
 * Metadata {NodeID, ClusterID}, the empty Snapshot record `wal.Create`
 * writes, one ConfChange AddNode entry per member at term 1 (context = the
 * member JSON), and HardState {term 1, vote: this member, commit: N}. The db
 * written with it must have consistent_index N, so etcd applies every new
 * entry after N.
 */
export function buildFreshWal(opts: { nodeId: string; clusterId: string; members: FreshWalMember[] }): { name: string; bytes: Uint8Array; commit: number } {
  const nodeId = BigInt(`0x${opts.nodeId}`);
  const clusterId = BigInt(`0x${opts.clusterId}`);
  const frames: Uint8Array[] = [];
  let crc = 0;
  const add = (type: number, data: Uint8Array | null) => {
    const r = encodeWalRecord(type, data, crc);
    frames.push(r.frame);
    crc = r.crc;
  };
  add(RECORD_TYPE.crc, null);
  add(RECORD_TYPE.metadata, encodeMetadata({ nodeId, clusterId }));
  add(RECORD_TYPE.snapshot, encodeWalSnapshot({ index: 0, term: 0 }));
  const enc = new TextEncoder();
  const members = [...opts.members].sort((a, b) => (a.id < b.id ? -1 : 1));
  members.forEach((m, i) => {
    const id = BigInt(`0x${m.id}`);
    // Go's json.Marshal of membership.Member: id as a decimal uint64.
    const context = enc.encode(
      `{"id":${id.toString()},"peerURLs":${JSON.stringify(m.peerURLs)},"name":${JSON.stringify(m.name)},"clientURLs":${JSON.stringify(m.clientURLs)}}`,
    );
    const cc = encodeConfChange({ id: BigInt(i + 1), type: 0, nodeId: id, context });
    add(RECORD_TYPE.entry, encodeEntry({ type: 1, term: 1, index: i + 1, data: cc }));
  });
  const commit = members.length;
  add(RECORD_TYPE.state, encodeHardState({ term: 1, vote: nodeId, commit }));
  const size = frames.reduce((n, f) => n + f.length, 0);
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const f of frames) {
    bytes.set(f, at);
    at += f.length;
  }
  return { name: walName(0, 0), bytes, commit };
}
