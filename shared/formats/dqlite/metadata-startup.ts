/**
 * What metadata1/metadata2 do to start-up, beyond the per-file checks of
 * metadata.ts, and how to fix them:
 *
 * - raft_init (`raft:uv_metadata.c` uvMetadataLoad) stops on a bad file or on
 *   two files at the same version.
 * - With no usable metadata the term is 0, and libdqlite's dqlite_node_start
 *   calls raft_bootstrap() when the node ID is 1 or go-dqlite's BootstrapID
 *   (the first node of every dqlite-demo / k8s-dqlite cluster). uvBootstrap
 *   (`raft:uv.c`) only refuses when the term is non-zero; otherwise it writes
 *   term 1 and creates `0000000000000001-0000000000000001` through
 *   UvFsMakeFile, which fails when that file exists. The error has no text:
 *   go-dqlite prints `start node: raft_bootstrap(): ` and exits. So a data
 *   directory that lost its metadata but kept its log does not start.
 *
 * The fix keeps every original (quarantine) and writes one fresh 32-byte file
 * when none is usable: format 1, version 1 in metadata1 (odd versions belong
 * to metadata1), the highest term found in the log and snapshots (a term must
 * never go backwards), and voted_for = this node's own ID when known, so the
 * node cannot hand out a second vote in that term.
 */
import type { Finding } from '../../contract/findings';
import { encodeMetadata, type MetadataCheck } from './metadata';
import type { RepairOperation } from './repair-plan';
import { findingText, say, type Said } from './say';
import { closedSegmentName } from './segment-name';

/** go-dqlite's BootstrapID (0x2dc171858c3155be): the ID of a cluster's first node. */
export const BOOTSTRAP_ID = 3297041220608546238n;

/** The file raft_bootstrap creates; when it exists, bootstrapping fails. */
export const FIRST_SEGMENT_NAME = closedSegmentName(1, 1);

export interface MetadataStartupInput {
  m1: MetadataCheck;
  m2: MetadataCheck;
  /** This node's raft ID from info.yaml (decimal u64), null when unknown. */
  nodeId: string | null;
  /** Does `0000000000000001-0000000000000001` exist in the directory? */
  hasFirstSegment: boolean;
  /** Are there any segments or snapshots (a log to lose)? */
  hasLog: boolean;
  /** Highest term in any valid batch or snapshot name (0 when none). */
  maxLogTerm: number;
}

export interface MetadataStartup {
  /** The engine error that stops the node, or null. */
  fatal: string | null;
  fatalCode: string | null;
  /** Where the error is raised: raft_init (reading metadata) or raft_bootstrap (before raft_start). */
  stage: 'init' | 'bootstrap' | null;
  /** Findings beyond the per-file ones (bootstrap, missing metadata). */
  findings: Finding[];
  /** Operations that make the metadata usable (only when fatal). */
  ops: RepairOperation[];
  /** Repair-plan notes, English text + catalog key. */
  notes: Said[];
  /** After `ops` the metadata loads and no bootstrap is attempted. */
  fixed: boolean;
}

function parseId(id: string | null): bigint | null {
  if (id === null || !/^\d+$/.test(id.trim())) return null;
  const v = BigInt(id.trim());
  return v < 1n << 64n ? v : null;
}

/** Would libdqlite call raft_bootstrap for this node (unknown ID: assume the cluster's first node)? */
export function bootstrapsWithoutMetadata(nodeId: string | null): boolean {
  const id = parseId(nodeId);
  return id === null || id === 1n || id === BOOTSTRAP_ID;
}

type Name = 'metadata1' | 'metadata2';

