/**
 * Validate an etcd input (data dir, member dir, --wal-dir, lone db,
 * snapshot.db): recognise the layout, read the db (bbolt + etcd schema), the
 * .snap files and the WAL with the team's decoders, model etcd 3.4's start-up
 * over them (startup.ts), cross-check them (cross-check.ts), and report in
 * the same shape as dqlite with `engine: "etcd"`. Read-only, bounded reads.
 */
import type { DirEntry, DirectorySource } from '../../bytes/byte-source';
import type { EtcdDetails, SnapFileInfo } from '../../contract/etcd';
import type { Finding } from '../../contract/findings';
import { throwIfCancelled, type RunOptions } from '../../contract/progress';
import type { ValidationReport } from '../../contract/report';
import { inspectBbolt, type BboltScan } from './bbolt-db';
import { crossCheck } from './cross-check';
import { resolveEtcdLayout, SNAP_NAME, type ResolvedEtcdLayout } from './layout';
import { etcdFinding, sayEtcd } from './say';
import type { SchemaCollectorOptions } from './schema';
import { readSnapFile } from './snap';
import { chooseSnap } from './snap-choice';
import { modelStartup, type StartupFacts } from './startup';
import { scanWal, type WalScan } from './wal';
import { entriesAfter } from './wal-unread';

export { looksLikeEtcd } from './layout';

/**
 * Starts the first WAL pass (scanWal with its default `openAt`) somewhere else,
 * e.g. in a second worker thread, so it runs while this thread walks the db:
 * the two are independent until the snap choice and the cross-check. `walDir`
 * is the WAL directory relative to the validated root (layout.walDir).
 * Returns null to have the WAL scanned here, after the db, as without it.
 */
export type WalScanStarter = (walDir: string) => Promise<WalScan> | null;

export interface EtcdRunOptions extends RunOptions, SchemaCollectorOptions {
  startWalScan?: WalScanStarter;
  /**
   * Whether the db's read-ahead thread may run while the WAL is scanned elsewhere (`startWalScan`): the machine
   * has a core for each of the three. Otherwise it starts only once the WAL scan is over: on two cores the walk,
   * the WAL scan and the read-ahead together took longer than the walk reading for itself (the bench dir's
   * validation, medians of six: 0.79 s with the thread from the start, 0.75 s without it).
   */
  readAheadBesideWalScan?: boolean;
  /** Smallest db read ahead by another thread (tests set it lower; bbolt-walk.ts READ_AHEAD_MIN_BYTES). */
  readAheadMinBytes?: number;
}

export interface EtcdInspection {
  report: ValidationReport;
  layout: ResolvedEtcdLayout;
}

const join = (a: string, b: string) => (a ? `${a}/${b}` : b);

/** Validate `root` as etcd; null when nothing etcd-like is there (the caller says "not a datastore"). */
export async function validateEtcdDirectory(root: DirectorySource, opts: EtcdRunOptions = {}, entries?: DirEntry[]): Promise<ValidationReport | null> {
  return (await inspectEtcd(root, opts, entries))?.report ?? null;
}

