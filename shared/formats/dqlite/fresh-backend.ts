/**
 * A fresh backend directory for rebuilt databases: dqlite starts on it by
 * loading one snapshot (`raft:uv.c` uvLoadSnapshotAndEntries with no segment:
 * start index = snapshot index + 1) and replaying nothing. Its files:
 *
 *   snapshot-TERM-INDEX-1        the FSM payload, uncompressed (libraft hands
 *                                data without the LZ4 magic to dqlite as is),
 *                                each database's main file and no WAL
 *   snapshot-TERM-INDEX-1.meta   format 1, CRC, configuration index, the membership
 *   metadata1                    format 1, version 1, the term, no vote
 *
 * plus the node's own other files (cluster.yaml, info.yaml, certificates),
 * copied by the service. TERM and INDEX are the last entry applied; the
 * metadata's term is never below the term the node had already seen.
 */
import type { RaftServer } from '../../contract/dqlite';
import { encodeMetadata } from './metadata';
import { encodeSnapshotMeta } from './snapshot-meta';
import { stripTrailingSlashes } from '../../text/trailing-slashes';

export interface FreshBackendLayout {
  snapshotName: string;
  metaName: string;
  meta: Uint8Array;
  metadata1: Uint8Array;
  index: number;
  term: number;
}

/** `state`: where the rebuilt databases stand; `seenTerm`: the highest term in the node's metadata files. */
export function freshBackendLayout(
  state: { index: number; term: number; configurationIndex: number | null; servers: RaftServer[] | null },
  seenTerm: number | null,
): FreshBackendLayout | { refused: string } {
  if (state.index < 1 || state.term < 1) return { refused: 'no entry and no snapshot was applied: there is no state to start from' };
  if (!state.servers || state.servers.length === 0)
    return { refused: 'no membership (RAFT_CHANGE entry or snapshot .meta) was read: dqlite would not know its voters' };
  const configurationIndex = Math.min(state.configurationIndex ?? state.index, state.index);
  const snapshotName = `snapshot-${state.term}-${state.index}-1`;
  return {
    snapshotName,
    metaName: `${snapshotName}.meta`,
    meta: encodeSnapshotMeta(configurationIndex, state.servers),
    metadata1: encodeMetadata(1, Math.max(state.term, seenTerm ?? 0), 0),
    index: state.index,
    term: state.term,
  };
}

/**
 * The commands that put a fresh backend in place on a MicroK8s node whose backend is `nodeBackend`: the
 * old one moved aside (never deleted), the copy made by the operator between `moveAside` and `start`.
 * The CLI and the UI print the same ones.
 */
export function backendSwapCommands(nodeBackend: string): { stop: string; moveAside: string; start: string; aside: string } {
  const aside = `${stripTrailingSlashes(nodeBackend)}.before-lifeboat`;
  return {
    stop: 'sudo snap stop microk8s',
    moveAside: `sudo mv ${nodeBackend} ${aside}`,
    start: 'sudo snap start microk8s && microk8s kubectl --request-timeout=30s get nodes',
    aside,
  };
}

/** The fresh backend's files packed into one ustar archive beside its folder, for a guided session's upload step. */
export const FRESH_BACKEND_ARCHIVE = 'backend.tar';

/**
 * One command, run as root, that swaps the fresh backend in from its uploaded archive: every entry of `backend`
 * moved into the new folder `aside` (never deleted), then the archive extracted into `backend` (files owned by
 * root, their 0600 kept, mtimes now). The directory itself stays, so its owner, mode and SELinux context do, and
 * a backend that is a mount point is swapped too. Arguments may be playbook placeholders (`{{dataDir}}`).
 */
export function backendArchiveSwapCommand(backend: string, archive: string, aside: string): string {
  return `mkdir -m 0700 ${aside} && find ${backend} -mindepth 1 -maxdepth 1 -exec mv -t ${aside} -- {} + && tar -x -m --no-same-owner -f ${archive} -C ${backend} && ls -l ${backend}`;
}

/**
 * The live Kubernetes keys of a rebuilt kine database (`file`): kine keeps every revision as a row
 * (id = revision); a key is live when its newest row is not a deletion (compact_rev_key is kine's own
 * bookkeeping row).
 */
export function kineLiveKeysCommand(file: string): string {
  return `sqlite3 ${file} "SELECT name FROM kine AS k WHERE id = (SELECT MAX(id) FROM kine WHERE name = k.name) AND deleted = 0 AND name != 'compact_rev_key' ORDER BY name"`;
}
