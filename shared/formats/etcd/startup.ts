/**
 * etcd 3.4's start-up as a model over what the decoders found, in the order
 * `etcdserver.NewServer` runs it (checked against real etcd 3.4.23 on damaged
 * copies, test/oracle/etcd.test.ts):
 *
 * 1. Open the backend `member/snap/db` read-write. A missing or empty file is
 *    created (bbolt initialises it). A file bbolt cannot open panics with
 *    `cannot open database at <path> (<error>)`. Because etcd does not sync the
 *    freelist, bbolt rebuilds it by walking the whole tree: the first bad page
 *    panics with `freepages: failed to get all reachable pages (...)`, and a
 *    pointer outside the file crashes the process (`fatal error: fault`).
 *    This comes first: with a broken db, WAL damage never shows.
 * 2. Read every WAL file once to collect the valid snapshot records
 *    (`wal.ValidSnapshotEntries`). A CRC error anywhere, including the CRC
 *    record at a file boundary (`wal: crc mismatch`, also what a missing middle
 *    file looks like), is fatal here: `C | etcdmain: <error>`. A torn tail
 *    (io.ErrUnexpectedEOF) is let through.
 * 3. Load the newest .snap that decodes and that the WAL names; unreadable ones
 *    are renamed `*.broken`. If the db's consistent index is below that
 *    snapshot's index, etcd needs `<index>.snap.db` and otherwise panics with
 *    `recovering backend from snapshot error: failed to find database snapshot
 *    file (snap: snapshot file doesn't exist)`.
 * 4. Open the WAL at the snapshot and read it. An unexpected EOF in the last
 *    file is repaired once (copy to `.broken`, truncate at the last good
 *    record); any other error is fatal.
 * 5. No WAL at all: the member is started as a new one over the existing db.
 * 6. Entries (consistent index, commit] are replayed on top of the db.
 */
import type { BboltInfo, EtcdLayout, EtcdSchemaInfo, EtcdStartup, SnapFileInfo, WalInfo } from '../../contract/etcd';
import type { Finding } from '../../contract/findings';
import type { LocalText } from '../../contract/text';
import { etcdFinding, saidOfFinding, sayEtcd, type Said } from './say';
import { SEGMENT_SIZE_BYTES } from './wal-record';
import type { EtcdTextKey } from '../../i18n/etcd-text';

/** What the WAL reader says about the first error etcd would hit (agreed with the WAL engineer: `WalReadError`). */
export interface WalReadErrorFacts {
  kind: 'torn-tail' | 'crc-mismatch' | 'boundary-crc-mismatch' | 'seq-gap' | 'no-wal' | 'bad-name' | 'decode' | 'snapshot-not-found' | 'other';
  file: string | null;
  offset: number | null;
  engineError: string;
  /** etcd's own `wal.Repair` fixes it (unexpected EOF in the last file). */
  repairable: boolean;
  /** Which start-up step hits it, and the whole text etcd 3.4 prints then (from the WAL reader, when it knows). */
  stage?: 'list' | 'valid-snapshot-entries' | 'open' | 'read-all';
  fatalText?: string | null;
}

export interface StartupFacts {
  /** Display name of the validated root (paths in etcd's texts are printed relative to it). */
  root: string;
  layout: EtcdLayout;
  wal: WalInfo | null;
  walError: WalReadErrorFacts | null;
  snaps: SnapFileInfo[];
  bbolt: BboltInfo | null;
  schema: EtcdSchemaInfo | null;
  /**
   * Entries in the last WAL file that etcd drops: after the torn record its
   * repair truncates at ('torn'), or after a zero length word where its
   * decoder sees the end of the log ('zero-word'). From wal-unread.ts.
   */
  walUnread?: { file: string; offset: number; cause: 'torn' | 'zero-word'; first: number; last: number; count: number } | null;
}

export interface StartupVerdict {
  startable: boolean;
  dataLoss: boolean;
  /** Raft indexes etcd drops that the db does not hold (with the file they were in). */
  lost: { from: number; to: number; file: string } | null;
  startup: EtcdStartup;
  /** Start-up level findings (the decoders report the byte-level causes themselves). */
  findings: Finding[];
  summary: string;
  summaryText: LocalText;
}