export async function inspectEtcd(root: DirectorySource, opts: EtcdRunOptions = {}, entries?: DirEntry[]): Promise<EtcdInspection | null> {
  const t0 = Date.now();
  const resolved = await resolveEtcdLayout(root, entries);
  if (!resolved) return null;
  const { layout } = resolved;
  const findings: Finding[] = [];
  let bytesRead = 0;

  // The WAL's first pass, started elsewhere to overlap the db walk (awaited below, in the same order as without it).
  const walElsewhere = resolved.wal && opts.startWalScan ? opts.startWalScan(layout.walDir) : null;
  // A failure there is handled where the scan is awaited (a scan here instead); not an unhandled rejection meanwhile.
  let walScanning = walElsewhere !== null;
  walElsewhere?.then(
    () => (walScanning = false),
    () => (walScanning = false),
  );
  const mayReadAhead = walElsewhere && !opts.readAheadBesideWalScan ? () => !walScanning : undefined;

  // The db (bbolt + schema).
  let bbolt: BboltScan | null = null;
  if (resolved.dbDir && resolved.dbName) {
    throwIfCancelled(opts.signal);
    const src = await resolved.dbDir.open(resolved.dbName);
    bbolt = await inspectBbolt(src, layout.dbFile, { ...opts, snapshotDb: layout.input === 'snapshot-db', mayReadAhead });
    bytesRead += bbolt.bytesRead;
    findings.push(...bbolt.findings);
  }

  // The .snap files (each is small: a v2 store JSON; bounded by the reader).
  const snaps: SnapFileInfo[] = [];
  if (resolved.snap) {
    for (const e of resolved.snapEntries) {
      if (e.kind !== 'file' || !SNAP_NAME.test(e.name)) continue;
      throwIfCancelled(opts.signal);
      const r = await readSnapFile(await resolved.snap.open(e.name), join(layout.snapDir, e.name));
      snaps.push(r.info);
      findings.push(...r.findings);
      bytesRead += e.size;
    }
  }

  // The WAL, opened where etcd would open it: at the newest .snap that reads and that the WAL names.
  let wal: WalScan | null = null;
  if (resolved.wal) {
    throwIfCancelled(opts.signal);
    wal = (walElsewhere ? await walElsewhere.catch(() => null) : null) ?? (await scanWal(resolved.wal, layout.walDir, opts));
    bytesRead += wal.bytesRead;
    const valid = wal.validSnapshots ?? wal.info.snapshots;
    const choice = chooseSnap(snaps, valid, wal.info.hardState?.commit ?? Number.MAX_SAFE_INTEGER);
    snaps.splice(0, snaps.length, ...choice.snaps);
    for (const orphan of choice.orphans) findings.push(etcdFinding('info', 'snap.orphan', orphan, null, { file: orphan }));
    const chosen = choice.chosen;
    const openAt = chosen ? { index: chosen.index, term: chosen.term } : { index: 0, term: 0 };
    const opened = wal.openedAt;
    if (!opened || opened.index !== openAt.index || opened.term !== openAt.term) {
      // The scan assumed another snapshot: read again from the one etcd really loads.
      wal = await scanWal(resolved.wal, layout.walDir, { ...opts, openAt });
      bytesRead += wal.bytesRead;
    }
    findings.push(...wal.findings);
  } else if (layout.input === 'data-dir' || layout.input === 'member-dir') {
    if (resolved.snap) findings.push(etcdFinding('warning', 'layout.no-wal-dir', layout.snapDir || null, null, {}));
  } else {
    for (const s of snaps) s.chosen = false;
  }

  // A part that is a symbolic link: read through (as etcd does), and said, since a copy must follow it.
  for (const link of layout.links ?? []) {
    const params = { path: link.path, target: link.target };
    findings.push(etcdFinding(link.leadsNowhere ? 'warning' : 'info', link.leadsNowhere ? 'layout.link-nowhere' : 'layout.link', link.path, null, params));
  }

  for (const l of layout.leftovers) {
    if (l.kind === 'unknown' && layout.input === 'data-dir' && !l.file.startsWith('member/')) continue;
    // The WAL reader reports leftovers in the WAL dir itself.
    if (layout.walDir && l.file.startsWith(`${layout.walDir}/`)) continue;
    findings.push(etcdFinding('info', 'layout.leftover', l.file, null, { file: l.file, size: l.size, kind: l.kind }, undefined, l.kind));
  }

  // What etcd drops from the last WAL file (after a tear, or after a zero length word), by index.
  let walUnread: StartupFacts['walUnread'] = null;
  if (wal && resolved.wal && wal.info.files.length > 0) {
    const lastFile = wal.info.files[wal.info.files.length - 1]!;
    const torn = wal.readError?.repairable ? wal.readError : null;
    const cut = torn?.offset ?? (lastFile.findingCodes.includes('wal.data-after-end') ? lastFile.validBytes : null);
    if (cut !== null) {
      const name = lastFile.file.slice(lastFile.file.lastIndexOf('/') + 1);
      const range = await entriesAfter(await resolved.wal.open(name), cut, {
        skipFrameAtCut: torn !== null,
        afterIndex: wal.info.lastIndex ?? 0,
        signal: opts.signal,
      });
      if (range) walUnread = { file: lastFile.file, offset: cut, cause: torn ? 'torn' : 'zero-word', ...range };
    }
  }

  const facts: StartupFacts = {
    root: root.name,
    layout,
    wal: wal?.info ?? null,
    walError: wal?.readError ?? null,
    snaps,
    bbolt: bbolt?.info ?? null,
    schema: bbolt?.schema ?? null,
    walUnread,
  };
  const verdict = modelStartup(facts);
  findings.push(...verdict.findings);
  const dbUsable = !!bbolt && bbolt.info.size > 0 && !bbolt.info.openError;
  const wholeMember = layout.input === 'data-dir' || layout.input === 'member-dir';
  const cross = crossCheck({
    wal: facts.wal,
    snaps,
    schema: facts.schema,
    dbUsable,
    addresses: opts.addresses ?? [],
    walChecks: wholeMember,
    walUnreadable: !!wal?.readError && !wal.readError.repairable && wal.readError.kind !== 'no-wal',
  });
  findings.push(...cross.findings);

  const etcd: EtcdDetails = {
    layout,
    wal: facts.wal,
    snaps,
    bbolt: facts.bbolt,
    schema: facts.schema,
    startup: verdict.startup,
    crossCheck: cross.crossCheck,
  };
  const report: ValidationReport = {
    engine: 'etcd',
    root: root.name,
    startable: verdict.startable,
    dataLoss: verdict.dataLoss,
    lost: verdict.lost
      ? [
          {
            first: verdict.lost.from,
            last: verdict.lost.to,
            file: verdict.lost.file,
            coveredBySnapshot: false,
            reason: sayEtcd('etcd-verdict.lost.reason').text,
            reasonText: sayEtcd('etcd-verdict.lost.reason').local,
          },
        ]
      : [],
    findings: sortFindings(findings),
    summary: verdict.summary,
    summaryText: verdict.summaryText,
    bytesRead,
    elapsedMs: Date.now() - t0,
    etcd,
  };
  return { report, layout: resolved };
}

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

/** Errors first, then warnings, then notes; stable within a severity. */
function sortFindings(findings: Finding[]): Finding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.i - b.i)
    .map((x) => x.f);
}
