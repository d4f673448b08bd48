/**
 * A guided session on a node reached as root where sudo is not installed (a
 * kind node, a minimal kubeadm image): a realistic node (real sshd in its
 * own mount namespace, root logged in by key, sessions that cannot find
 * `sudo`) with a KubeKey-style etcd member's files, its env file and data
 * directory root-only. The node is detected as root (its env file is
 * root-only), then the report-5 playbook is walked through the session
 * service over the real SSH connection up to the restore: the unit is
 * stopped and the data directory moved aside, each change backed up first
 * (archives checked on the node) and confirmed. Every command the journal
 * shows is the one that ran, none claims a sudo: the privileged ones are
 * marked as run as root, and the connection sent them as `sh -c '…'`. An
 * upload step then puts a file in place with `install -m 0600` run as root.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_PROBE, type SshConnection } from '../../electron/services/ssh/connection';
import { quoteAlways } from '../../shared/node/shell';
import { taggedCommand } from '../../shared/node/run-tag';
import { SessionService } from '../../electron/services/sessions/session-service';
import { SessionStore } from '../../electron/services/sessions/session-store';
import { playbookById } from '../../shared/guided/playbooks';
import { sessionMarkdown } from '../../shared/guided/export';
import { variablesFromDatastore } from '../../shared/guided/variables';
import { detectNode } from '../../shared/node/detect';
import { tempDir } from '../helpers/etcd';
import { walkSession } from '../helpers/etcd-cluster-nodes';
import { connectedNode, kubekeyEtcdFiles, releaseNode, sessionNodeOver } from '../helpers/guided-node';
import { realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';

const run = promisify(execFile);
const RUN = sshdAvailable() && realisticNodesAvailable();

describe.runIf(RUN)('guided session on a node reached as root with no sudo installed', () => {
  let tmp: string;
  let node: RealisticNode;
  let conn: SshConnection;
  let store: SessionStore;
  const db = Buffer.from('not really a bbolt file, but bytes that must survive the move unchanged\n'.repeat(100));

  beforeAll(async () => {
    tmp = await tempDir('guided-root');
    const files = kubekeyEtcdFiles({ name: 'n1', clientUrl: 'http://127.0.0.1:2379', peerUrl: 'http://127.0.0.1:2380' });
    ({ node, conn } = await connectedNode(tmp, {
      loginAs: 'root',
      hideCommands: ['sudo'],
      sudo: 'none',
      files: {
        ...files,
        '/etc/etcd.env': { content: files['/etc/etcd.env'] as string, mode: 0o600 },
        '/var/lib/etcd/member/snap/db': { content: db, mode: 0o600 },
      },
      setup: ['chmod 700 /var/lib/etcd /var/lib/etcd/member /var/lib/etcd/member/snap'],
    }));
    store = new SessionStore(path.join(tmp, 'guided'), playbookById);
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await releaseNode({ conn, node, tmp });
  });

  it('stops the unit and moves the data directory aside, backed up first, the journal showing no sudo', async () => {
    expect(node.sshd.user).toBe('root');
    expect((await conn.exec('command -v sudo')).code).not.toBe(0);
    const sent: string[] = [];
    conn.on('command', (e: { text: string }) => sent.push(e.text));
    const sessionNode = sessionNodeOver(conn, node);
    const service = new SessionService({ store, nodeFor: () => sessionNode });
    // Detected as root (the env file is root-only), no sudo: the variables come from the node card.
    const card = await detectNode(sessionNode, { sudo: true, target: sessionNode.host });
    const ds = card.datastores[0]!;
    expect(ds).toMatchObject({ managedBy: 'systemd', dataDir: '/var/lib/etcd', running: false });
    expect(ds.settings?.['initial-cluster-token']).toBe('lifeboat-test');
    const s0 = await service.create({ playbookId: 'etcd-systemd-restore', connectionId: 'c1', variables: variablesFromDatastore(ds), language: 'en' });
    const id = s0.sessionId;
    // Known from the start, so the checklist says "as root" rather than "through sudo" before any step runs.
    expect(s0.events[0]).toMatchObject({ type: 'created', asRoot: true });
    const archives: { stepId: string; archive: string; sha256: string }[] = [];
    const { walked, state } = await walkSession(service, id, {
      skip: { 'check-backup': 'this test node has no backup: only the steps before the restore are walked' },
      stopAt: 'restore',
      afterBackup: async (stepId, b) => {
        archives.push({ stepId, ...b });
        const onNode = await fs.readFile(node.hostPath(b.archive));
        expect(createHash('sha256').update(onNode).digest('hex')).toBe(b.sha256);
      },
    });
    expect(walked).toEqual(['overview', 'unit-state', 'check-backup', 'stop-etcd', 'wait-stopped', 'owner', 'move-aside']);
    expect(archives.map((a) => a.stepId)).toEqual(['stop-etcd', 'move-aside']);
    // The backups hold the root-only files as they were: the env file, and the data directory with its db.
    const listed = async (archive: string) => (await run('tar', ['--list', '--file', node.hostPath(archive)])).stdout;
    expect(await listed(archives[0]!.archive)).toMatch(/etc\/etcd\.env/);
    expect(await listed(archives[1]!.archive)).toMatch(/var\/lib\/etcd\/member\/snap\/db/);
    // The change happened: the data directory is aside, byte for byte.
    const aside = (await fs.readdir(node.hostPath('/var/lib'))).filter((n) => n.startsWith('etcd.lifeboat-'));
    expect(aside).toHaveLength(1);
    expect((await fs.readFile(node.hostPath(`/var/lib/${aside[0]}/member/snap/db`))).equals(db)).toBe(true);

    // The journal: every privileged command is marked as run as root, none as through sudo, none names sudo.
    const shown = state.events.flatMap((e) => (e.type === 'command-shown' ? [e] : []));
    const privileged = shown.filter((e) => e.asRoot === true);
    expect(privileged.length).toBeGreaterThanOrEqual(4);
    for (const e of shown) {
      expect(e.sudo, e.command).toBe(false);
      expect(e.command).not.toMatch(/\bsudo\b/);
    }
    expect(new Set(privileged.map((e) => e.stepId))).toEqual(new Set(['stop-etcd', 'move-aside', 'unit-state', 'wait-stopped', 'owner']));
    // ... and the connection sent exactly those as `sh -c '…'` (each tagged, so that a Stop can end it), after
    // learning once that the login is root.
    expect(sent.filter((t) => t === ROOT_PROBE).length).toBeLessThanOrEqual(1);
    expect(sent.join('\n')).not.toMatch(/\bsudo\b/);
    const asSent = sent.map((t) => {
      const tag = /^sh -c 'env LIFEBOAT_RUN=(lb-[0-9a-f]{16}) /.exec(t)?.[1];
      return tag ? { tag, text: t } : null;
    });
    for (const e of privileged)
      expect(
        asSent.some((x) => x && x.text === `sh -c ${quoteAlways(taggedCommand(e.command, x.tag))}`),
        e.command,
      ).toBe(true);
    const md = sessionMarkdown(await store.load(id), playbookById('etcd-systemd-restore'), 'en');
    expect(md).toContain('tar --create');
    expect(md).not.toMatch(/\bsudo\b/);
  }, 180_000);

  it('uploads a file into a root-only place with install -m 0600 run as root, the journal naming no sudo', async () => {
    const sessionNode = sessionNodeOver(conn, node);
    const service = new SessionService({ store, nodeFor: () => sessionNode });
    const local = path.join(tmp, 'upload.db');
    const bytes = Buffer.from('bytes to put on the node as root\n'.repeat(5000));
    await fs.writeFile(local, bytes);
    const s0 = await service.create({
      playbookId: 'kubeadm-etcd-db',
      connectionId: 'c1',
      variables: { dataDir: '/var/lib/etcd.upload-test', manifest: '/etc/kubernetes/manifests/etcd.yaml', memberName: 'n1' },
      language: 'en',
    });
    const id = s0.sessionId;
    await walkSession(service, id, {
      skip: { 'pod-logs': 'not the point of this test', 'copy-validate': 'not the point of this test' },
      choose: { 'have-backup': 'salvaged' },
      stopAt: 'upload-salvaged',
    });
    const s = await service.upload(id, 'upload-salvaged', local);
    expect(s.status['upload-salvaged'], JSON.stringify(s.events.slice(-3))).toBe('passed');
    const dest = `/var/backups/lifeboat/${id}-salvaged-snapshot.db`;
    expect((await fs.readFile(node.hostPath(dest))).equals(bytes)).toBe(true);
    expect((await fs.stat(node.hostPath(dest))).mode & 0o777).toBe(0o600);
    const mine = s.events.filter((e) => 'stepId' in e && e.stepId === 'upload-salvaged');
    const note = mine.find((e) => e.type === 'note');
    expect(note && 'text' in note ? note.text : '').toMatch(/ and install -m 0600 \(as root: no sudo\)$/);
    const shown = mine.flatMap((e) => (e.type === 'command-shown' ? [e] : []));
    expect(shown.find((e) => /install -m 0600/.test(e.command))).toMatchObject({ sudo: false, asRoot: true });
    for (const e of shown) expect(e.command).not.toMatch(/\bsudo\b/);
    expect(JSON.stringify(mine)).not.toMatch(/sudo (install|-)/);
  }, 120_000);
});