/** What etcd logs (`E | etcdserver: ...`) before it stops a member that was removed from its cluster. */
export const REMOVED_TEXT = 'the member has been permanently removed from the cluster';

/** The .snap etcd would load: the one marked `chosen`, else the newest readable one the WAL names. */
export function chosenSnapOf(snaps: SnapFileInfo[]): SnapFileInfo | null {
  const marked = snaps.find((s) => s.chosen);
  if (marked) return marked;
  const usable = snaps.filter((s) => s.ok && s.matchesWal).sort((a, b) => b.index - a.index);
  return usable[0] ?? null;
}

function snapDbName(index: number): string {
  return `${index.toString(16).padStart(16, '0')}.snap.db`;
}

class Story {
  readonly lines: Said[] = [];
  add(key: EtcdTextKey, params?: Record<string, string | number>): void {
    this.lines.push(sayEtcd(key, params));
  }
}

/** The db's own fatal text, as etcd 3.4 prints it, or null when the backend opens. */
function backendFatal(facts: StartupFacts): string | null {
  const b = facts.bbolt;
  if (!b || b.size === 0) return null;
  if (b.openError) return `cannot open database at ${dbDisplayPath(facts)} (${b.openError})`;
  return b.freepagesPanic;
}

function dbDisplayPath(facts: StartupFacts): string {
  const file = facts.bbolt?.file ?? facts.layout.dbFile;
  // A lone db or snapshot.db opened as itself is its own root (a one-file directory of the same name): not `db/db`.
  const lone = (facts.layout.input === 'db-file' || facts.layout.input === 'snapshot-db') && facts.root === file;
  return lone ? file : `${facts.root}/${file}`;
}

