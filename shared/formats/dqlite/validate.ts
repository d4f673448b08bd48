/**
 * Validate a dqlite/libraft data directory: scan every file in bounded
 * reads, model libraft's start-up on the result, and report findings, the
 * loader's decision, membership and the repair plan. Memory stays bounded:
 * per-batch detail is not kept (listSegmentBatches re-reads one file).
 */
import type { DirEntry, DirectorySource } from '../../bytes/byte-source';
import type { BatchSummary, DqliteDetails, MetadataInfo, OtherFileRole, RaftServer, SegmentInfo, SnapshotInfo } from '../../contract/dqlite';
import type { Finding } from '../../contract/findings';
import { throwIfCancelled, type RunOptions } from '../../contract/progress';
import type { ValidationReport } from '../../contract/report';
import {
  MEMBERSHIP_YAML_BOUNDS,
  membershipFindings,
  membershipYamlFinding,
  membershipYamlTooLarge,
  parseClusterYaml,
  parseInfoYaml,
  type YamlNode,
} from './cluster-yaml';
import { decodeConfiguration } from './configuration';
import { simulateLoad, type LoaderResult, type SimSegment, type SimSnapshot } from './loader';
import { checkMetadata, checkMetadataPair, METADATA_SIZE, type MetadataCheck } from './metadata';
import { FIRST_SEGMENT_NAME, metadataStartup } from './metadata-startup';
import { readBatchDetail } from './batch';
import { suspiciousOpenSegments } from './open-segment-hints';
import { planRepair, type RepairOperation } from './repair-plan';
import { entriesAfterFailure, expectedEntries, interpretClosed, interpretOpen, scanSegment, type SegmentScan } from './segment';
import { classifyName, type RaftFileName } from './segment-name';
import { checkSnapshotData } from './snapshot-data';
import { checkSnapshotMeta } from './snapshot-meta';
import { findingText, say, type Said } from './say';
import type { DqliteTextKey } from '../../i18n/dqlite-text';

export function looksLikeDqliteDirectory(names: string[]): boolean {
  return names.some((n) => {
    const c = classifyName(n);
    return c.kind === 'closed' || c.kind === 'open' || c.kind === 'snapshot-meta' || c.kind === 'metadata';
  });
}

export interface DqliteInspection {
  report: ValidationReport;
  operations: RepairOperation[];
}

/** Segment files scanned concurrently (each holds at most two read chunks of 1 MiB). */
const SEGMENT_SCANS_AT_ONCE = 3;

/**
 * Run `task(0..count-1)` with at most `limit` running at once. Waits for all
 * started tasks to settle before rethrowing the first error, so no read is
 * still in flight when the caller closes its sources.
 */
