/**
 * The guided upload step over the real web transport (WebSocket + token)
 * against realistic nodes (real sshd in their own mount namespace, real
 * sudo): the picker lists what the copies folder holds, newest good first,
 * judged the way `etcdctl snapshot restore` judges (a real salvaged
 * snapshot.db from the real CLI restores; a copied member/snap/db and a
 * snapshot with a flipped byte do not); the upload sends progress events
 * (bytes, rate, time left) and the node's file is byte-identical; an existing
 * destination is refused and left as it was; a cancel mid-transfer removes
 * the node's temp copy and never touches the destination; a node whose sudo
 * refuses the user says so, in English and in Chinese. Inputs are hashed
 * before and after.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireEvent } from '../../shared/contract/api';
import type { SessionState, UploadCandidates, UploadProgress } from '../../shared/contract/guided';
import type { SshEvents } from '../../shared/contract/ssh';
import { translateLocal } from '../../shared/i18n';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { CLI, ensureBuilt, REPO } from '../cli/fixtures';
import { rebuildDqliteDirectory } from '../../electron/services/dqlite-rebuild';
import { copyDir, hashTree, makeGolden, requireEtcd, tempDir } from '../helpers/etcd';
import { startRealisticNode, realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { pointAppAt, sshAppPaths } from '../e2e/helpers';
import { ApiClient, tryConnect } from '../web/ws-client';

const RUN = requireEtcd() && sshdAvailable() && realisticNodesAvailable();

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe.runIf(RUN)('guided upload over the web transport (realistic nodes, real sshd and sudo)', () => {
  let tmp: string;
  let copies: string;
  let node: RealisticNode;
  let strictNode: RealisticNode;
  let server: WebServer;
  let client: ApiClient;
  let restoreEnv: () => void;
  let salvaged: string;
  let big: string;
  let backendTar: string;
  let inputsBefore: string;
  let password = '';

  beforeAll(async () => {
    await ensureBuilt();
    tmp = await tempDir('guided-upload');
    await fs.chmod(tmp, 0o755);
    const g = await makeGolden(path.join(tmp, 'etcd'), { keys: 200, valueSize: 64 });
    const paths = await sshAppPaths(tmp, (node = await startRealisticNode({})).sshd, { home: path.join(tmp, 'home') });
    // No sudo at all for the test user on this node: not its own rule, nor a drop-in another suite left on the machine.
    strictNode = await startRealisticNode({ sudo: 'none', setup: ['mount -t tmpfs -o mode=0755 tmpfs /etc/sudoers.d'] });
    await fs.appendFile(paths.knownHosts, strictNode.sshd.knownHostsLine() + '\n');
    copies = paths.copies;
    await fs.mkdir(path.join(copies, 'node-a'), { recursive: true });
    // What the copies folder holds after a night of work: the salvaged snapshot (real CLI), the copied data dir's
    // member/snap/db under a .db name (no SHA-256 trailer), and an older snapshot with one byte flipped.
    const copy = path.join(copies, 'node-a', 'etcd');
    await copyDir(g.dir, copy);
    salvaged = path.join(copies, 'node-a', 'salvaged-snapshot.db');
    const cli = spawnSync(process.execPath, [CLI, 'salvage', copy, '--snapshot', salvaged, '--json'], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    const bytes = await fs.readFile(salvaged);
    const flipped = Buffer.from(bytes);
    flipped[5000] = flipped[5000]! ^ 0xff;
    await fs.writeFile(path.join(copies, 'older-snapshot.db'), flipped);
    await fs.copyFile(path.join(copy, 'member', 'snap', 'db'), path.join(copies, 'copied-member.db'));
    // Listed newest first: make the damaged ones newer than the good one, which must still come first.
    const t = Date.now() / 1000;
    await fs.utimes(salvaged, t - 600, t - 600);
    // For the MicroK8s playbook's upload: a fresh backend the offline rebuild packed, a tar of something else, a
    // file named .tar that is none.
    backendTar = (await rebuildDqliteDirectory(path.join(REPO, 'resources', 'samples', 'dqlite-healthy'), path.join(copies, 'node-b', 'rebuilt'))).backend!
      .archive.file;
    await fs.mkdir(path.join(tmp, 'logs'));
    await fs.writeFile(path.join(tmp, 'logs', 'kubelet.log'), 'I1206 08:00:00 kubelet started\n');
    expect(spawnSync('tar', ['-cf', path.join(copies, 'logs.tar'), '-C', path.join(tmp, 'logs'), '.']).status).toBe(0);
    await fs.writeFile(path.join(copies, 'notes.tar'), 'not a tar at all\n');
    // A large file (not a snapshot) for the cancel: long enough to be cut mid-transfer.
    big = path.join(copies, 'large.db');
    await fs.writeFile(big, randomBytes(96 * 1024 * 1024));
    inputsBefore = await hashTree(copies);

    restoreEnv = pointAppAt(paths);
    const rendererDir = path.join(tmp, 'renderer');
    await fs.mkdir(rendererDir);
    await fs.writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>Lifeboat</title>');
    server = await startWebServer({ port: 0, rendererDir, quiet: true, samplesDir: null });
    const r = await tryConnect(server.port, { token: server.token, origin: `http://127.0.0.1:${server.port}` });
    if (!('ws' in r)) throw new Error(`upgrade refused: ${r.status}`);
    client = new ApiClient(r.ws);
    // Password and sudo prompts get the node's password, as an operator would type it.
    r.ws.on('message', (data) => {
      const msg = JSON.parse((data as Buffer).toString('utf8')) as WireEvent;
      if (msg.type !== 'event' || msg.event !== 'ssh.prompt') return;
      const p = msg.payload as SshEvents['ssh.prompt'];
      void client.call('ssh.prompt.answer', { promptId: p.promptId, answers: [password] }).catch(() => undefined);
    });
  }, 300_000);

  afterAll(async () => {
    client?.close();
    await server?.close();
    restoreEnv?.();
    await node?.stop();
    await strictNode?.stop();
    if (tmp) {
      // The inputs were only read.
      if (inputsBefore) expect(await hashTree(copies)).toBe(inputsBefore);
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });

  /** Connect over the contract by password (prompts, sudo's too, are answered with the node's password: see beforeAll). */
  async function connect(n: RealisticNode): Promise<string> {
    password = n.sshd.password;
    const r = await client.call<{ connectionId: string }>('ssh.connect', {
      target: { host: '127.0.0.1', port: n.sshd.port, user: n.sshd.user, useAgent: false },
    });
    return r.connectionId;
  }

  /** A kubeadm salvage session walked to its upload step (the earlier steps skipped with a reason: they are not what is tested). */
  async function atUploadStep(connectionId: string): Promise<SessionState> {
    let s = await client.call<SessionState>('guided.create', { playbookId: 'kubeadm-etcd-db', connectionId, variables: {}, language: 'en' });
    while (s.current && s.current !== 'have-backup') {
      s = await client.call<SessionState>('guided.skip', { sessionId: s.sessionId, stepId: s.current, reason: 'not part of the upload test' });
    }
    s = await client.call<SessionState>('guided.choose', { sessionId: s.sessionId, stepId: 'have-backup', optionId: 'salvaged' });
    expect(s.current).toBe('upload-salvaged');
    return s;
  }

  const progressOf = (sessionId: string): UploadProgress[] =>
    client.events
      .filter((e: WireEvent) => e.event === 'guided.upload.progress' && (e.payload as UploadProgress).sessionId === sessionId)
      .map((e) => e.payload as UploadProgress);

  it('lists the salvaged file first with its SHA-256, the damaged ones after with why they would not restore', async () => {
    const list = await client.call<UploadCandidates>('guided.uploadCandidates', {});
    expect(list.confinedTo).toBe(list.root);
    expect(list.canChooseWithDialog).toBe(false);
    const real = await fs.realpath(copies);
    expect(list.candidates[0]).toMatchObject({
      path: path.join(real, 'node-a', 'salvaged-snapshot.db'),
      valid: true,
      sha256: sha(await fs.readFile(salvaged)),
      origin: 'copies',
    });
    const byName = new Map(list.candidates.map((c) => [path.basename(c.path), c]));
    expect(byName.get('older-snapshot.db')?.problem?.key).toBe('guided.upload.problem.hashMismatch');
    expect(byName.get('copied-member.db')?.problem?.key).toBe('guided.upload.problem.noTrailer');
    expect(byName.get('large.db')?.valid).toBe(false);
    expect(list.candidates.filter((c) => c.valid).map((c) => path.basename(c.path))).toEqual(['salvaged-snapshot.db']);
    // Web mode never reads outside the copies folder: the etcd data dir beside it is not listed.
    expect(list.candidates.every((c) => c.path.startsWith(real + path.sep))).toBe(true);
    expect(await client.call('guided.uploadChoose', {}).catch((e: Error & { code?: string }) => e.code)).toBe('unsupported');
  });

  it('for a dqlite step, lists the backend.tar the rebuild packed as good, tars without a fresh backend after with why', async () => {
    const list = await client.call<UploadCandidates>('guided.uploadCandidates', { accepts: 'dqlite-backend' });
    expect(list.accepts).toBe('dqlite-backend');
    const real = await fs.realpath(copies);
    expect(list.candidates[0]).toMatchObject({
      path: path.join(real, 'node-b', 'rebuilt', 'backend.tar'),
      valid: true,
      sha256: sha(await fs.readFile(backendTar)),
    });
    const byName = new Map(list.candidates.map((c) => [path.basename(c.path), c]));
    expect(byName.get('logs.tar')?.problem).toEqual({
      key: 'guided.upload.problem.notBackend',
      params: { missing: 'metadata1, snapshot-TERM-INDEX-N + .meta' },
    });
    expect(byName.get('notes.tar')?.problem?.key).toBe('guided.upload.problem.notArchive');
    // Only archives are offered for it, and only snapshot.db files for etcd's steps.
    expect(list.candidates.every((c) => c.path.endsWith('.tar'))).toBe(true);
    expect((await client.call<UploadCandidates>('guided.uploadCandidates', {})).candidates.every((c) => c.path.endsWith('.db'))).toBe(true);
    expect(await client.call('guided.uploadCandidates', { accepts: 'zip' }).catch((e: Error & { code?: string }) => e.code)).toBe('bad-params');
  });

  it('refuses an existing destination untouched, then uploads with progress: the node file is byte-identical and recorded', async () => {
    const connectionId = await connect(node);
    let s = await atUploadStep(connectionId);
    const dest = `/var/backups/lifeboat/${s.sessionId}-salvaged-snapshot.db`;
    expect((await node.exec(`mkdir -p /var/backups/lifeboat && printf 'not yours' > ${dest}`)).code).toBe(0);
    s = await client.call<SessionState>('guided.upload', { sessionId: s.sessionId, stepId: 'upload-salvaged', localPath: salvaged });
    expect(s.status['upload-salvaged']).toBe('failed');
    const refused = progressOf(s.sessionId).at(-1)!;
    expect(refused.phase).toBe('failed');
    expect(refused.problem).toEqual({ key: 'guided.upload.problem.exists', params: { path: dest } });
    expect(translateLocal('zh-CN', refused.problem!)).toBe(`节点上已存在 ${dest}：未写入任何内容。请换一个目标路径，或先把该文件移走。`);
    expect(await fs.readFile(node.hostPath(dest), 'utf8')).toBe('not yours');
    expect((await node.exec(`mv ${dest} ${dest}.theirs`)).code).toBe(0);

    const before = client.events.length;
    s = await client.call<SessionState>('guided.upload', { sessionId: s.sessionId, stepId: 'upload-salvaged', localPath: salvaged });
    expect(s.status['upload-salvaged'], JSON.stringify(s.events.slice(-3))).toBe('passed');
    const local = await fs.readFile(salvaged);
    const events = client.events
      .slice(before)
      .filter((e) => e.event === 'guided.upload.progress')
      .map((e) => e.payload as UploadProgress);
    expect(events.map((e) => e.phase).filter((p, i, a) => a[i - 1] !== p)).toEqual(['checking', 'sending', 'installing', 'verifying', 'done']);
    const sending = events.filter((e) => e.phase === 'sending');
    expect(sending.at(-1)).toMatchObject({ bytesSent: local.length, bytesTotal: local.length, etaSeconds: 0 });
    expect(sending.every((e, i) => i === 0 || e.bytesSent >= sending[i - 1]!.bytesSent)).toBe(true);
    const onNode = await fs.readFile(node.hostPath(dest));
    expect(onNode.equals(local)).toBe(true);
    expect((await node.exec(`stat -c '%a %U' ${dest}`)).stdout.trim()).toBe('600 root');
    const up = s.events.find((e) => e.type === 'uploaded');
    expect(up).toMatchObject({ path: dest, bytes: local.length, sha256: sha(local), from: await fs.realpath(salvaged) });
    expect(s.variables['backup']).toBe(dest);
    // No temp left behind on the node: the ones this session's uploads made (other test files upload into the same
    // /tmp meanwhile, so a count of every lifeboat-upload.* there races with them).
    const temps = s.events.flatMap((e) => (e.type === 'command-finished' && e.command.startsWith('mktemp -d /tmp/lifeboat-upload.') ? [e.stdout.trim()] : []));
    expect(temps.length).toBeGreaterThan(0);
    for (const t of temps) expect((await node.exec(`test -e ${t}; echo $?`)).stdout.trim(), t).toBe('1');
    await client.call('ssh.disconnect', { connectionId });
  }, 180_000);

  it('a cancel mid-transfer removes the temp copy and leaves the destination untouched; uploading again works', async () => {
    const connectionId = await connect(node);
    let s = await atUploadStep(connectionId);
    const dest = `/var/backups/lifeboat/${s.sessionId}-salvaged-snapshot.db`;
    const sessionId = s.sessionId;
    const upload = client.call<SessionState>('guided.upload', { sessionId, stepId: 'upload-salvaged', localPath: big });
    // Cancel once bytes are flowing.
    await client.waitEvent(
      (e) => e.event === 'guided.upload.progress' && (e.payload as UploadProgress).sessionId === sessionId && (e.payload as UploadProgress).bytesSent > 0,
      60_000,
    );
    expect(await client.call('guided.uploadCancel', { sessionId, stepId: 'upload-salvaged' })).toEqual({ cancelled: true });
    s = await upload;
    const last = progressOf(sessionId).at(-1)!;
    expect(last.phase).toBe('cancelled');
    expect(last.problem?.key).toBe('guided.upload.problem.cancelled');
    const sent = Number(last.problem?.params?.sent);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(96 * 1024 * 1024);
    expect(translateLocal('zh-CN', last.problem!)).toContain(`${dest} 未被改动`);
    expect(s.status['upload-salvaged']).toBe('failed');
    expect(s.current).toBe('upload-salvaged');
    // Nothing at the destination, no temp dir left, and the record says it was cancelled.
    expect((await node.exec(`test -e ${dest}; echo $?`)).stdout.trim()).toBe('1');
    // This session's temps only: other test files upload into the same /tmp meanwhile (see the test above).
    const temps = s.events.flatMap((e) => (e.type === 'command-finished' && e.command.startsWith('mktemp -d /tmp/lifeboat-upload.') ? [e.stdout.trim()] : []));
    expect(temps.length).toBeGreaterThan(0);
    for (const t of temps) expect((await node.exec(`test -e ${t}; echo $?`)).stdout.trim(), t).toBe('1');
    expect(s.events.some((e) => e.type === 'finding' && e.text.startsWith('Upload cancelled after'))).toBe(true);
    // The report says it in the reader's language.
    const report = await client.call<{ text: string }>('guided.export', { sessionId, format: 'md', language: 'zh-CN' });
    expect(report.text).toContain(`节点上的临时副本已删除，${dest} 未被改动。`);
    // Cancelling what is not running says so.
    expect(await client.call('guided.uploadCancel', { sessionId, stepId: 'upload-salvaged' })).toEqual({ cancelled: false });

    s = await client.call<SessionState>('guided.upload', { sessionId, stepId: 'upload-salvaged', localPath: salvaged });
    expect(s.status['upload-salvaged']).toBe('passed');
    expect((await fs.readFile(node.hostPath(dest))).equals(await fs.readFile(salvaged))).toBe(true);
    await client.call('ssh.disconnect', { connectionId });
  }, 180_000);

  it('a node whose sudo refuses the user: nothing written, the reason in English and Chinese', async () => {
    const connectionId = await connect(strictNode);
    let s = await atUploadStep(connectionId);
    const dest = `/var/backups/lifeboat/${s.sessionId}-salvaged-snapshot.db`;
    s = await client.call<SessionState>('guided.upload', { sessionId: s.sessionId, stepId: 'upload-salvaged', localPath: salvaged });
    expect(s.status['upload-salvaged']).toBe('failed');
    const last = progressOf(s.sessionId).at(-1)!;
    expect(last.phase).toBe('failed');
    // sudo's own words, kept verbatim in both languages.
    expect(last.problem, JSON.stringify(last.problem)).toEqual({
      key: 'guided.upload.problem.sudoExit',
      params: { path: dest, stderr: 'lifeboat-test is not in the sudoers file' },
    });
    expect(translateLocal('en', last.problem!)).toBe(
      `sudo refused on the node, so nothing was written to ${dest}: lifeboat-test is not in the sudoers file. Fix sudo for this user, then upload again.`,
    );
    expect(translateLocal('zh-CN', last.problem!)).toBe(
      `节点上的 sudo 拒绝执行，因此没有写入 ${dest}：lifeboat-test is not in the sudoers file。请修正该用户的 sudo 权限后重新上传。`,
    );
    expect(s.events.some((e) => e.type === 'finding' && e.text.startsWith('sudo refused on the node'))).toBe(true);
    expect((await strictNode.exec(`test -e ${dest}; echo $?`)).stdout.trim()).toBe('1');
    await client.call('ssh.disconnect', { connectionId });
  }, 180_000);
});