/** The model for a data dir or member dir. */
export function modelStartup(facts: StartupFacts): StartupVerdict {
  if (facts.layout.input === 'snapshot-db') return modelSnapshotDb(facts);
  if (facts.layout.input === 'db-file') return modelDbOnly(facts);
  if (facts.layout.input === 'wal-dir') return modelWalOnly(facts);

  const story = new Story();
  const findings: Finding[] = [];
  const selfRepairs: Said[] = [];
  const { wal, walError, bbolt, schema } = facts;
  const fail = (fatal: string, nextKey: EtcdTextKey, chosenSnap: SnapFileInfo | null, removedStop?: EtcdStartup['removedStop']): StartupVerdict => {
    // "rebuilds the keys from the WAL" is only true when start-up gets that far.
    const kept = findings.filter((f) => f.code !== 'startup.db-created');
    return finish(facts, story, kept, selfRepairs, { startable: false, dataLoss: false, fatal, nextKey, chosenSnap, replay: null, lost: null, removedStop });
  };

  // 1. backend
  const dbFile = bbolt?.file ?? (facts.layout.dbFile || (facts.layout.snapDir ? `${facts.layout.snapDir}/db` : 'member/snap/db'));
  const dbMissing = !bbolt || bbolt.size === 0;
  let ci = schema?.consistentIndex ?? 0;
  if (dbMissing) {
    ci = 0;
    // Why there is no db is a word of the sentence: a variant per case, so each language writes it out.
    const why = bbolt ? 'empty' : 'missing';
    story.add(`etcd-verdict.narrative.backend-created.${why}`, { db: dbFile });
    selfRepairs.push(sayEtcd('etcd-verdict.repair.create-db'));
    const firstWal = wal?.firstIndex ?? 1;
    findings.push(etcdFinding('warning', 'startup.db-created', dbFile || null, null, { db: dbFile, from: Math.max(1, firstWal) }, undefined, why));
  } else {
    const fatal = backendFatal(facts);
    if (fatal) {
      story.add('etcd-verdict.narrative.backend-fails', { db: dbFile, error: fatal });
      return fail(fatal, backendNextKey(facts), null);
    }
    const chosen = bbolt.chosenMeta ?? 0;
    const newest = bbolt.metas.reduce<number>((m, x) => Math.max(m, x.txid), 0);
    const used = bbolt.metas.find((m) => m.page === chosen);
    if (used && used.txid < newest) story.add('etcd-verdict.narrative.backend-older-meta', { db: dbFile, meta: chosen, txid: used.txid });
    else story.add('etcd-verdict.narrative.backend-open', { db: dbFile, meta: chosen, txid: used?.txid ?? 0 });
  }

  // 2. every WAL file is read once for the valid snapshots: only a torn tail passes.
  //    (Errors opening or reading the WAL at the snapshot come later, in step 4.)
  const fatalWal = walError && !walError.repairable && walError.kind !== 'no-wal' ? walError : null;
  const laterStage = fatalWal?.stage === 'open' || fatalWal?.stage === 'read-all';
  if (fatalWal && !laterStage) {
    const walError = fatalWal;
    const error = walCheckText(walError);
    story.add('etcd-verdict.narrative.wal-check-fails', { error, file: walError.file ?? '', offset: walError.offset ?? 0 });
    return fail(error, 'etcd-verdict.next.wal', null);
  }

  // 3. snapshot
  const chosenSnap = chosenSnapOf(facts.snaps);
  for (const s of facts.snaps) {
    if (!s.ok && (!chosenSnap || s.index > chosenSnap.index)) {
      story.add('etcd-verdict.narrative.snap-skipped', { file: s.file, error: s.error ?? 'unreadable' });
      findings.push(
        etcdFinding(
          'warning',
          'snap.unreadable-skipped',
          s.file,
          null,
          { file: s.file, error: s.error ?? 'unreadable' },
          s.error ? `snap: ${s.error.replace(/^snap: /, '')}` : undefined,
        ),
      );
      selfRepairs.push(sayEtcd('etcd-verdict.repair.rename-snap', { file: s.file }));
    }
  }
  if (chosenSnap) {
    story.add('etcd-verdict.narrative.snap-chosen', { snap: chosenSnap.file, term: chosenSnap.term, index: chosenSnap.index });
    if (chosenSnap.index > ci) {
      const name = snapDbName(chosenSnap.index);
      const present = facts.layout.leftovers.some((l) => l.kind === 'snap-db' && l.file.endsWith(name));
      if (!present) {
        const fatal = "recovering backend from snapshot error: failed to find database snapshot file (snap: snapshot file doesn't exist)";
        story.add('etcd-verdict.narrative.snap-db-fails', { ci, index: chosenSnap.index, dbName: name });
        findings.push(
          etcdFinding('error', 'startup.snap-db-missing', dbFile || null, null, { ci, snap: chosenSnap.file, index: chosenSnap.index, dbName: name }, fatal),
        );
        // With the whole log still there (first entry 1), etcd rebuilds the db from it once no .snap is loaded.
        return fail(fatal, (wal?.firstIndex ?? 0) === 1 && !walError ? 'etcd-verdict.next.snap-replay' : 'etcd-verdict.next.snap', chosenSnap);
      }
    }
  } else {
    story.add('etcd-verdict.narrative.snap-none');
  }

  // 5. no WAL: a new member over the existing db.
  if (!wal || wal.files.length === 0 || walError?.kind === 'no-wal') {
    story.add('etcd-verdict.narrative.no-wal');
    findings.push(etcdFinding('warning', 'startup.no-wal', facts.layout.walDir || null, null, {}));
    return finish(facts, story, findings, selfRepairs, { startable: true, dataLoss: false, fatal: null, nextKey: null, chosenSnap, replay: null, lost: null });
  }

  // 4. open the WAL at the snapshot and read it; repair a torn tail once.
  if (fatalWal && laterStage) {
    const error = walCheckText(fatalWal);
    story.add('etcd-verdict.narrative.wal-read-fails', { error });
    return fail(error, 'etcd-verdict.next.wal', chosenSnap);
  }
  let lost: { from: number; to: number } | null = null;
  if (walError?.repairable) {
    const file = walError.file ?? '';
    const offset = walError.offset ?? 0;
    story.add('etcd-verdict.narrative.wal-repair', { file, offset });
    selfRepairs.push(sayEtcd('etcd-verdict.repair.truncate-wal', { file, offset }));
    findings.push(etcdFinding('warning', 'startup.wal-repaired', file, offset, { file, offset }, 'unexpected EOF'));
    // What the WAL reader counted is what survives the repair; entries past the
    // tear were never readable. They are lost only if the db does not hold them.
    // The torn record itself cannot be read: it holds the entry right after the last readable one.
    const unread = facts.walUnread?.cause === 'torn' ? { from: Math.min(facts.walUnread.first, (wal.lastIndex ?? 0) + 1), to: facts.walUnread.last } : null;
    const beyond = unread ?? (wal.tornTail ? walTornEntries(wal) : null);
    if (beyond && beyond.to > ci) {
      lost = { from: Math.max(beyond.from, ci + 1), to: beyond.to };
      findings.push(etcdFinding('error', 'startup.wal-repair-loses', file, offset, { file, offset, last: beyond.to, ci, from: lost.from }));
    }
  }
  const commit = wal.hardState?.commit ?? 0;
  const lastIndex = wal.lastIndex ?? 0;

  // A zero length word ends the log early: the decoder never reads past it (and the write-mode open zero-fills the rest).
  const early = facts.walUnread?.cause === 'zero-word' ? facts.walUnread : null;
  if (early) selfRepairs.push(sayEtcd('etcd-verdict.repair.zero-fill', { file: early.file, offset: early.offset, first: early.first, last: early.last }));
  if (early && early.last > ci) {
    // The record whose length word is zero cannot be framed either: it is the entry after the last readable one.
    lost = { from: Math.max(Math.min(early.first, lastIndex + 1), ci + 1), to: early.last };
    findings.push(
      etcdFinding('error', 'startup.wal-ends-early', early.file, early.offset, {
        file: early.file,
        offset: early.offset,
        first: early.first,
        last: early.last,
        ci,
        from: lost.from,
      }),
    );
  }

  // mvcc restores its index from the key bucket after the WAL is read: a value that does not decode stops it.
  if (!dbMissing && bbolt.mvccRestoreError) {
    story.add('etcd-verdict.narrative.mvcc-fails', { error: bbolt.mvccRestoreError });
    return fail(bbolt.mvccRestoreError, 'etcd-verdict.next.backend', chosenSnap);
  }

  // A WAL that does not reach back to the db (purged files with no snap).
  const first = wal.firstIndex;
  if (!dbMissing && first !== null && first > ci + 1 && !chosenSnap) {
    findings.push(etcdFinding('warning', 'startup.replay-gap', wal.files[0]?.file ?? null, null, { ci, first, from: ci + 1, to: first - 1 }));
  }

  // A member that was removed from the cluster. etcd re-applies every committed conf change after the loaded .snap
  // (its v2 member store comes from the .snap, not the db), so a removal of itself in (snap index, commit] stops it
  // about a second after start. Otherwise (the removal is older than the .snap, not committed in this WAL, or only
  // in the db) it starts and stops with the same words once a peer answers 410 Gone; alone it never gets a leader.
  const self = wal.nodeId;
  if (self !== null) {
    const snapIndex = chosenSnap?.index ?? 0;
    const replayed = wal.confChanges.find((c) => c.type === 'remove' && c.nodeId === self && c.index > snapIndex && c.index <= Math.min(commit, lastIndex));
    const known = (schema?.removedMembers.includes(self) ?? false) || wal.confChanges.some((c) => c.type === 'remove' && c.nodeId === self);
    if (replayed) {
      story.add('etcd-verdict.narrative.removed', { node: self, index: replayed.index });
      return fail(REMOVED_TEXT, 'etcd-verdict.next.removed', chosenSnap, 'on-replay');
    }
    if (known) {
      story.add('etcd-verdict.narrative.removed-peer', { node: self });
      return fail(REMOVED_TEXT, 'etcd-verdict.next.removed', chosenSnap, 'when-a-peer-answers');
    }
  }

  // A torn last record as no crash leaves it: etcd preallocates its last WAL file to 64 MB, so a write torn by a
  // crash ends in zeros or garbage inside it, and only etcd's own repair (which keeps a .broken copy) makes the file
  // shorter. Shorter, ending in the middle of a record, with no zero tail and no .broken copy, it was cut after
  // etcd wrote it (a copy that stopped early, a filesystem repair): what came after is unknown, perhaps committed.
  // (A file that ends exactly after a record is left alone: a copy with its zero tail trimmed looks like that.)
  const lastFile = wal.files.at(-1);
  const cutShort =
    lastFile !== undefined &&
    lastFile.status === 'torn' &&
    lastFile.size < SEGMENT_SIZE_BYTES &&
    lastFile.zeroTailBytes === 0 &&
    !facts.layout.leftovers.some((l) => l.kind === 'broken' && l.file === `${lastFile.file}.broken`)
      ? { file: lastFile.file, last: lastIndex, ci }
      : null;
  if (cutShort && lastFile) {
    const params = { ...cutShort, size: lastFile.size, segment: SEGMENT_SIZE_BYTES };
    findings.push(etcdFinding('warning', 'startup.wal-cut-short', cutShort.file, lastFile.size, params));
  }

  // 6. replay
  const to = Math.min(commit, lastIndex);
  const replay = to > ci ? { from: ci + 1, to } : null;
  if (replay) story.add('etcd-verdict.narrative.replay', { from: replay.from, to: replay.to, ci });
  else story.add('etcd-verdict.narrative.up-to-date', { ci, commit });
  return finish(facts, story, findings, selfRepairs, {
    startable: true,
    dataLoss: lost !== null,
    fatal: null,
    nextKey: null,
    chosenSnap,
    replay,
    lost,
    cutShort,
  });
}

