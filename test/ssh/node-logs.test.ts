/**
 * Logs from the node: preset command → `ssh.exec` on a real sshd → capped
 * output → `analyzeLogSources` with the source named after the command.
 * The field reports' logs are copied into a directory on the "node" and read
 * with the file preset (`tail -n 2000 -- PATH`); the real `journalctl`
 * preset runs too (this machine's journal is empty: the plumbing, not the
 * content). Two fetched sources combine on one timeline with the same
 * matches as the files analysed locally. Every command is announced with
 * its exact text before it runs; the node's files are hashed before/after.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvents, EventName, LifeboatClient, MethodName, ParamsOf, ResultOf } from '../../shared/contract/api';
import type { NodeCommand } from '../../shared/contract/ssh';
import { analyzeLogSources } from '../../shared/logs/analyze';
import { SshService, type SshCallContext } from '../../electron/services/ssh/ssh-service';
import { LOG_LINES, logCommand, logSourceName, parseCrictlPs, parseDockerPs, parseKubectlPods } from '../../renderer/src/features/node/logs-commands';
import { addFetched, fetchNodeLog, hasLogLines, MAX_FETCHED_SOURCES, toLogSources, type FetchedLog } from '../../renderer/src/features/node/logs-fetch';
import { FIELD_REPORTS } from '../helpers/field-reports';
import { generateKey, makeTempDir, sshdAvailable, startSshd, toolAvailable, type SshdInstance } from '../helpers/sshd';

const DQLITE_LOG = 'microk8s-k8s-dqlite-journal.log';
/** `ssh.exec`'s time limit in these tests (s). */
const EXEC_LIMIT = 8;
const ETCD_LOG = 'kubeadm-etcd-bbolt-panic.log';

describe('log presets', () => {
  it('builds the documented read-only commands', () => {
    expect(logCommand('microk8s-dqlite')).toBe('journalctl -u snap.microk8s.daemon-k8s-dqlite -n 2000 --no-pager -o short-iso');
    expect(logCommand('microk8s-kubelite')).toBe('journalctl -u snap.microk8s.daemon-kubelite -n 2000 --no-pager -o short-iso');
    expect(logCommand('kubelet')).toBe('journalctl -u kubelet -n 2000 --no-pager -o short-iso');
    expect(logCommand('etcd-systemd')).toBe('journalctl -u etcd -n 2000 --no-pager -o short-iso');
    // k3s and RKE2 log their embedded etcd in the server's journal.
    expect(logCommand('k3s')).toBe('journalctl -u k3s -n 2000 --no-pager -o short-iso');
    expect(logCommand('rke2')).toBe('journalctl -u rke2-server -n 2000 --no-pager -o short-iso');
    expect(logCommand('crictl', '3f2a9c1b7d44')).toBe('crictl logs --tail 2000 3f2a9c1b7d44 2>&1');
    expect(logCommand('docker', 'k8s_etcd_etcd-cp1')).toBe('docker logs --tail 2000 k8s_etcd_etcd-cp1 2>&1');
    expect(logCommand('kubectl', 'pod/etcd-cp1')).toBe('kubectl -n kube-system logs --tail 2000 etcd-cp1');
    expect(logCommand('file', "/var/log/it's here.log")).toBe(`tail -n 2000 -- '/var/log/it'\\''s here.log'`);
    // Incomplete or hostile input gives no command at all.
    expect(logCommand('crictl', '')).toBeNull();
    expect(logCommand('file', 'relative.log')).toBeNull();
    expect(logCommand('docker', 'x\ny')).toBeNull();
    // etcd inside a kind node, from the Docker host; a name Docker would not allow gives no command.
    expect(logCommand('kind-etcd', 'kind-control-plane')).toBe(
      `docker exec kind-control-plane sh -c 'crictl logs --tail 2000 "$(crictl ps -a --name etcd -q | head -n 1)" 2>&1'`,
    );
    expect(logCommand('kind-etcd', 'kind;id')).toBeNull();
  });

  it('reads crictl, docker and kubectl listings, etcd and kube-apiserver first', () => {
    // `crictl ps -a` as printed by crictl 1.28 (tabwriter columns; CREATED has spaces).
    const row = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(20))).join('');
    const crictl = [
      row(['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD']),
      row(['9b1f4e2c8a7d1', 'ead0a4a53df89', '2 minutes ago', 'Running', 'kube-proxy', '1', '5d9c7e1f2a3b4', 'kube-proxy-x7k2p']),
      row(['3f2a9c1b7d44e', 'a0eed15eed449', 'About an hour ago', 'Exited', 'etcd', '12', 'c81e9d0f1a2b3', 'etcd-cp1']),
      row(['e7c6b5a493821', 'bb5e0dde9054c', '3 hours ago', 'Exited', 'kube-apiserver', '30', '0a1b2c3d4e5f6', 'kube-apiserver-cp1']),
    ].join('\n');
    const rows = parseCrictlPs(crictl);
    expect(rows.map((r) => [r.ref, r.name, r.relevant])).toEqual([
      ['3f2a9c1b7d44e', 'etcd', true],
      ['e7c6b5a493821', 'kube-apiserver', true],
      ['9b1f4e2c8a7d1', 'kube-proxy', false],
    ]);
    expect(rows[0].detail).toBe('Exited · pod etcd-cp1 · attempt 12 · About an hour ago');
    expect(parseCrictlPs('FATA[0000] validate service connection: ...')).toEqual([]);
    expect(parseDockerPs('0123456789ab k8s_etcd_etcd-cp1 Exited (2) 3 minutes ago\nnot a row').map((r) => r.ref)).toEqual(['k8s_etcd_etcd-cp1']);
    // The status is the rest of the line, whatever it holds (a U+2028 in it made the old regex quadratic).
    expect(parseDockerPs('0123456789ab kind-control-plane Up 2 hours\u2028(odd)').map((r) => r.detail)).toEqual(['0123456789ab · Up 2 hours\u2028(odd)']);
    expect(parseKubectlPods('pod/coredns-abc\npod/etcd-cp1\nerror: x').map((r) => r.ref)).toEqual(['etcd-cp1', 'coredns-abc']);
  });
});

