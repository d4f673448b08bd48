/**
 * Playbook 6's "database space exceeded" branch end to end: a realistic node
 * (real sshd in its own mount namespace, etcd 3.4 run by the systemctl
 * stand-in from /etc/etcd.env) whose etcd has a tiny backend quota
 * (ETCD_QUOTA_BACKEND_BYTES) and is filled with history (the same keys
 * rewritten) until writes fail with `etcdserver: mvcc: database space
 * exceeded` and the member raises the NOSPACE alarm. The member's log names
 * the playbook, detection fills its variables, and the session walks the
 * branch through the session service over SSH with sudo: status (the
 * revision captured), compact, defrag and disarm (each backed up first and
 * confirmed), then the alarm list. Afterwards no alarm is left, a new write
 * is accepted, the db is smaller than before and every key serves the last
 * value written before the alarm.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { SessionService } from '../../electron/services/sessions/session-service';
import { SessionStore } from '../../electron/services/sessions/session-store';
import { sessionMarkdown } from '../../shared/guided/export';
import { playbookById, suggestPlaybooks } from '../../shared/guided/playbooks';
import { variablesFromDatastore } from '../../shared/guided/variables';
import { analyzeLogText } from '../../shared/logs';
import { detectNode } from '../../shared/node/detect';
import { requireEtcd, tempDir } from '../helpers/etcd';
import { envFile, hasLeader, memberAddresses, pollUntil, walkSession, type MemberAddress } from '../helpers/etcd-cluster-nodes';
import { connectedNode, releaseNode, sessionNodeOver, servedKeys, SYSTEMD_ETCD_UNIT } from '../helpers/guided-node';
import { realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';

const RUN = requireEtcd() && sshdAvailable() && realisticNodesAvailable();
/** 512 KiB: a few hundred small revisions fill it, in seconds. */
const QUOTA = 512 * 1024;

interface MemberStatus {
  header?: { revision?: string };
  dbSize?: string;
}