/**
 * Entries the repair drops that the db does not hold. Everything readable
 * before the tear survives; the torn record itself is unreadable, so what it
 * held is unknown unless the last readable HardState committed past the last
 * readable entry (then (lastIndex, commit] was committed and is gone).
 */
function walTornEntries(wal: WalInfo): { from: number; to: number } | null {
  const last = wal.lastIndex ?? 0;
  const commit = wal.hardState?.commit ?? 0;
  return commit > last ? { from: last + 1, to: commit } : null;
}

/** The text etcd 3.4 logs for a WAL error found while collecting the valid snapshots. */
function walCheckText(e: WalReadErrorFacts): string {
  if (e.fatalText) return e.fatalText;
  // A missing middle file is seen as a CRC record that does not chain (3.4 does not check the sequence here).
  if (e.kind === 'seq-gap' || e.kind === 'boundary-crc-mismatch') return 'wal: crc mismatch';
  if (e.kind === 'crc-mismatch') return 'walpb: crc mismatch';
  return e.engineError;
}

interface Outcome {
  startable: boolean;
  dataLoss: boolean;
  fatal: string | null;
  nextKey: EtcdTextKey | null;
  chosenSnap: SnapFileInfo | null;
  replay: { from: number; to: number } | null;
  lost: { from: number; to: number } | null;
  removedStop?: EtcdStartup['removedStop'];
  /** The last WAL file was cut short after etcd wrote it (startup.wal-cut-short): what followed is unknown. */
  cutShort?: { file: string; last: number; ci: number } | null;
}

