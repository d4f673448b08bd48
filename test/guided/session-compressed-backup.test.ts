/**
 * A systemd etcd whose cron script compresses its backups (`etcdctl snapshot
 * save … && gzip`), started only after an older plain backup: the newest
 * good backup etcdctl can take as it is holds less than the compressed one.
 * The restore session decompresses the newer one first (the node card's own
 * command, confirmed and backed up like any change), checks and restores
 * from what it wrote: etcd then serves the keys written after the plain
 * backup too. The compressed backup is unchanged, its decompressed copy is
 * root-only. On a node with no such backup the step passes itself by.
 * Real etcd 3.4, sshd and sudo in a realistic node.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { SessionService } from '../../electron/services/sessions/session-service';
import { SessionStore } from '../../electron/services/sessions/session-store';
import { playbookById } from '../../shared/guided/playbooks';
import { sessionMarkdown } from '../../shared/guided/export';
import { variablesFromDatastore } from '../../shared/guided/variables';
import { detectNode } from '../../shared/node/detect';
import { makeGolden, requireEtcd, tempDir } from '../helpers/etcd';
import { realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { walkSession } from '../helpers/etcd-cluster-nodes';
import { BACKUP_SCRIPT, connectedNode, kubekeyEtcdFiles, releaseNode, sessionNodeOver, servedKeys } from '../helpers/guided-node';

const RUN = requireEtcd() && sshdAvailable() && realisticNodesAvailable();
const GZIP_SCRIPT = '/usr/local/bin/kube-scripts/etcd-backup-gz.sh';

async function put(clientUrl: string, key: string, value: string): Promise<void> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const res = await fetch(`${clientUrl}/v3/kv/put`, {
    method: 'POST',
    body: JSON.stringify({ key: b64(key), value: b64(value) }),
    signal: AbortSignal.timeout(10_000),
  });
  expect(res.ok).toBe(true);
}

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');

describe.runIf(RUN)('guided session: the newest backup is compressed', () => {
  let tmp: string;
  let node: RealisticNode;
  let conn: SshConnection;
  let clientUrl: string;
  let keysAtGzip: Map<string, string>;
  let store: SessionStore;
  /** The first test's session variables: a card detected before the backup was decompressed. */
  let firstCard: Record<string, string> = {};

  beforeAll(async () => {
    tmp = await tempDir('guided-gz');
    const g = await makeGolden(path.join(tmp, 'etcd'), { keys: 40 });
    clientUrl = g.endpoint.clientUrl;
    const files = kubekeyEtcdFiles(g.endpoint, { clusterState: 'existing' });
    const script = files[BACKUP_SCRIPT]!;
    const plain = String(typeof script === 'object' && 'content' in script ? script.content : script);
    // The same script with its file compressed afterwards, as many hand-written cron jobs do.
    files[GZIP_SCRIPT] = {
      content: plain.replace(/snapshot save \$BACKUP_DIR\/snapshot\.db > \/dev\/null/, '$& && gzip $BACKUP_DIR/snapshot.db'),
      mode: 0o755,
    };
    ({ node, conn } = await connectedNode(tmp, { files, copies: { '/var/lib/etcd': g.dir }, startUnits: ['etcd'] }));
    const older = await node.exec(`sh ${BACKUP_SCRIPT}`, 60_000);
    expect(older.code, older.stderr).toBe(0);
    for (let i = 0; i < 15; i++) await put(clientUrl, `/registry/configmaps/default/after-plain-${i}`, `written after the plain backup ${i}`);
    // Backup dirs are named by the second: the compressed one must not share the plain one's.
    const newer = await node.exec(`sleep 1.1; sh ${GZIP_SCRIPT}`, 60_000);
    expect(newer.code, newer.stderr).toBe(0);
    keysAtGzip = await servedKeys(clientUrl);
    expect(keysAtGzip.size).toBe(55);
    await node.exec('systemctl stop etcd');
    await fs.truncate(node.hostPath('/var/lib/etcd/member/snap/db'), 8192);
    store = new SessionStore(path.join(tmp, 'guided'), playbookById);
  }, 240_000);

  afterAll(async () => {
    await store?.close();
    await releaseNode({ conn, node, tmp });
  });

  it('decompresses the newer backup as a confirmed change and restores every key it holds', async () => {
    const sessionNode = sessionNodeOver(conn, node);
    const card = await detectNode(sessionNode, { sudo: true, target: sessionNode.host });
    const ds = card.datastores[0]!;
    const gz = ds.backups.find((b) => b.compressed === 'gzip')!;
    expect(gz).toMatchObject({ valid: true });
    expect(gz.path).toMatch(/^\/var\/backups\/kube_etcd\/etcd-[-\d]+\/snapshot\.db\.gz$/);
    expect(gz.decompressedPath).toBe(gz.path.replace(/\.gz$/, ''));
    expect(ds.newestGoodBackup).not.toBe(gz.decompressedPath);
    expect(ds.newestGoodBackup).toMatch(/\/snapshot\.db$/);
    const gzBefore = await sha256(node.hostPath(gz.path));

    const vars = variablesFromDatastore(ds);
    expect(vars).toMatchObject({ backup: ds.newestGoodBackup, compressedBackup: gz.path, decompressedBackup: gz.decompressedPath });
    firstCard = vars;
    const service = new SessionService({ store, nodeFor: () => sessionNode });
    const s0 = await service.create({ playbookId: 'etcd-systemd-restore', connectionId: 'c1', variables: vars, language: 'en' });
    const id = s0.sessionId;
    const { state, walked } = await walkSession(service, id, {
      skip: { 'kubectl-nodes': 'no kubectl on this test node: etcd is checked directly' },
      beforeBackup: async (stepId) => {
        // The decompress step is a change like any other: no confirmation, no backup, no run.
        if (stepId === 'decompress-backup') await expect(service.run(id, stepId, { confirm: { by: 'test' } })).rejects.toThrow(/take the backup first/);
      },
    });
    expect(walked.slice(0, 4)).toEqual(['overview', 'unit-state', 'decompress-backup', 'check-backup']);
    // The restore used the decompressed copy, not the older plain backup the card called newest.
    expect(state.variables.backup).toBe(gz.decompressedPath);
    const shown = state.events.filter((e) => e.type === 'command-shown' && e.stepId === 'decompress-backup').map((e) => (e as { command: string }).command);
    expect(shown.at(-1)).toBe(`${gz.decompressCommand} && printf 'restore-from %s\\n' ${gz.decompressedPath}`);
    expect(
      state.events
        .filter((e) => e.type === 'command-shown' && e.stepId === 'restore')
        .map((e) => (e as { command: string }).command)
        .join('\n'),
    ).toContain(gz.decompressedPath);
    await service.finish(id, 'healthy');

    // etcd serves every key of the compressed backup, with its value: the 15 written after the plain one too.
    expect(await servedKeys(clientUrl)).toEqual(keysAtGzip);
    // The compressed backup is as it was; its decompressed copy is root's only and carries the backup's time.
    expect(await sha256(node.hostPath(gz.path))).toBe(gzBefore);
    const out = await fs.stat(node.hostPath(gz.decompressedPath!));
    expect(out.mode & 0o777).toBe(0o600);
    expect(Math.floor(out.mtimeMs / 1000)).toBe(Math.floor((await fs.stat(node.hostPath(gz.path))).mtimeMs / 1000));
    const md = sessionMarkdown(await store.load(id), playbookById('etcd-systemd-restore'), 'en');
    expect(md).toContain('Decompress the newer backup');
    expect(md).toContain(`gzip -dc -- '${gz.path}'`);
  }, 300_000);

  it('from a card detected before the backup was decompressed by hand: the step takes the copy already there', async () => {
    // The operator ran the card's command in the terminal, then started a session from the card as it was.
    const sessionNode = sessionNodeOver(conn, node);
    const service = new SessionService({ store, nodeFor: () => sessionNode });
    const s0 = await service.create({ playbookId: 'etcd-systemd-restore', connectionId: 'c1', variables: firstCard, language: 'en' });
    const out = firstCard.decompressedBackup!;
    const before = await fs.stat(node.hostPath(out));
    const { state, walked } = await walkSession(service, s0.sessionId, { stopAt: 'stop-etcd' });
    expect(walked).toEqual(['overview', 'unit-state', 'decompress-backup', 'check-backup']);
    expect(state.status['decompress-backup']).toBe('passed');
    expect(state.variables.backup).toBe(out);
    // Nothing was written: the copy there is this backup decompressed.
    const after = await fs.stat(node.hostPath(out));
    expect([after.mtimeMs, after.ino]).toEqual([before.mtimeMs, before.ino]);
    await service.finish(s0.sessionId, 'abandoned');
  }, 120_000);

  it('passes the step by, saying why, where the card found no newer compressed backup', async () => {
    const sessionNode = sessionNodeOver(conn, node);
    const card = await detectNode(sessionNode, { sudo: true, target: sessionNode.host });
    const ds = card.datastores[0]!;
    // The decompressed copy written above is now the newest good backup: nothing compressed is newer.
    expect(ds.newestGoodBackup).toMatch(/snapshot\.db$/);
    const vars = variablesFromDatastore(ds);
    expect(vars.compressedBackup).toBeUndefined();
    const service = new SessionService({ store, nodeFor: () => sessionNode });
    let s = await service.create({ playbookId: 'etcd-systemd-restore', connectionId: 'c1', variables: vars, language: 'zh-CN' });
    s = await service.run(s.sessionId, 'overview');
    s = await service.run(s.sessionId, 'unit-state');
    expect(s.current).toBe('check-backup');
    expect(s.status['decompress-backup']).toBe('skipped');
    const why = s.events.find((e) => e.type === 'step-finished' && e.stepId === 'decompress-backup');
    expect(why).toMatchObject({ reason: 'not needed: the node card found no compressed backup newer than the newest plain one' });
    // Nothing ran for it on the node.
    expect(s.events.some((e) => e.type === 'command-shown' && e.stepId === 'decompress-backup')).toBe(false);
    const zh = sessionMarkdown(await store.load(s.sessionId), playbookById('etcd-systemd-restore'), 'zh-CN');
    expect(zh).toContain('无需执行：节点卡片没有找到比最新未压缩备份更新的压缩备份');
    await service.finish(s.sessionId, 'abandoned');
  }, 120_000);
});
