/**
 * The fuzz targets, one file each. The interface (what a target provides and
 * what `run` must do) is documented in ../target.ts; to add a format, write
 * `targets/<name>.ts` and list it here.
 *
 * Formats: dqlite segments, snapshot .meta and data (LZ4), metadata, whole
 * backend directories (with cluster.yaml/info.yaml), their offline rebuild
 * and the payloads it decodes (FSM snapshots with SQLite WALs, FRAMES
 * commands), SQLite databases (kine tables, with their WAL), LZ4 frames, YAML, JSON,
 * log text (all signatures), known_hosts, ssh_config, node-facts output, the etcd configurations and other probes detection reads, listings (ls -l, pick lists, copy-out and sudo), guided session journals, and
 * the protobuf wire reader the etcd decoders build on; etcd WAL files and
 * member/wal, .snap files, raft messages and entry requests, bbolt dbs and
 * their pages, mvcc KeyValues and Kubernetes values, whole etcd data dirs,
 * and salvage and repair of damaged etcd data dirs.
 */
import type { FuzzTarget } from '../target';
import { dqliteDirectory } from './dqlite-directory';
import { dqliteMetadata } from './dqlite-metadata';
import { dqlitePayloads, dqliteRebuild } from './dqlite-rebuild';
import { dqliteSegment } from './dqlite-segment';
import { dqliteSnapshotData, dqliteSnapshotMeta } from './dqlite-snapshot';
import { etcdBbolt } from './etcd-bbolt';
import { etcdKv } from './etcd-kv';
import { etcdRaft } from './etcd-raft';
import { etcdRepair } from './etcd-repair';
import { etcdSalvage } from './etcd-salvage';
import { etcdSnap } from './etcd-snap';
import { etcdValidate } from './etcd-validate';
import { etcdWal } from './etcd-wal';
import { json } from './json';
import { knownHosts } from './known-hosts';
import { logText } from './log-text';
import { lz4Frame } from './lz4-frame';
import { membershipYaml } from './membership-yaml';
import { nodeFacts } from './node-facts';
import { nodeListings } from './node-listings';
import { nodeProbes } from './node-probes';
import { sessionJournal } from './session-journal';
import { protobuf } from './protobuf';
import { selftestHang, selftestOom, selftestThrow } from './selftest';
import { sshConfig } from './ssh-config';
import { sqliteDatabase } from './sqlite';
import { ustarArchive } from './ustar';
import { archiveHead } from './archive-head';

export type AnyTarget = FuzzTarget<unknown, unknown>;

/** Each target has its own input and corpus types; the runner only passes one's output back to the same target. */
function erase<I, C>(t: FuzzTarget<I, C>): AnyTarget {
  return t as unknown as AnyTarget;
}

export const TARGETS: readonly AnyTarget[] = [
  dqliteSegment,
  dqliteSnapshotMeta,
  dqliteSnapshotData,
  dqliteMetadata,
  lz4Frame,
  dqliteDirectory,
  dqliteRebuild,
  dqlitePayloads,
  sqliteDatabase,
  ustarArchive,
  archiveHead,
  membershipYaml,
  json,
  logText,
  knownHosts,
  sshConfig,
  nodeFacts,
  nodeProbes,
  nodeListings,
  sessionJournal,
  protobuf,
  etcdWal,
  etcdSnap,
  etcdRaft,
  etcdBbolt,
  etcdKv,
  etcdValidate,
  etcdSalvage,
  etcdRepair,
  selftestHang,
  selftestOom,
  selftestThrow,
].map((t) => erase(t as FuzzTarget<never, never>));

export function targetByName(name: string): AnyTarget | undefined {
  return TARGETS.find((t) => t.name === name);
}