function finish(facts: StartupFacts, story: Story, findings: Finding[], selfRepairs: Said[], o: Outcome): StartupVerdict {
  let summary: Said;
  // Sentences inside the summary (the next step, what is lost, the repairs, the first warning) are nested, not spliced
  // in as English text, so the UI says them in its own language.
  const readFatal = facts.bbolt?.readFatal ?? null;
  const wrongRead = facts.bbolt?.wrongRead ?? null;
  const olderRead = facts.bbolt?.olderRead ?? null;
  if (!o.startable)
    summary = sayEtcd('etcd-verdict.summary.fails', { error: o.fatal ?? 'unknown' }, { next: [sayEtcd(o.nextKey ?? 'etcd-verdict.next.other')] });
  // It starts, then the first read of a hidden revision kills it (the apiserver's first list): that comes first.
  else if (readFatal) summary = sayEtcd('etcd-verdict.summary.dies-on-read', { key: readFatal.key, error: readFatal.text });
  // It starts and serves, but serves a key another's value: nothing in etcd's log says so.
  else if (wrongRead) summary = sayEtcd('etcd-verdict.summary.reads-wrong', { key: wrongRead.key, served: wrongRead.servedKey });
  else if (olderRead) summary = sayEtcd('etcd-verdict.summary.reads-older', { key: olderRead.key, revision: olderRead.main, current: olderRead.current });
  else if (o.dataLoss && o.lost) summary = sayEtcd('etcd-verdict.summary.data-loss', undefined, { lost: [sayEtcd('etcd-verdict.lost.wal', o.lost)] });
  else if (o.cutShort) summary = sayEtcd('etcd-verdict.summary.cut-short', o.cutShort);
  else if (selfRepairs.length > 0) summary = sayEtcd('etcd-verdict.summary.self-repair', undefined, { repairs: selfRepairs });
  else {
    const warning = findings.find((f) => f.severity !== 'info');
    const said = warning ? saidOfFinding(warning) : null;
    summary = said
      ? sayEtcd('etcd-verdict.summary.warnings', undefined, { first: [said] })
      : warning
        ? sayEtcd('etcd-verdict.summary.warnings', { first: warning.message })
        : sayEtcd('etcd-verdict.summary.healthy');
  }
  const lostFile = facts.walUnread?.file ?? facts.wal?.tornTail?.file ?? facts.wal?.files.at(-1)?.file ?? '';
  return {
    startable: o.startable,
    dataLoss: o.dataLoss,
    lost: o.dataLoss && o.lost ? { ...o.lost, file: lostFile } : null,
    startup: {
      model: '3.4',
      chosenSnap: o.chosenSnap?.file ?? null,
      replay: o.replay,
      fatalError: o.fatal,
      ...(o.removedStop ? { removedStop: o.removedStop } : {}),
      selfRepairs: selfRepairs.map((r) => r.text),
      selfRepairsText: selfRepairs.map((r) => r.local),
      narrative: story.lines.map((l) => l.text),
      narrativeText: story.lines.map((l) => l.local),
    },
    findings,
    summary: summary.text,
    summaryText: summary.local,
  };
}