export function metadataStartup(input: MetadataStartupInput): MetadataStartup {
  const checks: Record<Name, MetadataCheck> = { metadata1: input.m1, metadata2: input.m2 };
  const findings: Finding[] = [];
  const out: MetadataStartup = { fatal: null, fatalCode: null, stage: null, findings, ops: [], notes: [], fixed: true };
  const names: Name[] = ['metadata1', 'metadata2'];

  // raft_init: metadata1 is read first, so its error is the one printed.
  for (const n of names) {
    const c = checks[n];
    if (c.state === 'error' && out.fatal === null) {
      out.fatal = c.engineError;
      out.fatalCode = c.code;
      out.stage = 'init';
    }
  }
  const v1 = input.m1.state === 'ok' ? input.m1.value : null;
  const v2 = input.m2.state === 'ok' ? input.m2.value : null;
  let dropForPair: Name | null = null;
  if (out.fatal === null && v1 && v2 && v1.version === v2.version) {
    out.fatal = `metadata1 and metadata2 are both at version ${v1.version}`;
    out.fatalCode = 'metadata.same-version';
    out.stage = 'init';
    // Keep the one with the higher term (terms never go back), then the one that records a vote; else metadata1.
    const keep2 = v2.term > v1.term || (v2.term === v1.term && v1.votedFor === 0n && v2.votedFor !== 0n);
    dropForPair = keep2 ? 'metadata1' : 'metadata2';
  }

  const effective = v1 && v2 ? (v1.version > v2.version ? v1 : v2) : (v1 ?? v2);
  const term = effective ? effective.term : 0n;
  const bootstraps = bootstrapsWithoutMetadata(input.nodeId);
  if (out.fatal === null && term === 0n && input.hasLog) {
    // Which node: its ID from info.yaml, or (no info.yaml) a sentence variant that says it is assumed to be the first.
    const who = { segment: FIRST_SEGMENT_NAME, ...(input.nodeId === null ? {} : { node: input.nodeId }) };
    const variant = input.nodeId === null ? '.unknown-node' : '';
    if (bootstraps && input.hasFirstSegment) {
      out.fatal = 'raft_bootstrap(): ';
      out.fatalCode = 'metadata.bootstrap-fails';
      out.stage = 'bootstrap';
      findings.push({
        severity: 'error',
        code: 'metadata.bootstrap-fails',
        file: input.m1.state === 'absent' && input.m2.state !== 'absent' ? 'metadata2' : 'metadata1',
        offset: null,
        ...findingText(`finding.metadata.bootstrap-fails.message${variant}`, who),
        engineError: 'start node: raft_bootstrap(): ',
      });
    } else if (bootstraps) {
      findings.push({
        severity: 'warning',
        code: 'metadata.bootstrap-over-log',
        file: null,
        offset: null,
        ...findingText(`finding.metadata.bootstrap-over-log.message${variant}`, who),
      });
    } else {
      findings.push({
        severity: 'warning',
        code: 'metadata.missing',
        file: null,
        offset: null,
        ...findingText(`finding.metadata.missing.message${variant}`, who),
      });
    }
  }
  if (out.fatal === null) return out;

  // Repair: move every unusable file aside, keep a usable one, write a fresh one when none is left.
  const drop = new Set<Name>();
  for (const n of names) if (checks[n].state === 'error' || checks[n].state === 'torn') drop.add(n);
  if (dropForPair) drop.add(dropForPair);
  for (const n of drop) {
    out.ops.push({ op: 'quarantine', file: n });
    const c = checks[n];
    out.notes.push(
      c.state === 'torn'
        ? say('dqlite.repair.note.metadata-torn', { file: n, size: c.size })
        : c.state === 'error'
          ? say('dqlite.repair.note.metadata-unusable', { file: n, error: c.engineError })
          : say('dqlite.repair.note.metadata-older', { file: n }),
    );
  }
  const remaining = names.filter((n) => !drop.has(n) && checks[n].state === 'ok');
  const remainingTerm = remaining.reduce((t, n) => {
    const c = checks[n];
    return c.state === 'ok' && c.value.term > t ? c.value.term : t;
  }, 0n);
  const needsWrite = remaining.length === 0 || (remainingTerm === 0n && bootstraps && input.hasFirstSegment);
  if (needsWrite) {
    let newTerm = BigInt(Math.max(1, input.maxLogTerm));
    for (const n of names) {
      const c = checks[n];
      if (c.state === 'ok' && c.value.term > newTerm) newTerm = c.value.term;
    }
    const votedFor = parseId(input.nodeId) ?? 0n;
    // Version 1 lives in metadata1; anything still left in metadata2 must not outrank it.
    const other = remaining.length ? checks[remaining[0]] : null;
    let version = 1n;
    if (other && other.state === 'ok' && other.value.version >= version) version = other.value.version + 1n;
    const file: Name = version % 2n === 1n ? 'metadata1' : 'metadata2';
    if (!drop.has(file) && checks[file].state !== 'absent') out.ops.push({ op: 'quarantine', file });
    out.ops.push({ op: 'write', file, bytes: encodeMetadata(version, newTerm, votedFor) });
    const params = { file, version: String(version), term: String(newTerm) };
    out.notes.push(
      votedFor === 0n
        ? say('dqlite.repair.note.metadata-write.unknown-id', params)
        : say('dqlite.repair.note.metadata-write', { ...params, votedFor: String(votedFor) }),
    );
  }
  return out;
}