const enabled = sshdAvailable() && toolAvailable('/usr/bin/journalctl');

describe.skipIf(!enabled)('fetching logs from a node (real sshd)', () => {
  let ssh: SshService;
  let sshd: SshdInstance;
  let dir: string;
  let nodeDir: string;
  let client: LifeboatClient;
  let connectionId: string;
  const commands: NodeCommand[] = [];
  let before: Record<string, string>;

  async function hashes(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const n of await fs.readdir(nodeDir))
      out[n] = createHash('sha256')
        .update(await fs.readFile(path.join(nodeDir, n)))
        .digest('hex');
    return out;
  }

  beforeAll(async () => {
    sshd = await startSshd();
    dir = await makeTempDir('lifeboat-nodelogs-');
    nodeDir = path.join(dir, 'node-logs');
    await fs.mkdir(nodeDir, { mode: 0o755 });
    await fs.chmod(nodeDir, 0o755);
    for (const f of [DQLITE_LOG, ETCD_LOG]) {
      await fs.copyFile(path.join(FIELD_REPORTS, f), path.join(nodeDir, f));
      await fs.chmod(path.join(nodeDir, f), 0o644);
    }
    // 3000 long lines: tail keeps 2000 of them, the cap keeps less.
    const big = Array.from({ length: 3000 }, (_, i) => `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z line ${i} ${'x'.repeat(180)}`).join('\n') + '\n';
    await fs.writeFile(path.join(nodeDir, 'big.log'), big, { mode: 0o644 });
    before = await hashes();

    const key = await generateKey(dir, 'id');
    await sshd.authorize(key.publicLine);
    const knownHosts = path.join(dir, 'known_hosts');
    await fs.writeFile(knownHosts, sshd.knownHostsLine() + '\n');
    ssh = new SshService({
      paths: {
        keysDir: dir,
        knownHostsPath: knownHosts,
        auditLogPath: path.join(dir, 'audit.jsonl'),
        recordingsDir: null,
        copiesRoot: path.join(dir, 'copies'),
      },
      // Short, so that the command below that never answers is stopped soon (the others end in well under it).
      execTimeLimitSeconds: EXEC_LIMIT,
    });
    const ctx: SshCallContext = {
      transport: 'web',
      emit(event, payload) {
        if (event === 'ssh.command') commands.push(payload as NodeCommand);
      },
    };
    // The renderer's client, served by the real back-end handlers (what web mode dispatches to).
    client = {
      transport: 'web',
      call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
        const h = (ssh.handlers as unknown as Record<string, (p: unknown, c: SshCallContext) => Promise<unknown>>)[method];
        return h(params, ctx) as Promise<ResultOf<M>>;
      },
      on<E extends EventName>(_event: E, _handler: (payload: ApiEvents[E]) => void) {
        return () => undefined;
      },
    };
    ({ connectionId } = await client.call('ssh.connect', {
      target: { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [key.privatePath], useAgent: false },
    }));
  });
  afterAll(async () => {
    await ssh?.shutdown();
    if (connectionId) await client.call('ssh.disconnect', { connectionId }).catch(() => undefined);
    await sshd?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('fetched sources combine on one timeline, named after their commands, with the matches of the files themselves', async () => {
    const label = `${sshd.user}@cp1`;
    const fetched: FetchedLog[] = [];
    for (const f of [DQLITE_LOG, ETCD_LOG]) {
      const command = logCommand('file', path.join(nodeDir, f))!;
      const log = await fetchNodeLog(client, { connectionId, nodeLabel: label, command, sudo: false });
      expect(log).toMatchObject({ code: 0, truncated: false, command, sourceName: logSourceName(label, command) });
      expect(log.text).toBe(await fs.readFile(path.join(nodeDir, f), 'utf8'));
      // Announced before it ran, exact text.
      expect(commands.some((c) => c.text === command && c.kind === 'exec' && c.connectionId === connectionId)).toBe(true);
      fetched.push(log);
    }
    const analysis = analyzeLogSources(toLogSources(fetched));
    expect(analysis.sources.map((s) => s.name)).toEqual(fetched.map((f) => f.sourceName));
    const local = analyzeLogSources(
      await Promise.all(
        [DQLITE_LOG, ETCD_LOG].map(async (f, i) => ({ name: fetched[i].sourceName, text: await fs.readFile(path.join(FIELD_REPORTS, f), 'utf8') })),
      ),
    );
    expect(analysis.counts).toEqual(local.counts);
    expect(analysis.matches.length).toBeGreaterThan(0);
    // Both datastores' failures are on the same timeline, each in its source's lane.
    const engines = new Set(analysis.matches.map((m) => m.engine));
    expect(engines.has('dqlite')).toBe(true);
    expect(engines.has('etcd')).toBe(true);
    for (const f of fetched) expect(analysis.lanes.some((l) => l.source === f.sourceName)).toBe(true);
    expect(analysis.story.length).toBeGreaterThan(0);
  });

  it('runs the real journalctl preset read-only and analyses whatever it printed', async () => {
    const command = logCommand('microk8s-dqlite')!;
    const log = await fetchNodeLog(client, { connectionId, nodeLabel: 'cp1', command, sudo: false });
    expect(commands.at(-1)?.text).toBe(command);
    expect(typeof log.code).toBe('number');
    // The node is this host: what came back over SSH is what journalctl prints here, entries or not
    // (nothing assumes this host's journal is empty).
    const local = spawnSync('journalctl', command.split(' ').slice(1), { encoding: 'utf8' });
    expect(log.code).toBe(local.status);
    const localLines = hasLogLines(local.stdout);
    expect(hasLogLines(log.text)).toBe(localLines);
    if (!localLines) expect(`${log.text}${log.stderr}`).toMatch(/No entries|No journal files/);
    // Journal markers alone are no log: the panel leaves such a source out of the analysis.
    expect(hasLogLines('-- No entries --\n')).toBe(false);
    expect(hasLogLines('-- Boot 3f2a --\nFeb 03 08:18:08 cp1 kubelet[1]: started\n')).toBe(true);
    const analysis = analyzeLogSources(toLogSources([log]));
    expect(analysis.sources[0].name).toBe(`cp1: ${command}`);
    if (!localLines) expect(analysis.notes.some((n) => n.code === 'nothing-matched')).toBe(true);
  });

  it('caps what is kept of a long output, and says so', async () => {
    const command = logCommand('file', path.join(nodeDir, 'big.log'))!;
    const full = await fetchNodeLog(client, { connectionId, nodeLabel: 'cp1', command, sudo: false });
    expect(full.lines).toBe(LOG_LINES);
    expect(full.truncated).toBe(false);
    const capped = await fetchNodeLog(client, { connectionId, nodeLabel: 'cp1', command, sudo: false, maxBytes: 64 * 1024 });
    expect(capped.truncated).toBe(true);
    expect(Buffer.byteLength(capped.text)).toBeLessThanOrEqual(64 * 1024);
    // A cap above the back end's maximum is clamped, not obeyed.
    await expect(client.call('ssh.exec', { connectionId, command: 'true', maxOutputBytes: 1e12 })).resolves.toMatchObject({ code: 0 });
    // Re-fetching the same command replaces the earlier fetch; the list stays bounded.
    let list: FetchedLog[] = [];
    list = addFetched(list, full);
    list = addFetched(list, capped);
    expect(list).toEqual([capped]);
    for (let i = 0; i < MAX_FETCHED_SOURCES + 3; i++) list = addFetched(list, { ...full, id: `x${i}`, command: `${command} #${i}` });
    expect(list).toHaveLength(MAX_FETCHED_SOURCES);
  });

  it('a command that fails is reported with its exit code and message, not analysed as a log', async () => {
    const command = logCommand('file', path.join(nodeDir, 'missing.log'))!;
    const log = await fetchNodeLog(client, { connectionId, nodeLabel: 'cp1', command, sudo: false });
    expect(log.code).not.toBe(0);
    expect(log.stderr).toMatch(/No such file/);
    expect(log.text).toBe('');
    expect(await hashes()).toEqual(before);
  });

  it('a command that never answers (crictl against a wedged containerd) is stopped at the limit; the login user’s command ends', async () => {
    // What came before the hang is kept; the channel's TERM ends it (its own sleep length: only its leftovers).
    const command = `echo before the hang; exec sleep 3596`;
    const t0 = Date.now();
    const log = await fetchNodeLog(client, { connectionId, nodeLabel: 'cp1', command, sudo: false });
    expect(Date.now() - t0).toBeLessThan((EXEC_LIMIT + 15) * 1000);
    expect(log).toMatchObject({ code: null, text: 'before the hang\n', stopped: { seconds: EXEC_LIMIT } });
    expect(spawnSync('pgrep', ['-x', '-f', 'sleep 3596']).status).toBe(1);
    // The connection still serves the next command.
    const next = await fetchNodeLog(client, { connectionId, nodeLabel: 'cp1', command: logCommand('file', path.join(nodeDir, ETCD_LOG))!, sudo: false });
    expect(next.code).toBe(0);
  }, 60_000);
});