// ------------------------------------------------------------------ lone inputs

/**
 * The verdict on a lone input (a snapshot.db, a db or a WAL without the rest
 * of a member): nothing is replayed, so it starts unless `fatal` says why
 * not, and it never loses data. `selfRepairs` only where the input has
 * repairs to name (a WAL's torn tail); otherwise there is no such list.
 */
function loneInputVerdict(story: Story, findings: Finding[], fatal: string | null, summary: Said, selfRepairs?: Said[]): StartupVerdict {
  return {
    startable: fatal === null,
    dataLoss: false,
    lost: null,
    startup: {
      model: '3.4',
      chosenSnap: null,
      replay: null,
      fatalError: fatal,
      selfRepairs: (selfRepairs ?? []).map((r) => r.text),
      ...(selfRepairs ? { selfRepairsText: selfRepairs.map((r) => r.local) } : {}),
      narrative: story.lines.map((l) => l.text),
      narrativeText: story.lines.map((l) => l.local),
    },
    findings,
    summary: summary.text,
    summaryText: summary.local,
  };
}

function modelSnapshotDb(facts: StartupFacts): StartupVerdict {
  const story = new Story();
  const findings: Finding[] = [];
  const b = facts.bbolt;
  const sha = b?.sha256;
  let error: string | null = null;
  if (!sha || !sha.present) {
    // bbolt-db.ts reports the trailer itself (snapshot-db.no-hash / snapshot-db.hash-mismatch).
    error = 'snapshot missing hash but --skip-hash-check=false';
  } else if (sha.ok === false) {
    error = `expected sha256 ${goBytes(sha.stored ?? '')}, got ${goBytes(sha.computed ?? '')}`;
  } else {
    const broken = b ? (b.openError ?? b.freepagesPanic) : 'no bbolt file';
    if (broken) {
      error = broken;
      findings.push(etcdFinding('error', 'restore.db-broken', b?.file ?? facts.layout.dbFile, null, { error: broken }, broken));
    }
  }
  if (error) story.add('etcd-verdict.narrative.snapshot-db-fails', { error });
  else story.add('etcd-verdict.narrative.snapshot-db-ok');
  const summary = error
    ? sayEtcd('etcd-verdict.summary.snapshot-fails', { error }, { next: [sayEtcd('etcd-verdict.next.restore')] })
    : facts.schema?.bootstrapKeys
      ? // k3s's or RKE2's: etcdctl would take it, but their own reset is how it is restored (it writes their files back too).
        sayEtcd(
          'etcd-verdict.summary.snapshot-ok-k3s',
          { revision: facts.schema.revision ?? 0, keys: facts.schema.liveKeys },
          { next: [sayEtcd('etcd-verdict.next.k3s-reset')] },
        )
      : sayEtcd(facts.schema?.liveKeysLowerBound ? 'etcd-verdict.summary.snapshot-ok-at-least' : 'etcd-verdict.summary.snapshot-ok', {
          revision: facts.schema?.revision ?? 0,
          keys: facts.schema?.liveKeys ?? 0,
        });
  return loneInputVerdict(story, findings, error, summary);
}