async function inParallel(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  let firstError: unknown = null;
  const worker = async () => {
    while (!failed && next < count) {
      const i = next++;
      try {
        await task(i);
      } catch (err) {
        if (!failed) firstError = err;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (failed) throw firstError;
}

export async function validateDqliteDirectory(dir: DirectorySource, opts: RunOptions = {}): Promise<ValidationReport> {
  return (await inspectDqliteDirectory(dir, opts)).report;
}

export async function inspectDqliteDirectory(dir: DirectorySource, opts: RunOptions = {}): Promise<DqliteInspection> {
  const t0 = Date.now();
  const findings: Finding[] = [];
  const entries: DirEntry[] = (await dir.list()).filter((e) => e.kind === 'file');
  const names = new Set(entries.map((e) => e.name));
  const classified = entries.map((e) => ({ e, c: classifyName(e.name) }));
  const bytesTotal = entries.reduce((n, e) => n + (classifyName(e.name).kind === 'unknown' ? 0 : e.size), 0);
  let bytesDone = 0;
  let bytesRead = 0;
  const progress = (phase: string, file: string | null) =>
    opts.onProgress?.({ phase, bytesDone: Math.min(bytesDone, bytesTotal), bytesTotal, currentFile: file });
  progress('listing', null);

  const otherFiles: DqliteDetails['otherFiles'] = [];
  const deletedAtInit = new Set<string>();
  // uvMaintenance: tmp-* and orphan snapshot halves are deleted at start-up.
  for (const { e, c } of classified) {
    if (c.kind === 'tmp') {
      deletedAtInit.add(e.name);
      otherFiles.push({ file: e.name, size: e.size, kind: 'tmp (deleted at start-up)', role: 'tmp' });
      findings.push({ severity: 'info', code: 'dir.tmp-file', file: e.name, offset: null, ...findingText('finding.dir.tmp-file.message', { file: e.name }) });
    } else if (c.kind === 'snapshot-data' && !names.has(c.metaName)) {
      deletedAtInit.add(e.name);
      otherFiles.push({ file: e.name, size: e.size, kind: 'orphan snapshot data (deleted at start-up)', role: 'orphan-snapshot-data' });
      findings.push({
        severity: 'warning',
        code: 'snapshot.orphan-data',
        file: e.name,
        offset: null,
        ...findingText('finding.snapshot.orphan-data.message', { file: e.name }),
      });
    } else if (c.kind === 'snapshot-meta' && !names.has(c.dataName)) {
      deletedAtInit.add(e.name);
      otherFiles.push({ file: e.name, size: e.size, kind: 'orphan snapshot metadata (deleted at start-up)', role: 'orphan-snapshot-meta' });
      findings.push({
        severity: 'warning',
        code: 'snapshot.orphan-meta',
        file: e.name,
        offset: null,
        ...findingText('finding.snapshot.orphan-meta.message', { file: e.name }),
      });
    }
  }

  // Metadata (raft_init): errors here stop the node before any segment is read.
  const metaChecks: Record<'metadata1' | 'metadata2', MetadataCheck> = { metadata1: { state: 'absent' }, metadata2: { state: 'absent' } };
  const metadata: MetadataInfo[] = [];
  for (const n of ['metadata1', 'metadata2'] as const) {
    const e = entries.find((x) => x.name === n);
    if (!e) continue;
    const src = await dir.open(n);
    const bytes = e.size >= METADATA_SIZE ? await src.read(0, METADATA_SIZE) : new Uint8Array(0);
    bytesRead += bytes.length;
    bytesDone += e.size;
    const chk = checkMetadata(n, e.size, bytes);
    metaChecks[n] = chk;
    metadata.push({
      file: n,
      size: e.size,
      ok: chk.state === 'ok',
      version: chk.state === 'ok' ? Number(chk.value.version) : null,
      term: chk.state === 'ok' ? Number(chk.value.term) : null,
      votedFor: chk.state === 'ok' ? chk.value.votedFor.toString() : null,
    });
    if (chk.state === 'torn') {
      findings.push({
        severity: 'warning',
        code: 'metadata.torn',
        file: n,
        offset: 0,
        ...findingText('finding.metadata.torn.message', { file: n, size: e.size }),
      });
    } else if (chk.state === 'error') {
      findings.push({ severity: 'error', code: chk.code, file: n, offset: chk.offset, ...findingFields(chk), engineError: chk.engineError });
    }
  }
  // Same version in both files: raft_init refuses (the rest of the metadata decision needs info.yaml and the log, below).
  const pairError = checkMetadataPair(metaChecks.metadata1, metaChecks.metadata2);
  if (pairError && !(['metadata1', 'metadata2'] as const).some((n) => metaChecks[n].state === 'error')) {
    findings.push({
      severity: 'error',
      code: 'metadata.same-version',
      file: 'metadata2',
      offset: 8,
      ...findingText('finding.metadata.same-version.message'),
      engineError: pairError,
    });
  }

  // Snapshots.
  const sims: SimSnapshot[] = [];
  const snapshotInfos: SnapshotInfo[] = [];
  for (const { e, c } of classified) {
    if (c.kind !== 'snapshot-meta' || deletedAtInit.has(e.name)) continue;
    throwIfCancelled(opts.signal);
    progress('snapshots', e.name);
    const dataEntry = entries.find((x) => x.name === c.dataName);
    const metaSrc = await dir.open(e.name);
    const meta = await checkSnapshotMeta(e.name, e.size, async (o, l) => {
      const b = await metaSrc.read(o, l);
      bytesRead += b.length;
      return b;
    });
    bytesDone += e.size;
    const dataSize = dataEntry?.size ?? 0;
    let data = null;
    if (dataSize > 0) {
      progress('snapshots', c.dataName);
      data = await checkSnapshotData(await dir.open(c.dataName), { signal: opts.signal });
      bytesRead += dataSize;
    }
    bytesDone += dataSize;
    const codes: string[] = [];
    if (!meta.ok) {
      codes.push(meta.code);
      findings.push({
        severity: 'error',
        code: meta.code,
        file: e.name,
        offset: meta.offset,
        ...findingFields(meta),
        ...(meta.engineError ? { engineError: meta.engineError } : {}),
      });
    }
    if (dataSize === 0) {
      codes.push('snapshot.data-empty');
      findings.push({
        severity: 'warning',
        code: 'snapshot.data-empty',
        file: c.dataName,
        offset: 0,
        ...findingText('finding.snapshot.data-empty.message', { file: c.dataName }),
      });
    }
    if (data && !data.ok) {
      codes.push('snapshot.data-lz4');
      findings.push({
        severity: 'error',
        code: 'snapshot.data-lz4',
        file: c.dataName,
        offset: data.errorOffset,
        ...(data.message !== null ? findingFields({ ...data, message: data.message }) : findingText('finding.snapshot.data-lz4.message.unknown')),
        engineError: data.engineError ?? undefined,
      });
    }
    const sim: SimSnapshot = { metaName: e.name, dataName: c.dataName, term: c.term, index: c.index, timestamp: c.timestamp, dataSize, meta, data };
    sims.push(sim);
    snapshotInfos.push({
      file: c.dataName,
      term: c.term,
      index: c.index,
      timestamp: c.timestamp,
      dataSize,
      metaOk: meta.ok,
      dataOk: data ? data.ok : null,
      encoding: data ? data.encoding : 'unknown',
      configurationIndex: meta.ok ? meta.configurationIndex : meta.configurationIndex,
      configuration: meta.ok ? meta.servers : null,
      lz4: data?.frame ?? null,
      chosen: false,
      findingCodes: codes,
    });
  }

  // Segments: a few files at once, so one file's reads are in flight while another is checksummed
  // (on a cold cache this nearly doubles throughput). Results keep the directory order.
  const segFiles = classified.filter(({ c }) => c.kind === 'closed' || c.kind === 'open');
  const scanned = new Array<SimSegment | undefined>(segFiles.length);
  await inParallel(segFiles.length, SEGMENT_SCANS_AT_ONCE, async (i) => {
    const { e, c } = segFiles[i];
    if (c.kind !== 'closed' && c.kind !== 'open') return;
    throwIfCancelled(opts.signal);
    progress('segments', e.name);
    const src = await dir.open(e.name);
    const scan = await scanSegment(src, {
      signal: opts.signal,
      targetEntries: c.kind === 'closed' ? expectedEntries(c.first, c.last) : undefined,
      onBytes: (n) => {
        bytesDone += n;
        progress('segments', e.name);
      },
    });
    bytesRead += scan.bytesRead;
    scanned[i] = {
      name: e.name,
      kind: c.kind,
      first: c.kind === 'closed' ? c.first : null,
      last: c.kind === 'closed' ? c.last : null,
      counter: c.kind === 'open' ? c.counter : null,
      scan,
    };
  });
  const segSims: SimSegment[] = scanned.filter((x): x is SimSegment => x !== undefined);

  const loader = simulateLoad(segSims, sims, true);

  let clusterYaml: YamlNode[] | null = null;
  let infoYaml: YamlNode | null = null;
  for (const { e } of classified) {
    if (e.name !== 'cluster.yaml' && e.name !== 'info.yaml') continue;
    const src = await dir.open(e.name);
    // Bounded before reading: a membership cache is a few dozen bytes per node.
    if (src.size > MEMBERSHIP_YAML_BOUNDS.maxBytes) {
      findings.push(membershipYamlTooLarge(e.name, src.size));
      continue;
    }
    const bytes = await src.read(0, src.size);
    const text = new TextDecoder().decode(bytes);
    if (e.name === 'cluster.yaml') {
      const r = parseClusterYaml(text);
      if (r.ok) clusterYaml = r.value;
      else findings.push(membershipYamlFinding(e.name, text, bytes.length, r));
    } else {
      const r = parseInfoYaml(text);
      if (r.ok) infoYaml = r.value;
      else findings.push(membershipYamlFinding(e.name, text, bytes.length, r));
    }
  }

  // Metadata: raft_init errors, then dqlite's bootstrap attempt when no term is recorded.
  let maxLogTerm = 0;
  for (const x of segSims) maxLogTerm = Math.max(maxLogTerm, x.scan.terms?.[1] ?? 0);
  for (const x of sims) maxLogTerm = Math.max(maxLogTerm, x.term);
  const metaStart = metadataStartup({
    m1: metaChecks.metadata1,
    m2: metaChecks.metadata2,
    nodeId: infoYaml?.id ?? null,
    hasFirstSegment: names.has(FIRST_SEGMENT_NAME),
    hasLog: segSims.length > 0 || sims.length > 0,
    maxLogTerm,
  });
  findings.push(...metaStart.findings);
  const metadataFatal = metaStart.fatal;
  const startable = metadataFatal === null && loader.startable;
  findings.push(...suspiciousOpenSegments(segSims, loader));

  // Segment findings and infos.
  const segments: SegmentInfo[] = [];
  for (const s of segSims) {
    const codes = segmentFindings(s, findings, loader);
    const range = loader.ranges.get(s.name);
    const role = metadataFatal !== null ? 'not-read' : (loader.roles.get(s.name) ?? 'not-read');
    const first = s.kind === 'closed' ? s.first : (range?.first ?? null);
    segments.push({
      file: s.name,
      kind: s.kind,
      size: s.scan.size,
      firstIndex: first,
      lastIndex: s.kind === 'closed' ? s.last : first !== null && s.scan.entries > 0 ? first + s.scan.entries - 1 : null,
      ...(s.kind === 'open' ? { counter: s.counter ?? 0 } : {}),
      batches: s.scan.batches,
      entries: s.scan.entries,
      validBytes: s.scan.validBytes,
      lastValidIndex: first !== null && s.scan.entries > 0 ? first + s.scan.entries - 1 : null,
      status: codes.some((c) => c.severity === 'error') ? 'bad' : codes.length ? 'warning' : 'ok',
      badOffset: s.scan.failure ? s.scan.failure.batchStart : null,
      findingCodes: codes.map((c) => c.code),
      role,
      terms: s.scan.terms,
    });
  }
  for (const si of snapshotInfos) si.chosen = loader.chosenSnapshot?.dataName === si.file;

  // Loader-level findings.
  if (metadataFatal === null && loader.fatal) {
    const f = loader.fatal;
    if (f.code.startsWith('loader.')) {
      findings.push({
        severity: 'error',
        code: f.code,
        file: f.file,
        offset: f.offset,
        ...loaderMessage(f.code),
        engineError: f.text,
      });
    }
    if (f.crash) {
      findings.push({
        severity: 'error',
        code: 'loader.crash',
        file: f.file,
        offset: f.offset,
        ...findingText('finding.loader.crash.message'),
        engineError: f.text,
      });
    }
  }
  for (const r of loader.renamed) {
    findings.push({
      severity: 'warning',
      code: 'loader.auto-recovery-rename',
      file: r,
      offset: null,
      ...findingText('finding.loader.auto-recovery-rename.message', { file: r }),
    });
  }
  if (loader.indexShift.length) {
    findings.push({
      severity: 'error',
      code: 'loader.open-index-shift',
      file: loader.indexShift[0],
      offset: null,
      ...findingText('finding.loader.open-index-shift.message', { files: loader.indexShift.join(', ') }),
    });
  }

  // Membership.
  let servers: RaftServer[] | null = null;
  let source: string | null = null;
  let sourceFile: string | null = null;
  let sourceEntry: number | null = null;
  let bestIndex = -1;
  for (const s of segSims) {
    const range = loader.ranges.get(s.name);
    const first = s.kind === 'closed' ? s.first : (range?.first ?? null);
    if (!s.scan.lastChange || first === null) continue;
    const idx = first + s.scan.lastChange.ordinal;
    const dec = decodeConfiguration(s.scan.lastChange.payload);
    if (dec.ok && idx > bestIndex) {
      bestIndex = idx;
      servers = dec.servers;
      source = `${s.name} (entry ${idx})`;
      sourceFile = s.name;
      sourceEntry = idx;
    }
  }
  const chosenInfo = snapshotInfos.find((s) => s.chosen);
  if (chosenInfo?.configuration && (chosenInfo.configurationIndex ?? -1) > bestIndex) {
    servers = chosenInfo.configuration;
    source = `${chosenInfo.file}.meta`;
    sourceFile = source;
    sourceEntry = null;
  }
  findings.push(...membershipFindings(servers, source, clusterYaml, infoYaml));

  for (const { e, c } of classified) {
    if (deletedAtInit.has(e.name)) continue;
    if (c.kind === 'corrupt') otherFiles.push({ file: e.name, size: e.size, kind: 'corrupt-* (renamed by auto-recovery earlier)', role: 'corrupt' });
    else if (c.kind === 'unknown') otherFiles.push({ file: e.name, size: e.size, ...knownOther(e.name) });
  }
  if (classified.some(({ c }) => c.kind === 'corrupt')) {
    findings.push({
      severity: 'warning',
      code: 'dir.corrupt-files',
      file: null,
      offset: null,
      ...findingText('finding.dir.corrupt-files.message'),
    });
  }

  // Repair plan.
  const planned = planRepair({
    segments: segSims,
    snapshots: sims,
    metadataOps: metaStart.ops,
    metadataNotes: metaStart.notes,
    metadataFatal,
    metadataFixed: metaStart.fixed,
    loader,
    ...(opts.nodePath ? { backend: { path: opts.nodePath.path, origin: opts.nodePath.origin } } : {}),
  });

  const lost = startable ? loader.lost : [];
  const dataLoss = startable && lost.some((l) => !l.coveredBySnapshot);
  const fatalError = metadataFatal ?? loader.fatal?.text ?? null;
  const details: DqliteDetails = {
    segments,
    snapshots: snapshotInfos,
    metadata,
    otherFiles,
    decision: {
      chosenSnapshot: loader.chosenSnapshot?.dataName ?? null,
      startIndex: loader.startIndex,
      lastIndex: startable ? loader.lastIndex : null,
      reachedIndex: startable ? loader.lastIndex : loader.reachedIndex,
      fatalError,
      renamedCorrupt: loader.renamed,
      narrative: metadataFatal
        ? [
            metaStart.stage === 'bootstrap'
              ? 'No usable metadata (term 0): dqlite calls raft_bootstrap() before raft_start, and it fails because the log already exists.'
              : `raft_init fails while reading metadata: ${metadataFatal}`,
            ...loader.narrative,
          ]
        : loader.narrative,
      // The metadata sentence above has no template yet, so the translated narrative is only offered when it lines up.
      ...(metadataFatal ? {} : { narrativeText: loader.narrativeText }),
    },
    membership: { servers: servers ?? [], source, sourceFile, sourceEntry, clusterYaml, infoYaml },
    repair: planned.plan,
  };
  const planSaid: Said = { text: planned.plan.summary, local: planned.plan.summaryText };
  const summary = summarize(startable, dataLoss, lost, fatalError, loader, planSaid, metadataFatal !== null);
  progress('done', null);
  const report: ValidationReport = {
    engine: 'dqlite',
    root: dir.name,
    startable,
    dataLoss,
    lost,
    findings,
    summary: summary.text,
    summaryText: summary.local,
    bytesRead,
    elapsedMs: Date.now() - t0,
    dqlite: details,
  };
  return { report, operations: planned.operations };
}

function knownOther(name: string): { kind: string; role: OtherFileRole } {
  if (name === 'cluster.yaml' || name === 'info.yaml') return { kind: 'go-dqlite membership cache', role: 'membership-cache' };
  if (name === 'cluster.crt' || name === 'cluster.key') return { kind: 'TLS certificate/key', role: 'tls' };
  if (name === 'failure-domain' || name === 'tuning.yaml' || name === 'init.yaml' || name === 'update.yaml' || name === 'localnode.yaml')
    return { kind: 'k8s-dqlite configuration', role: 'k8s-dqlite-config' };
  if (name.startsWith('kine.sock')) return { kind: 'kine socket', role: 'kine-socket' };
  return { kind: 'not a raft file (ignored by libraft)', role: 'not-raft' };
}

/** A sub-check's message with its template params, as Finding fields. */
function findingFields(c: {
  message: string;
  params?: Record<string, string | number>;
  messageKey?: string;
}): Pick<Finding, 'message' | 'params' | 'messageKey'> {
  return { message: c.message, ...(c.params ? { params: c.params } : {}), ...(c.messageKey ? { messageKey: c.messageKey } : {}) };
}

function loaderMessage(code: string): ReturnType<typeof findingText> {
  switch (code) {
    case 'loader.unexpected-segment':
      return findingText('finding.loader.unexpected-segment.message');
    case 'loader.past-snapshot':
      return findingText('finding.loader.past-snapshot.message');
    default:
      // Only the three loader.* codes reach here (see simulateLoad).
      return findingText('finding.loader.behind-snapshot.message');
  }
}

function segmentFindings(s: SimSegment, findings: Finding[], loader: LoaderResult): Finding[] {
  const out: Finding[] = [];
  const add = (f: Finding) => {
    out.push(f);
    findings.push(f);
  };
  const role = loader.roles.get(s.name);
  const fatalHere = loader.fatal?.file === s.name;
  const sev = (bad: boolean): Finding['severity'] =>
    bad && (role === 'fails' || role === 'renamed-corrupt' || role === 'truncated' || fatalHere) ? 'error' : 'warning';
  if (s.kind === 'closed') {
    const r = interpretClosed(s.first ?? 0, s.last ?? 0, s.scan);
    if (!r.ok) {
      add({
        severity: role === 'ignored' ? 'warning' : 'error',
        code: r.code,
        file: s.name,
        offset: r.offset,
        ...findingText(role === 'ignored' ? (`${r.messageKey}.ignored` as DqliteTextKey) : r.messageKey, r.params),
        engineError: `load closed segment ${s.name}: ${r.text}`,
      });
    }
    if (s.scan.size > 0 && s.scan.size % 4096 === 0 && s.scan.failure?.code === 'segment.count-zero') {
      add({
        severity: 'info',
        code: 'segment.block-aligned-tail',
        file: s.name,
        offset: s.scan.validBytes,
        ...findingText('finding.segment.block-aligned-tail.message', { blocks: s.scan.size / 4096 }),
      });
    }
  } else {
    const r = interpretOpen(s.scan);
    if (r.outcome === 'fatal') {
      add({
        severity: 'error',
        code: r.code,
        file: s.name,
        offset: r.offset,
        ...findingText(r.messageKey, r.params),
        engineError: `load open segment ${s.name}: ${r.text}`,
      });
      if (r.crash) add({ severity: 'error', code: 'segment.open-crash', file: s.name, offset: r.offset, ...findingText('finding.segment.open-crash.message') });
    } else if (r.outcome === 'finalised' && r.truncated && s.scan.nonZeroTail) {
      const f = s.scan.failure;
      add({
        severity: sev(Boolean(s.scan.later)),
        code: s.scan.later ? 'segment.open-truncated-data' : 'segment.open-torn-tail',
        file: s.name,
        offset: s.scan.validBytes,
        ...(s.scan.later
          ? findingText(
              entriesAfterFailure(s.scan).exact ? 'finding.segment.open-truncated-data.message' : 'finding.segment.open-truncated-data.message.at-least',
              {
                batch: String(f?.batch),
                offset: s.scan.validBytes,
                detail: String(f?.detail),
                count: entriesAfterFailure(s.scan).count,
              },
            )
          : findingText('finding.segment.open-torn-tail.message', { offset: s.scan.validBytes, detail: String(f?.detail) })),
        engineError: f ? `entries batch ${f.batch} starting at byte ${f.offset}: ${f.detail}` : undefined,
      });
    } else if (r.outcome === 'deleted' && s.scan.later) {
      add({
        severity: 'error',
        code: 'segment.open-deleted-data',
        file: s.name,
        offset: 8,
        ...findingText('finding.segment.open-deleted-data.message', { entries: s.scan.later.entries }),
      });
    }
  }
  return out;
}

function summarize(
  startable: boolean,
  dataLoss: boolean,
  lost: { first: number; last: number; coveredBySnapshot: boolean }[],
  fatal: string | null,
  loader: LoaderResult,
  plan: Said,
  metadataFatal: boolean,
): Said {
  // `error` is dqlite's own output, quoted as journalctl shows it; the plan is a sentence of its own.
  if (!startable) {
    if (loader.fatal?.crash && !metadataFatal) return say('dqlite.summary.crash', { error: String(fatal) }, { plan });
    if (metadataFatal && fatal === 'raft_bootstrap(): ') return say('dqlite.summary.bootstrap', {}, { plan });
    return say('dqlite.summary.fails', { error: String(fatal) }, { plan });
  }
  if (dataLoss) {
    const ranges = lost
      .filter((l) => !l.coveredBySnapshot)
      .map((l) => `${l.first}..${l.last}`)
      .join(', ');
    return say('dqlite.summary.data-loss', { ranges }, { plan });
  }
  const log = { first: loader.startIndex, last: loader.lastIndex ?? '-' };
  const setAside = loader.renamed.length > 0;
  if (loader.chosenSnapshot) {
    const params = { ...log, snapshot: loader.chosenSnapshot.index };
    return say(setAside ? 'dqlite.summary.starts.snapshot.set-aside' : 'dqlite.summary.starts.snapshot', params);
  }
  return say(setAside ? 'dqlite.summary.starts.set-aside' : 'dqlite.summary.starts', log);
}

/** Batches of one segment, read again on demand (there can be very many). */
export async function listSegmentBatches(dir: DirectorySource, file: string, opts: RunOptions & { detail?: number } = {}): Promise<BatchSummary[]> {
  const c: RaftFileName = classifyName(file);
  const src = await dir.open(file);
  const out: BatchSummary[] = [];
  let base: number | null = c.kind === 'closed' ? c.first : null;
  if (c.kind === 'open') base = null;
  let done = 0;
  const scan = await scanSegment(src, {
    signal: opts.signal,
    resync: false,
    onBytes: (n) => {
      done += n;
      opts.onProgress?.({ phase: 'batches', bytesDone: Math.min(done, src.size), bytesTotal: src.size, currentFile: file });
    },
    onBatch: (b, before) => {
      out.push({ ...b, firstIndex: base !== null ? base + before : null });
    },
  });
  // An open segment is preallocated: after its last batch come zeros, which libraft reads as
  // "no more batches". That is the normal end of the file, not a bad batch.
  const last = out[out.length - 1];
  if (c.kind === 'open' && last && scan.failure?.code === 'segment.count-zero' && !scan.nonZeroTail && last.offset === scan.validBytes) {
    out[out.length - 1] = {
      ...last,
      size: src.size - last.offset,
      entries: 0,
      firstIndex: null,
      headerCrc: 'ok',
      dataCrc: 'not-checked',
      problem: null,
      zeroFill: true,
    };
  }
  // One batch opened up on request: entries, offsets, both checksums.
  const asked = opts.detail !== undefined ? out.find((b) => b.number === opts.detail && !b.zeroFill) : undefined;
  if (asked) {
    const detail = await readBatchDetail(src, asked.offset, asked.firstIndex);
    if (detail) asked.detail = detail;
  }
  return out;
}

export type { SegmentScan };
