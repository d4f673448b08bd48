/**
 * Salvage from an etcd data dir read in place on a node (real sshd; real
 * sudo for kubeadm's root-only layout), through the same handlers the UI
 * calls: the snapshot.db is written on this machine, byte for byte what a
 * local salvage of the same directory writes, and the real `etcdctl
 * snapshot restore` + etcd serve every key of it; a repaired data dir copy
 * is refused for a source read in place (it needs the whole directory here)
 * with a message that says what to do. The node's tree is hashed before
 * and after: never modified.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EtcdRepairOutcome } from '../../shared/contract/etcd-repair';
import { SshService } from '../../electron/services/ssh/ssh-service';
import { ValidationService } from '../../electron/services/validation-service';
import { EtcdRepairService } from '../../electron/services/etcd-repair-jobs';
import { salvageToSnapshotDb } from '../../electron/services/etcd-repair';
import { createSampleCatalog } from '../../electron/services/samples';
import { ensureBuilt } from '../cli/fixtures';
import { ETCDCTL, loopbackEndpoint, requireEtcd, spawnEtcd, waitHealthy } from '../helpers/etcd';
import { sshdAvailable, toolAvailable, type SshdInstance } from '../helpers/sshd';
import { connectToSampleNode, sshServiceFor, startEtcdSampleNode, stopEtcdSampleNode, type EtcdSampleNode } from '../helpers/etcd-sample-node';
import { sudoersDropIn } from '../helpers/sudoers';
import { sudoTestContext, type SudoTestContext } from '../helpers/sudo-context';

const enabled = sshdAvailable() && toolAvailable('/usr/bin/sudo') && toolAvailable('/usr/sbin/visudo') && requireEtcd();
const sudoers = sudoersDropIn('lifeboat-etcd-repair-remote');

async function until<T>(probe: () => T | undefined, what: string, ms = 180_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} did not happen`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(!enabled)('etcd salvage of a data dir read in place on a node (real sshd, real sudo)', () => {
  let sampleNode: EtcdSampleNode;
  let sshd: SshdInstance;
  let ssh: SshService;
  let dir: string;
  let readable: string;
  let rootOnly: string;
  let copies: string;
  let localSnapshot: Buffer;
  let manifest: string;

  beforeAll(async () => {
    await ensureBuilt();
    sampleNode = await startEtcdSampleNode('lifeboat-etcd-repair-remote-', sudoers);
    ({ sshd, dir, readable, rootOnly } = sampleNode);
    // What a local salvage of the same directory writes: the reference.
    const ref = path.join(dir, 'reference', 'snapshot.db');
    await fs.mkdir(path.dirname(ref), { recursive: true });
    await salvageToSnapshotDb(readable, ref);
    localSnapshot = await fs.readFile(ref);
    copies = path.join(dir, 'copies');
    // kubeadm's static pod manifest on the node, for the readable data dir (the root-only one has none: placeholders).
    manifest = path.join(dir, 'node', 'manifests', 'etcd.yaml');
    await fs.mkdir(path.dirname(manifest), { recursive: true, mode: 0o755 });
    await fs.writeFile(
      manifest,
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: etcd, namespace: kube-system}',
        'spec:',
        '  containers:',
        '  - name: etcd',
        '    image: registry.k8s.io/etcd:3.4.23-0',
        '    command:',
        '    - etcd',
        '    - --name=cp-1',
        `    - --data-dir=${readable}`,
        '    - --initial-advertise-peer-urls=https://10.0.0.5:2380',
        '    - --initial-cluster=cp-1=https://10.0.0.5:2380',
        '    - --advertise-client-urls=https://10.0.0.5:2379',
        '    - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt',
        '    - --cert-file=/etc/kubernetes/pki/etcd/server.crt',
        '    - --key-file=/etc/kubernetes/pki/etcd/server.key',
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
    ssh = sshServiceFor(sampleNode, copies);
  }, 300_000);

  afterAll(() => stopEtcdSampleNode(sampleNode, sudoers));

  for (const mode of ['sftp', 'sudo'] as const) {
    it(`${mode}: the snapshot.db is written here, is what a local salvage writes, and etcd serves every key after etcdctl restores it`, async () => {
      const validation = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: ssh.remoteSources });
      const repair = new EtcdRepairService({ validation, outputRoot: () => copies, remote: ssh.remoteSources, manifestPath: manifest });
      const ctx: SudoTestContext = sudoTestContext(ssh, () => sshd.password);
      try {
        const connectionId = await connectToSampleNode(ssh, sampleNode, ctx);
        const served = mode === 'sftp' ? readable : rootOnly;
        const { jobId } = await validation.start({ kind: 'remote', connectionId, path: served, ...(mode === 'sudo' ? { sudo: true } : {}) }, ctx);
        await until(() => ctx.of('validation.done').find((e) => e.jobId === jobId), 'validation');

        const plan = repair.plan(jobId, 'snapshot', ctx);
        expect(plan.remote).toBe(true);
        expect(plan.sudo).toBe(mode === 'sudo');
        expect(plan.input).toBe(`${sshd.user}@${sshd.host}:${served}`);
        expect(plan.refusal).toBeNull();
        // A repaired copy needs the whole directory here: refused, saying what to do instead.
        const repairPlan = repair.plan(jobId, 'repair', ctx);
        expect(repairPlan.refusalText?.key).toBe('etcdRepairUi.refuse.repairRemote');
        await expect(repair.start({ jobId, mode: 'repair', outputPath: path.join(copies, `r-${mode}`) }, ctx)).rejects.toMatchObject({
          code: 'unsupported',
          message: expect.stringContaining('Copy out') as string,
        });

        const { repairId } = await repair.start({ jobId, mode: 'snapshot', outputPath: plan.defaultOutput }, ctx);
        const done = await until(
          () => ctx.of('etcd.repair.done').find((e) => e.repairId === repairId) ?? ctx.of('etcd.repair.failed').find((e) => e.repairId === repairId),
          'salvage',
        );
        if (!('outcome' in done)) throw new Error(`salvage failed: ${done.error}`);
        const outcome: EtcdRepairOutcome = done.outcome;
        if (outcome.mode !== 'snapshot') throw new Error('not a snapshot outcome');
        expect(outcome.remote).toBe(true);
        expect(outcome.report.lost).toEqual([]);
        // Byte for byte what the local salvage wrote (same keys, values, revisions, trailer).
        const written = await fs.readFile(plan.defaultOutput);
        expect(written.equals(localSnapshot)).toBe(true);
        expect(written.subarray(written.length - 32).toString('hex')).toBe(outcome.report.sha256);
        // The plan: the data dir is the one read on the node; the snapshot must be copied there first.
        expect(outcome.restore.member.dataDir).toBe(served);
        expect(outcome.placeholders.map((p) => p.about.key)).toContain('etcdRepairUi.placeholder.snapshotOnNode');
        expect(outcome.restore.steps.find((s) => s.kind === 'restore')!.command).toContain(`snapshot restore /var/tmp/snapshot.db`);
        expect(outcome.restore.steps.find((s) => s.kind === 'move-aside')!.command).toContain(`mv ${served} ${served}.lifeboat-aside`);
        const command = (kind: string): string => outcome.restore.steps.find((s) => s.kind === kind)!.command;
        if (mode === 'sftp') {
          // The node's manifest names this data dir: the plan is the member's own (static pod, name, peer URL, TLS).
          expect(outcome.restore.member.style).toBe('static-pod');
          expect(command('stop')).toContain(`mv ${manifest} `);
          expect(command('restore')).toContain('--name cp-1');
          expect(command('restore')).toContain('--initial-advertise-peer-urls https://10.0.0.5:2380');
          expect(command('verify')).toContain('--endpoints=https://10.0.0.5:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt');
          expect(outcome.placeholders.map((p) => p.about.key)).toEqual(['etcdRepairUi.placeholder.snapshotOnNode']);
        } else {
          // No manifest for this data dir: what the report knows, the rest named.
          expect(outcome.restore.member.style).toBe('unknown');
          expect(outcome.placeholders.map((p) => p.about.key)).toEqual(
            expect.arrayContaining(['etcdRepairUi.placeholder.runStyle', 'etcdRepairUi.placeholder.tls']) as string[],
          );
        }

        // The oracle: etcdctl 3.4 restores it without --skip-hash-check and etcd serves every key written.
        const ep = await loopbackEndpoint();
        const peer = `http://${ep.host}:${ep.peerPort}`;
        const restored = path.join(dir, `restored-${mode}`);
        const r = spawnSync(
          ETCDCTL,
          [
            'snapshot',
            'restore',
            plan.defaultOutput,
            '--data-dir',
            restored,
            '--name',
            'r',
            '--initial-cluster',
            `r=${peer}`,
            '--initial-advertise-peer-urls',
            peer,
          ],
          { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' }, timeout: 120_000 },
        );
        expect(r.status, r.stderr).toBe(0);
        const node = await spawnEtcd({ dataDir: restored, name: 'r', host: ep.host, clientPort: ep.clientPort, peerPort: ep.peerPort });
        try {
          expect(await waitHealthy(node, 60_000), node.output()).toBe(true);
          const keys = await node.rangeBytes('');
          expect(keys.size).toBe(outcome.report.keysWritten);
          expect(outcome.report.keysListedTruncated).toBe(false);
          expect([...keys.keys()].sort()).toEqual(outcome.report.keys.map((k) => k.key).sort());
          for (const k of outcome.report.keys) expect(keys.get(k.key)!.length, k.key).toBe(k.valueSize);
        } finally {
          await node.stop();
        }
        if (mode === 'sudo') {
          // Only read-only commands ran as root.
          const root = ctx.of('ssh.command').filter((c) => c.kind === 'exec' && c.text.startsWith('sudo -S'));
          expect(root.some((c) => c.text.includes(`${rootOnly}/member/snap/db`))).toBe(true);
          for (const c of root) expect(c.text).toMatch(/^sudo -S -k -p '' (true|sh -c '(find -H |dd if=))/);
        }
        await ssh.release(ctx);
      } finally {
        repair.shutdown();
        await validation.shutdown();
      }
    }, 300_000);
  }
});