async function gateway(clientUrl: string, pathname: string, body: unknown): Promise<{ ok: boolean; text: string }> {
  const res = await fetch(`${clientUrl}${pathname}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  return { ok: res.ok, text: await res.text() };
}

const put = (clientUrl: string, key: string, value: string) =>
  gateway(clientUrl, '/v3/kv/put', { key: Buffer.from(key).toString('base64'), value: Buffer.from(value).toString('base64') });

async function status(clientUrl: string): Promise<{ revision: number; dbSize: number }> {
  const r = await gateway(clientUrl, '/v3/maintenance/status', {});
  const s = JSON.parse(r.text) as MemberStatus;
  return { revision: Number(s.header?.revision ?? NaN), dbSize: Number(s.dbSize ?? NaN) };
}

async function alarms(clientUrl: string): Promise<string[]> {
  const r = await gateway(clientUrl, '/v3/maintenance/alarm', { action: 'GET' });
  const body = JSON.parse(r.text) as { alarms?: { alarm?: string }[] };
  return (body.alarms ?? []).map((a) => a.alarm ?? 'NONE');
}

describe.runIf(RUN)('guided session: etcd "database space exceeded" (playbook 6): compact, defrag, disarm', () => {
  let tmp: string;
  let node: RealisticNode;
  let conn: SshConnection;
  let addr: MemberAddress;

  beforeAll(async () => {
    tmp = await tempDir('guided-space');
    [addr] = await memberAddresses(1);
    const env = envFile('s1', addr!, `s1=${addr!.peerUrl}`, 'new') + `ETCD_QUOTA_BACKEND_BYTES=${QUOTA}\n`;
    ({ node, conn } = await connectedNode(tmp, {
      files: { '/etc/systemd/system/etcd.service': SYSTEMD_ETCD_UNIT, '/etc/etcd.env': env },
      setup: ['mkdir -p /var/lib/etcd && chmod 700 /var/lib/etcd'],
      startUnits: ['etcd'],
    }));
    expect(await pollUntil(() => hasLeader(addr!.clientUrl), 60_000)).toBe(true);
  }, 120_000);

  afterAll(() => releaseNode({ conn, node, tmp }));

  it('fills to NOSPACE; the session compacts, defragments and disarms; writes work again and every key keeps its value', async () => {
    const url = addr.clientUrl;
    // History: 40 keys rewritten with ~1.5 KiB values until the quota refuses a write.
    const acked = new Map<string, string>();
    let refusal = '';
    let refusedKey = '';
    let refusedValue = '';
    for (let i = 0; i < 5000 && !refusal; i++) {
      const key = `/registry/configmaps/default/cm${String(i % 40).padStart(2, '0')}`;
      const value = `rev-${i}-${'v'.repeat(1500)}`;
      const r = await put(url, key, value);
      if (r.ok) acked.set(key, value);
      else [refusal, refusedKey, refusedValue] = [r.text, key, value];
    }
    expect(refusal).toContain('etcdserver: mvcc: database space exceeded');
    expect(acked.size).toBe(40);
    expect(await alarms(url)).toEqual(['NOSPACE']);
    // What the member holds when the operator arrives: every acknowledged value, except that the write
    // refused with NOSPACE may still have been applied (etcd applies the entry that crosses the quota, then raises the alarm).
    const expected = await servedKeys(url);
    expect([...expected.keys()].sort()).toEqual([...acked.keys()].sort());
    for (const [key, value] of expected) expect(value === acked.get(key) || (key === refusedKey && value === refusedValue), key).toBe(true);
    const before = await status(url);
    expect(before.dbSize).toBeGreaterThanOrEqual(QUOTA - 64 * 1024);

    // The member's own log shows the alarm; it names this playbook and no other.
    let log = '';
    expect(
      await pollUntil(async () => {
        log = (await node.exec('journalctl -u etcd --no-pager -n 400')).stdout;
        return /alarm NOSPACE raised by peer [0-9a-f]+/.test(log);
      }, 30_000),
      log.slice(-2000),
    ).toBe(true);
    const analysis = analyzeLogText('etcd', log);
    expect(analysis.counts['etcd.no-space']).toBeGreaterThan(0);
    const matched = Object.keys(analysis.counts).filter((id) => analysis.counts[id]! > 0);
    expect(suggestPlaybooks(matched, 'etcd').map((p) => p.id)).toEqual(['etcd-quorum-space']);

    // Detection gives the variables; the session walks the space branch.
    const session = sessionNodeOver(conn, node);
    const card = await detectNode(session, { sudo: true, target: session.host });
    const ds = card.datastores[0]!;
    expect(ds).toMatchObject({ engine: 'etcd', managedBy: 'systemd', dataDir: '/var/lib/etcd', unit: 'etcd.service' });
    const variables = variablesFromDatastore(ds);
    expect(variables['endpoint']).toBe(url);
    const store = new SessionStore(path.join(tmp, 'guided'), playbookById);
    const service = new SessionService({ store, nodeFor: () => session });
    const s0 = await service.create({ playbookId: 'etcd-quorum-space', connectionId: 's1', variables, language: 'en' });
    const { state, walked, routed } = await walkSession(service, s0.sessionId, { choose: { which: 'space' } });
    expect(walked).toEqual(['which', 'status', 'compact', 'defrag', 'disarm', 'alarms-clear']);
    expect(routed).toEqual([]);
    // The revision compacted to is the one the status probe read (header.revision): nothing was written in between.
    expect(state.variables['revision']).toBe(String(before.revision));
    expect(state.current).toBeNull();
    // The last check shows the member with no alarm left, in etcdctl's own table.
    const verify = state.events.find((e) => e.type === 'command-finished' && e.stepId === 'alarms-clear');
    const verifyOut = verify?.type === 'command-finished' ? verify.stdout : '';
    expect(verifyOut).toContain(`| ${url} |`);
    expect(verifyOut).not.toContain('NOSPACE');
    await service.finish(s0.sessionId, 'healthy');

    // No alarm, every key with the value last written before the alarm, a smaller db, and writes accepted again.
    expect(await alarms(url)).toEqual([]);
    expect(await servedKeys(url)).toEqual(expected);
    const after = await status(url);
    expect(after.dbSize).toBeLessThan(before.dbSize / 2);
    const written = await put(url, '/registry/after/space', 'accepted again');
    expect(written.ok, written.text).toBe(true);
    expect((await servedKeys(url)).get('/registry/after/space')).toBe('accepted again');
    // History before the compaction is gone (that is what the confirmation warned about).
    const old = await gateway(url, '/v3/kv/range', { key: Buffer.from('/registry/configmaps/default/cm00').toString('base64'), revision: 2 });
    expect(old.text).toContain('required revision has been compacted');

    // The journal kept every backup with its hash, and the report shows the commands with the revision filled in.
    const backups = state.events.flatMap((e) => (e.type === 'backup' ? [e] : []));
    expect(backups.map((b) => b.stepId)).toEqual(['compact', 'defrag', 'disarm']);
    for (const b of backups) expect(b.sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const b of backups) expect((await node.exec(`sha256sum '${b.archive}'`)).stdout.split(/\s/)[0]).toBe(b.sha256);
    const md = sessionMarkdown(await store.load(s0.sessionId), playbookById('etcd-quorum-space'), 'en');
    expect(md).toContain(`compact ${before.revision}`);
    // Defragmenting a db at its quota outlasts etcdctl's default 5 s: the step gives it the time (and etcdctl 3.4 took the flag).
    expect(md).toContain('--command-timeout=30m defrag');
    expect(md).toContain('alarm disarm');
    await store.close();
  }, 180_000);
});
