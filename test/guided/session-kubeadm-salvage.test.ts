/**
 * Field report 2 end to end, the case that ended with a reinstalled cluster:
 * a kubeadm-like realistic node (etcd 3.4 run from the static pod manifest by
 * the kubelet stand-in) whose bbolt db has a branch element pointing at page 0,
 * so etcd panics with `freepages: failed to get all reachable pages (page 0:
 * invalid type: meta)` and crash-loops, and there is no backup. The crictl log
 * picks the kubeadm playbook; the data dir is copied off through sudo and
 * validated; Lifeboat salvages a snapshot.db from the copy (the real CLI); the
 * session uploads it to the node (SFTP, sudo install, SHA-256 checked on the
 * node; an existing file at the destination is refused); the playbook restores it with the manifest's flags and etcd serves every key,
 * with its value, that the cluster had before the damage.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { sudoCopyOut } from '../../electron/services/ssh/sudo-copy';
import { SessionService } from '../../electron/services/sessions/session-service';
import { SessionStore } from '../../electron/services/sessions/session-store';
import { localDirectory } from '../../electron/services/fs-source';
import { analyzeLogText } from '../../shared/logs';
import { playbookById, suggestPlaybooks } from '../../shared/guided/playbooks';
import { sessionHtml, sessionMarkdown } from '../../shared/guided/export';
import { variablesFromDatastore } from '../../shared/guided/variables';
import { detectNode } from '../../shared/node/detect';
import { validateDirectory } from '../../shared/validate';
import { CLI, ensureBuilt } from '../cli/fixtures';
import { ETCD_DAMAGE_CASES } from '../helpers/etcd-damage';
import { copyDir, hashTree, makeGolden, requireEtcd, tempDir } from '../helpers/etcd';
import { realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { walkSession } from '../helpers/etcd-cluster-nodes';
import { connectedNode, releaseNode, sessionNodeOver, servedKeys } from '../helpers/guided-node';

const RUN = requireEtcd() && sshdAvailable() && realisticNodesAvailable();
const MANIFEST = '/etc/kubernetes/manifests/etcd.yaml';

describe.runIf(RUN)('guided session: kubeadm etcd with a corrupt db and no backup (report 2)', () => {
  let tmp: string;
  let node: RealisticNode;
  let conn: SshConnection;
  let before: Map<string, string>;
  let clientUrl: string;

  beforeAll(async () => {
    await ensureBuilt();
    tmp = await tempDir('guided-r2');
    const g = await makeGolden(path.join(tmp, 'etcd'), { keys: 300, valueSize: 64 });
    before = g.keys;
    clientUrl = g.endpoint.clientUrl;
    const damaged = path.join(tmp, 'damaged');
    await copyDir(g.dir, damaged);
    const damage = ETCD_DAMAGE_CASES.find((c) => c.name === 'bbolt: branch element points at page 0')!;
    await damage.damage(damaged);
    const ep = g.endpoint;
    ({ node, conn } = await connectedNode(tmp, {
      files: {
        [MANIFEST]:
          `apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - etcd\n` +
          `    - --advertise-client-urls=${ep.clientUrl}\n    - --data-dir=/var/lib/etcd\n    - --initial-advertise-peer-urls=${ep.peerUrl}\n` +
          `    - --initial-cluster=${ep.name}=${ep.peerUrl}\n    - --listen-client-urls=${ep.clientUrl}\n    - --listen-metrics-urls=\n` +
          `    - --listen-peer-urls=${ep.peerUrl}\n    - --name=${ep.name}\n    - --snapshot-count=10000\n    image: registry.k8s.io/etcd:3.4.23-0\n    name: etcd\n  hostNetwork: true\n`,
      },
      copies: { '/var/lib/etcd': damaged },
      kubelet: true,
    }));
  }, 300_000);

  afterAll(() => releaseNode({ conn, node, tmp }));

  it('matches the panic, copies and validates, salvages, restores with the manifest flags: every key is back', async () => {
    const sessionNode = sessionNodeOver(conn, node);
    const exec = sessionNode;
    const sudo = sessionNode.sudo;

    // The kubelet keeps restarting etcd, which panics: what `crictl logs` shows.
    let logs = '';
    for (let i = 0; i < 20 && !/freepages: failed to get all reachable pages/.test(logs); i++) {
      await new Promise((r) => setTimeout(r, 500));
      logs = (await node.exec('crictl logs e7cd00000001')).stdout;
    }
    expect(logs).toContain('freepages: failed to get all reachable pages (page 0: invalid type: meta)');
    const analysis = analyzeLogText('etcd', logs);
    const matched = Object.keys(analysis.counts).filter((id) => analysis.counts[id]! > 0);
    expect(suggestPlaybooks(matched, 'etcd')[0]!.id).toBe('kubeadm-etcd-db');

    const card = await detectNode(exec, { sudo: true, target: sessionNode.host });
    const ds = card.datastores[0]!;
    expect(ds).toMatchObject({ engine: 'etcd', managedBy: 'static-pod', dataDir: '/var/lib/etcd', manifest: MANIFEST });
    expect(ds.newestGoodBackup).toBeNull();

    const store = new SessionStore(path.join(tmp, 'guided'), playbookById);
    const service = new SessionService({ store, nodeFor: () => sessionNode });
    let s = await service.create({ playbookId: 'kubeadm-etcd-db', connectionId: 'c', variables: variablesFromDatastore(ds), language: 'en' });
    const id = s.sessionId;
    s = await service.run(id, 'overview');
    expect(s.status['overview']).toBe('passed');
    s = await service.run(id, 'pod-logs');
    expect(s.status['pod-logs']).toBe('passed');

    // Copy-validate: the copy through sudo, verified, and what etcd would do with it.
    const copy = await sudoCopyOut({ remotePath: '/var/lib/etcd', localDir: path.join(tmp, 'copies'), sudo, force: true });
    expect(copy.allMatch).toBe(true);
    const copyHash = await hashTree(copy.localPath);
    const report = await validateDirectory(localDirectory(copy.localPath));
    expect(report.engine).toBe('etcd');
    expect(report.startable).toBe(false);
    expect(report.findings.some((f) => f.engineError?.includes('freepages: failed to get all reachable pages (page 0: invalid type: meta)'))).toBe(true);
    s = await service.copyValidated(id, 'copy-validate', {
      ok: true,
      summary: report.summary,
      findings: report.findings.map((f) => ({ severity: f.severity, text: f.engineError ?? f.message })),
    });
    expect(s.current).toBe('have-backup');
    expect(s.events.some((e) => e.type === 'finding' && e.text.includes('freepages'))).toBe(true);

    // No backup: salvage one from the copy with the real CLI, and upload it to the node from the session.
    const salvaged = path.join(tmp, 'salvaged-snapshot.db');
    const cli = spawnSync(process.execPath, [CLI, 'salvage', copy.localPath, '--snapshot', salvaged, '--json'], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(await hashTree(copy.localPath)).toBe(copyHash);
    const local = await fs.readFile(salvaged);
    const localSha = createHash('sha256').update(local).digest('hex');
    s = await service.choose(id, 'have-backup', 'salvaged');
    expect(s.current).toBe('upload-salvaged');
    const dest = `/var/backups/lifeboat/${id}-salvaged-snapshot.db`;

    // A file already at the destination is never overwritten: the step fails and says so, the file is as it was.
    expect((await node.exec(`mkdir -p /var/backups/lifeboat && printf 'not yours' > ${dest}`)).code).toBe(0);
    s = await service.upload(id, 'upload-salvaged', salvaged);
    expect(s.status['upload-salvaged']).toBe('failed');
    expect(s.current).toBe('upload-salvaged');
    expect(s.events.some((e) => e.type === 'finding' && e.text.includes(`${dest} already exists on the node: nothing was written`))).toBe(true);
    expect(await fs.readFile(node.hostPath(dest), 'utf8')).toBe('not yours');
    expect(s.variables['backup']).toBeUndefined();
    expect((await node.exec(`mv ${dest} ${dest}.theirs`)).code).toBe(0);

    // Now it goes: SFTP to a private temp, sudo install -m 0600, SHA-256 on the node = the local file's.
    s = await service.upload(id, 'upload-salvaged', salvaged);
    expect(s.status['upload-salvaged'], JSON.stringify(s.events.slice(-3))).toBe('passed');
    expect(s.variables['backup']).toBe(dest);
    const onNode = await fs.readFile(node.hostPath(dest));
    expect(createHash('sha256').update(onNode).digest('hex')).toBe(localSha);
    expect((await node.exec(`stat -c '%a %U' ${dest}`)).stdout.trim()).toBe('600 root');
    const uploaded = s.events.find((e) => e.type === 'uploaded');
    expect(uploaded).toMatchObject({ host: sessionNode.host, path: dest, bytes: local.length, sha256: localSha, from: salvaged });
    const shown = s.events
      .filter((e) => e.type === 'command-shown' && e.stepId === 'upload-salvaged')
      .map((e) => (e.type === 'command-shown' ? e.command : ''));
    expect(
      shown.some(
        (c) => /^mkdir -p \/var\/backups\/lifeboat && test ! -e \S+ && install -m 0600 \/tmp\/lifeboat-upload\.\w+\/upload /.test(c) && c.endsWith(dest),
      ),
    ).toBe(true);
    // The private temp copy is gone again.
    const temps = s.events.flatMap((e) => (e.type === 'command-finished' && e.command.startsWith('mktemp -d') ? [e.stdout.trim()] : []));
    expect(temps).toHaveLength(1);
    for (const t of temps) expect(t).toMatch(/^\/tmp\/lifeboat-upload\.\w+$/);
    expect((await node.exec(`ls -d ${temps[0]} 2>&1`)).code).not.toBe(0);
    expect(s.current).toBe('check-backup');

    const { walked } = await walkSession(service, id, { skip: { 'kubectl-nodes': 'no kubectl on this test node: etcd is checked directly' } });
    expect(walked).toEqual([
      'check-backup',
      'stop-etcd',
      'wait-stopped',
      'owner',
      'move-aside',
      'restore',
      'chown',
      'start-etcd',
      'wait-healthy',
      'count-keys',
      'kubectl-nodes',
    ]);
    s = await service.finish(id, 'healthy');
    // The report names the upload: host, path, size and hash.
    const md = sessionMarkdown(s, playbookById('kubeadm-etcd-db'), 'en');
    expect(md).toContain(`- ${sessionNode.host} \`${dest}\` sha256 \`${localSha}\`, ${local.length} B`);
    const html = sessionHtml(s, playbookById('kubeadm-etcd-db'), 'zh-CN');
    expect(html).toContain('上传到节点的文件');
    expect(html).toContain(localSha);

    // Every key the cluster had before the damage, with its value.
    expect(await servedKeys(clientUrl)).toEqual(before);
    // The broken directory is kept beside the new one.
    expect((await fs.readdir(node.hostPath('/var/lib'))).some((n) => n.startsWith('etcd.lifeboat-'))).toBe(true);
    await store.close();
  }, 600_000);
});
