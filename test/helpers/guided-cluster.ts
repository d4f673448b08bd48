/**
 * What the multi-member guided-session tests share: a 3-member etcd cluster on
 * realistic nodes (etcd-cluster-nodes.ts) started before the tests with keys
 * written through n1 and taken down after them, one session service that
 * reaches each member by its name as the connection id, the member-lost
 * playbook that brings members back one by one, and the end check that every
 * member serves every key with its value.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { SessionService } from '../../electron/services/sessions/session-service';
import { SessionStore } from '../../electron/services/sessions/session-store';
import { playbookById } from '../../shared/guided/playbooks';
import { tempDir } from './etcd';
import { keySet, pollUntil, putAll, startCluster, stopCluster, walkSession, type ClusterMember, type MemberStyle } from './etcd-cluster-nodes';
import { servedKeys } from './guided-node';

export interface LoadedCluster {
  tmp: string;
  members: ClusterMember[];
  /** key -> value written through n1 before the test: what every member must serve at the end. */
  expected: Map<string, string>;
}

export interface LoadedClusterSpec {
  /** Name of the temp dir (tempDir's prefix). */
  tmpName: string;
  style: MemberStyle;
  /** How many keys (`/registry/before/k0000`...) are written through n1. */
  keys: number;
  /** Wait until every member serves every key (a test that destroys members needs them all applied first). */
  replicated: boolean;
}

/**
 * Registers this describe block's beforeAll (the cluster up and loaded) and
 * afterAll (members stopped, temp dir removed). The returned object is filled
 * in by beforeAll: read its fields inside the tests.
 */
export function loadedClusterHooks(spec: LoadedClusterSpec): LoadedCluster {
  const cluster = {} as LoadedCluster;
  beforeAll(async () => {
    cluster.tmp = await tempDir(spec.tmpName);
    cluster.members = await startCluster(cluster.tmp, spec.style);
    cluster.expected = keySet('before', spec.keys);
    await putAll(cluster.members[0]!.clientUrl, cluster.expected);
    if (!spec.replicated) return;
    for (const m of cluster.members) {
      expect(await pollUntil(async () => (await servedKeys(m.clientUrl)).size === cluster.expected.size, 30_000), m.name).toBe(true);
    }
  }, 240_000);
  afterAll(async () => {
    await stopCluster(cluster.members);
    if (cluster.tmp) await fs.rm(cluster.tmp, { recursive: true, force: true });
  });
  return cluster;
}

/** The kind playbook's steps on the member kept (answered "yes, the newest data"), up to the others' rejoin. */
export const KIND_SURVIVOR_WALK = [
  'addresses',
  'evidence',
  'choose',
  'stop',
  'stop-wait',
  'copy',
  'force',
  'alone',
  'unforce',
  'alone-again',
  'update-peer',
  'keys',
  'rejoin',
];

/** What the walks need of a member wherever it runs (a realistic node, a container): its session's connection id (its name) and client URL. */
export type MemberAt = Pick<ClusterMember, 'name' | 'clientUrl'>;

/** A session store under tmp/guided and a service whose connection ids are the members' names. */
export function clusterSessionService(tmp: string, members: ClusterMember[]): { store: SessionStore; service: SessionService } {
  const store = new SessionStore(path.join(tmp, 'guided'), playbookById);
  const byConnection = new Map(members.map((m) => [m.name, m.session]));
  const service = new SessionService({ store, nodeFor: (c) => byConnection.get(c)! });
  return { store, service };
}

/**
 * Each of `rejoining`, in order, walks the member-lost playbook on its own
 * node against `healthy`. They are no longer registered (the cluster was
 * forced new without them), so the remove step is routed past; the walk and
 * the route are compared with what the playbook's `style` chain must do.
 */
export async function rejoinWithMemberLost<M extends MemberAt>(
  service: SessionService,
  rejoining: M[],
  healthy: MemberAt,
  style: MemberStyle,
  variablesOf: (m: M) => Promise<Record<string, string>>,
): Promise<void> {
  const p = style === 'systemd' ? 'sd-' : 'sp-';
  for (const m of rejoining) {
    const s = await service.create({
      playbookId: 'etcd-member-lost',
      connectionId: m.name,
      variables: { ...(await variablesOf(m)), healthyEndpoint: healthy.clientUrl },
      language: 'en',
    });
    const r = await walkSession(service, s.sessionId, { choose: { style } });
    expect(r.routed, m.name).toEqual([`${p}find-member`]);
    expect(r.walked, m.name).toEqual([
      'members',
      'style',
      `${p}stop`,
      `${p}stop-wait`,
      `${p}find-member`,
      `${p}move-aside`,
      `${p}add`,
      `${p}configure`,
      `${p}start`,
      `${p}healthy`,
    ]);
    await service.finish(s.sessionId, 'healthy');
  }
}

/** Every member serves every key of `expected`, with its value (waiting up to a minute for each to catch up). */
export async function expectEveryMemberServes(members: MemberAt[], expected: Map<string, string>): Promise<void> {
  for (const m of members) {
    expect(await pollUntil(async () => (await servedKeys(m.clientUrl)).size === expected.size, 60_000), m.name).toBe(true);
    expect(await servedKeys(m.clientUrl)).toEqual(expected);
  }
}