/** Go's `%v` of a []byte, as etcdctl prints hashes: `[12 0 255]`. */
function goBytes(hex: string): string {
  return `[${(hex.match(/../g) ?? []).map((b) => parseInt(b, 16)).join(' ')}]`;
}

/**
 * What to do about a db etcd cannot open or walk: the older meta page's tree when it is intact (what `repair` goes
 * back to), else a rebuild from the leaves. Either way, a copy first.
 */
function backendNextKey(facts: StartupFacts): EtcdTextKey {
  return facts.bbolt?.otherMetaTreeOk ? 'etcd-verdict.next.backend-revert' : 'etcd-verdict.next.backend-rebuild';
}

function modelDbOnly(facts: StartupFacts): StartupVerdict {
  const story = new Story();
  story.add('etcd-verdict.narrative.db-only');
  const findings: Finding[] = [etcdFinding('info', 'layout.db-only', facts.layout.dbFile, null, {})];
  const fatal = facts.bbolt && facts.bbolt.size > 0 ? backendFatal(facts) : null;
  if (fatal) story.add('etcd-verdict.narrative.backend-fails', { db: facts.layout.dbFile, error: fatal });
  const s = fatal
    ? sayEtcd('etcd-verdict.summary.db-fails', { error: fatal }, { next: [sayEtcd(backendNextKey(facts))] })
    : sayEtcd(facts.schema?.liveKeysLowerBound ? 'etcd-verdict.summary.db-ok-at-least' : 'etcd-verdict.summary.db-ok', {
        revision: facts.schema?.revision ?? 0,
        ci: facts.schema?.consistentIndex ?? 0,
        keys: facts.schema?.liveKeys ?? 0,
      });
  return loneInputVerdict(story, findings, fatal, s);
}

function modelWalOnly(facts: StartupFacts): StartupVerdict {
  const story = new Story();
  story.add('etcd-verdict.narrative.wal-only');
  const findings: Finding[] = [etcdFinding('info', 'layout.wal-only', null, null, {})];
  const e = facts.walError;
  const fatal = e && !e.repairable && e.kind !== 'no-wal' ? walCheckText(e) : null;
  if (fatal) story.add('etcd-verdict.narrative.wal-read-fails', { error: fatal });
  const repairs = e?.repairable ? [sayEtcd('etcd-verdict.repair.truncate-wal-only', { file: e.file ?? '', offset: e.offset ?? 0 })] : [];
  const s = fatal
    ? sayEtcd('etcd-verdict.summary.wal-fails', { error: fatal }, { next: [sayEtcd('etcd-verdict.next.wal')] })
    : sayEtcd('etcd-verdict.summary.wal-ok', { last: facts.wal?.lastIndex ?? 0, commit: facts.wal?.hardState?.commit ?? 0 });
  return loneInputVerdict(story, findings, fatal, s, repairs);
}
