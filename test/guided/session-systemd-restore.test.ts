/**
 * Field report 5 end to end, as the operator would walk it: a KubeKey-like
 * node (realistic node: real sshd in its own mount namespace, etcd 3.4 run
 * by the systemctl stand-in from /etc/etcd.env) whose data directory broke
 * after a power cut, with cron backups taken by the node's own script. The
 * node is detected over SSH, the playbook's variables come from the node
 * card, and every step runs through the session service over the real SSH
 * connection with sudo: backups before changes, confirmations, waits. At
 * the end etcd serves every key of the backup with its value, the old data
 * directory is still on the node (moved aside, archived with the SHA-256
 * the journal recorded), and the exported report tells the story.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { SessionService } from '../../electron/services/sessions/session-service';
import { SessionStore } from '../../electron/services/sessions/session-store';
import { playbookById } from '../../shared/guided/playbooks';
import { sessionHtml, sessionMarkdown } from '../../shared/guided/export';
import { variablesFromDatastore } from '../../shared/guided/variables';
import { detectNode } from '../../shared/node/detect';
import { makeGolden, requireEtcd, tempDir } from '../helpers/etcd';
import { realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { ensureBuilt } from '../cli/fixtures';
import { walkSession } from '../helpers/etcd-cluster-nodes';
import { BACKUP_SCRIPT, connectedNode, kubekeyEtcdFiles, releaseNode, sessionNodeOver, servedKeys } from '../helpers/guided-node';

const REPO = path.resolve(__dirname, '..', '..');
const RUN = requireEtcd() && sshdAvailable() && realisticNodesAvailable();

describe.runIf(RUN)('guided session: restore a systemd etcd from its cron backup (report 5)', () => {
  let tmp: string;
  let node: RealisticNode;
  let conn: SshConnection;
  let backupKeys: Map<string, string>;
  let store: SessionStore;

  beforeAll(async () => {
    await ensureBuilt();
    tmp = await tempDir('guided-r5');
    const g = await makeGolden(path.join(tmp, 'etcd'), { keys: 60 });
    ({ node, conn } = await connectedNode(tmp, {
      files: kubekeyEtcdFiles(g.endpoint, { clusterState: 'existing' }),
      copies: { '/var/lib/etcd': g.dir },
      startUnits: ['etcd'],
    }));
    // The cron job's backup, then writes the backup does not have, then the power cut: the db is cut short.
    const r = await node.exec(`sleep 1; sh ${BACKUP_SCRIPT}`, 60_000);
    expect(r.code, r.stderr).toBe(0);
    backupKeys = await servedKeys(g.endpoint.clientUrl);
    expect(backupKeys.size).toBe(60);
    await node.exec('systemctl stop etcd');
    await fs.truncate(node.hostPath('/var/lib/etcd/member/snap/db'), 8192);
    const broken = await node.exec('systemctl start etcd; sleep 2; systemctl is-active etcd; journalctl -u etcd -n 5');
    expect(broken.stdout).toMatch(/inactive/);
    store = new SessionStore(path.join(tmp, 'guided'), playbookById);
  }, 240_000);

  afterAll(async () => {
    await store?.close();
    await releaseNode({ conn, node, tmp });
  });

  it('walks the playbook to a healthy etcd serving every key of the backup, and records it all', async () => {
    const sessionNode = sessionNodeOver(conn, node);
    const exec = sessionNode;
    const card = await detectNode(exec, { sudo: true, target: sessionNode.host });
    const ds = card.datastores[0]!;
    expect(ds).toMatchObject({ managedBy: 'systemd', dataDir: '/var/lib/etcd', running: false });
    expect(ds.newestGoodBackup).toMatch(/^\/var\/backups\/kube_etcd\/etcd-.*\/snapshot\.db$/);
    // etcd is down and a good backup exists: the card carries the restore planner's commands for this unit's flags.
    expect(ds.restore?.from).toBe(ds.newestGoodBackup);
    const restoreLine = ds.restore!.commands.find((c) => /snapshot restore/.test(c))!;
    expect(restoreLine).toContain(ds.newestGoodBackup!);
    expect(restoreLine).toMatch(/--data-dir[ =]\/var\/lib\/etcd\b/);
    expect(restoreLine).toMatch(/--initial-cluster-token[ =]lifeboat-test\b/);

    const updates: string[] = [];
    const service = new SessionService({ store, nodeFor: () => sessionNode, onUpdate: (s) => updates.push(s.current ?? 'end') });
    let s = await service.create({ playbookId: 'etcd-systemd-restore', connectionId: 'c1', variables: variablesFromDatastore(ds), language: 'en' });
    const id = s.sessionId;
    expect(s.variables).toMatchObject({
      unit: 'etcd.service',
      envFile: '/etc/etcd.env',
      memberName: 'n1',
      initialClusterToken: 'lifeboat-test',
      backup: ds.newestGoodBackup,
    });

    // A change refuses to run before its backup and without a confirmation.
    const { walked } = await walkSession(service, id, {
      skip: { 'kubectl-nodes': 'no kubectl on this test node: etcd is checked directly' },
      beforeBackup: async (stepId) => {
        await expect(service.run(id, stepId, { confirm: { by: 'test' } })).rejects.toThrow(/take the backup first/);
      },
      afterBackup: async (stepId, b) => {
        // The archive on the node is what the journal says it is.
        const onNode = await fs.readFile(node.hostPath(b.archive));
        expect(createHash('sha256').update(onNode).digest('hex')).toBe(b.sha256);
        await expect(service.run(id, stepId)).rejects.toThrow(/.+/);
      },
    });
    expect(walked).toEqual([
      'overview',
      'unit-state',
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

    // etcd serves every key of the backup with its value.
    const served = await servedKeys(card.datastores[0]!.settings!['advertise-client-urls']!);
    expect(served).toEqual(backupKeys);
    expect(s.variables.keyCount).toBe('60');
    // The broken directory is still there, moved aside, byte for byte (its db still cut at 8192).
    const aside = (await fs.readdir(node.hostPath('/var/lib'))).filter((n) => n.startsWith('etcd.lifeboat-'));
    expect(aside).toHaveLength(1);
    expect((await fs.stat(node.hostPath(`/var/lib/${aside[0]}/member/snap/db`))).size).toBe(8192);

    // The journal on disk replays to the same session; the report tells it.
    const again = await store.load(id);
    expect(again.status).toEqual(s.status);
    expect(again.finished?.outcome).toBe('healthy');
    const md = sessionMarkdown(again, playbookById(again.playbookId), 'en');
    expect(md).toContain('etcdctl snapshot restore');
    expect(md).toMatch(/sha256 `[0-9a-f]{64}`/);
    expect(md).toContain('no kubectl on this test node');
    const html = sessionHtml(again, playbookById(again.playbookId), 'zh-CN');
    expect(html).toContain('恢复会话');
    expect(html).not.toMatch(/<script/i);
    await fs.mkdir(path.join(__dirname, '..', '..', 'test-artifacts'), { recursive: true });
    await fs.writeFile(path.join(__dirname, '..', '..', 'test-artifacts', 'session-report-r5.html'), html);
    expect(updates.length).toBeGreaterThan(walked.length);

    // The CLI lists and exports the same session from the journal on disk.
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [path.join(REPO, 'bin', 'lifeboat.cjs'), ...args], { env: { ...process.env, LIFEBOAT_HOME: tmp }, encoding: 'utf8' });
    const list = cli(['session', 'list']);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toContain(`${id}`);
    expect(list.stdout).toContain('etcd-systemd-restore');
    expect(list.stdout).toContain('healthy');
    const mdFile = path.join(tmp, 'r5.md');
    const exp = cli(['session', 'export', id, '--md', mdFile, '--lang', 'zh-CN']);
    expect(exp.status, exp.stderr).toBe(0);
    const zh = await fs.readFile(mdFile, 'utf8');
    expect(zh).toContain('# 恢复会话: 从定时备份恢复由 systemd 管理的 etcd');
    expect(zh).toContain('集群已验证健康');
    expect(cli(['session', 'export', '00000000-0000-0000-0000-000000000000', '--md', mdFile]).stderr).toMatch(/no session .* \(see `lifeboat session list`\)/);
  }, 300_000);
});
