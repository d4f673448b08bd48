/**
 * "Node facts": the pure parsers on real outputs of this machine's `df`,
 * `stat`, `ip -brief addr`, `free` (run live and checked against what Node
 * itself sees), on the real `ssh.service` unit file in `systemctl cat`'s
 * form, and on synthetic manifests/env files modelled on the field reports
 * (KubeKey's /etc/etcd.env, kind nodes that came back with new IPs). Then the
 * probe against a real sshd: every command recorded in the session log
 * exactly as shown, missing units and files are "not present", nothing
 * fails; with sudo, a remembered sudo password is used by the sudo runner
 * (validation in place, copy-out) without asking, committed after its first
 * accepted use, and a wrong remembered one is forgotten and asked again.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, statfsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretStore } from '../../electron/services/secret-store';
import { SshService, type SshCallContext } from '../../electron/services/ssh/ssh-service';
import type { CallContext } from '../../electron/services/registry';
import type { LifeboatClient } from '../../shared/contract/api';
import type { NodeCommand, SshEvents, SshPrompt, SshTarget } from '../../shared/contract/ssh';
import { translate } from '../../shared/i18n';
import {
  addressFacts,
  dataDirFacts,
  diskFacts,
  etcdManifestFacts,
  etcdUnitDataDir,
  memoryFacts,
  parseDf,
  parseEnvFile,
  parseEtcdManifest,
  parseIpBrief,
  parseStat,
  parseSystem,
  parseSystemctlCat,
  unitFacts,
  type NodeFact,
  type ProbeOutput,
} from '../../shared/node/facts-parse';
import { envFileCommand, factCommands, factsFrom, runNodeFacts, type FactStep } from '../../renderer/src/features/node/facts-probe';
import { hashTree } from '../cli/fixtures';
import { generateKey, makeTempDir, sshdAvailable, startSshd, toolAvailable, TEST_USER, type SshdInstance } from '../helpers/sshd';
import { sudoersDropIn } from '../helpers/sudoers';
import { memoryKeychain } from '../helpers/keychain';

const run = promisify(execFile);

/** A real command's output on this machine, as `ssh.exec` would return it. */
async function sh(command: string): Promise<ProbeOutput> {
  try {
    const r = await run('/bin/sh', ['-c', command], { env: { ...process.env, LC_ALL: 'C' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

const headline = (f: NodeFact | undefined) => (f ? translate('en', f.key, f.params) : '(no fact)');
const byId = (facts: NodeFact[], id: string) => facts.find((f) => f.id === id);

describe('node facts parsers on real outputs of this machine', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await makeTempDir('lifeboat-facts-');
    await fs.chmod(tmp, 0o711);
  });
  afterAll(async () => {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('df -hT / df -i: the use percentage df prints matches statfs, and the headline says how full', async () => {
    const df = await sh(`df -hT ${tmp}`);
    const dfi = await sh(`df -i ${tmp}`);
    const [row] = parseDf(df);
    const s = statfsSync(tmp);
    const used = s.blocks - s.bfree;
    const expected = Math.ceil((used / (used + s.bavail)) * 100);
    expect(Math.abs((row.usePercent ?? -1) - expected)).toBeLessThanOrEqual(1);
    expect(row.type).toMatch(/^[a-z0-9.]+$/);
    const facts = diskFacts(df, dfi, tmp);
    expect(headline(byId(facts, 'disk.use'))).toMatch(
      new RegExp(`^disk ${row.usePercent}% full \\(.+ free of .+ on ${row.mountedOn.replace(/[/]/g, '\\/')}, ${row.type}\\)$`),
    );
    const [irow] = parseDf(dfi);
    if (irow.usePercent !== null) {
      const inodeUse = Math.ceil(((s.files - s.ffree) / s.files) * 100);
      expect(Math.abs(irow.usePercent - inodeUse)).toBeLessThanOrEqual(1);
      expect(headline(byId(facts, 'disk.inodes'))).toBe(`inodes ${irow.usePercent}% used (${irow.avail} free)`);
    }
    // The level follows the number: 97% full is a problem, 50% is fine.
    const fake = (pct: number): ProbeOutput => ({
      code: 0,
      stdout: `Filesystem     Type  Size  Used Avail Use% Mounted on\n/dev/sda1      ext4   20G   19G  600M  ${pct}% /var\n`,
      stderr: '',
    });
    expect(diskFacts(fake(97), { code: 0, stdout: '', stderr: '' }, '/var/lib/etcd')[0]).toMatchObject({ level: 'bad', params: { percent: 97 } });
    expect(headline(diskFacts(fake(97), dfi, '/x')[0])).toBe('disk 97% full (600M free of 20G on /var, ext4)');
    expect(diskFacts(fake(50), dfi, '/x')[0].level).toBe('ok');
  });

  it('stat: mode, owner and kind as Node sees them; a missing data dir is "not present"', async () => {
    const st = await sh(`stat ${tmp}`);
    const parsed = parseStat(st)!;
    const mine = await fs.stat(tmp);
    expect(parsed.path).toBe(tmp);
    expect(parsed.kind).toBe('directory');
    expect(parseInt(parsed.mode, 8)).toBe(mine.mode & 0o7777);
    expect(parsed.owner).toBe(os.userInfo().username);
    expect(headline(dataDirFacts(st, tmp)[0])).toContain(`data dir ${tmp}: directory, owner ${parsed.owner}:`);
    const gone = `${tmp}/no-such-backend`;
    const missing = dataDirFacts(await sh(`stat ${gone}`), gone);
    expect(missing[0]).toMatchObject({ level: 'bad', data: { present: false } });
    expect(headline(missing[0])).toBe(`data dir ${gone}: not present`);
  });

  it('ip -brief addr: the addresses Node sees, loopback and link-local left out', async () => {
    // The network namespace is shared with test files running beside this one (the Docker tests add and remove
    // bridges): read again until two readings agree, then compare.
    const nodeV4 = () =>
      Object.values(os.networkInterfaces())
        .flat()
        .filter((a) => a && a.family === 'IPv4' && !a.internal)
        .map((a) => a!.address)
        .sort()
        .join();
    let out = await sh('ip -brief addr');
    for (let i = 0; i < 20; i++) {
      const seen = nodeV4();
      out = await sh('ip -brief addr');
      if (nodeV4() === seen) break;
    }
    const ifs = parseIpBrief(out);
    expect(ifs.map((i) => i.name)).toContain('lo');
    const { addresses, facts } = addressFacts(out);
    expect(
      addresses
        .filter((a) => !a.includes(':'))
        .sort()
        .join(),
    ).toEqual(nodeV4());
    expect(addresses.some((a) => a.startsWith('127.') || a.startsWith('fe80'))).toBe(false);
    for (const a of nodeV4().split(',').filter(Boolean)) expect(headline(facts[0])).toContain(a);
  });

  it('free -b: total memory equals os.totalmem(); hostname, kernel and clock from the system line', async () => {
    const mem = memoryFacts(await sh('free -b'));
    expect(mem[0].data?.totalBytes).toBe(os.totalmem());
    expect(headline(mem[0])).toMatch(/^[\d.]+ [KMGT]iB of [\d.]+ [KMGT]iB memory available \(\d+%\)$/);
    const sys = parseSystem(await sh('hostname; uname -a; date -Is'))!;
    expect(sys.hostname).toBe(os.hostname());
    expect(sys.kernel).toBe(`Linux ${os.release()}`);
    expect(Math.abs(Date.parse(sys.time!) - Date.now())).toBeLessThan(5000);
    // A missing command is a fact, not a failure.
    expect(headline(memoryFacts(await sh('no-such-free-xyz -b'))[0])).toBe('free: not present on the node');
  });

  it('systemctl cat: the real ssh.service, a drop-in, and the KubeKey etcd unit with EnvironmentFile=/etc/etcd.env', async () => {
    const unitText = await fs.readFile('/lib/systemd/system/ssh.service', 'utf8');
    // `systemctl cat` prints each file after a `# /path` line, drop-ins after the unit.
    const cat = `# /usr/lib/systemd/system/ssh.service\n${unitText}\n# /etc/systemd/system/ssh.service.d/override.conf\n[Service]\nEnvironment="SSHD_OPTS=-o LogLevel=VERBOSE" LANG=C\n`;
    const ssh = parseSystemctlCat(cat).get('ssh')!;
    expect(ssh.files).toEqual(['/usr/lib/systemd/system/ssh.service', '/etc/systemd/system/ssh.service.d/override.conf']);
    expect(ssh.entries.filter((e) => e.key === 'ExecStart').map((e) => e.value)).toEqual(['/usr/sbin/sshd -D $SSHD_OPTS']);
    expect(ssh.entries.find((e) => e.key === 'EnvironmentFile')?.value).toBe('-/etc/default/ssh');

    // Field report 5 (KubeKey): etcd is a systemd service; its data dir is only in /etc/etcd.env.
    const etcdCat = [
      '# /etc/systemd/system/etcd.service',
      '[Unit]',
      'Description=etcd',
      'After=network.target',
      '',
      '[Service]',
      'User=root',
      'Type=notify',
      'EnvironmentFile=/etc/etcd.env',
      'ExecStart=/usr/local/bin/etcd',
      'NotifyAccess=all',
      'RestartSec=10s',
      'LimitNOFILE=40000',
      'Restart=always',
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n');
    const isActive: ProbeOutput = { code: 3, stdout: 'inactive\ninactive\nactivating\nfailed\n', stderr: '' };
    const catOut: ProbeOutput = {
      code: 1,
      stdout: etcdCat,
      stderr:
        'No files found for snap.microk8s.daemon-k8s-dqlite.service.\nNo files found for snap.microk8s.daemon-kubelite.service.\nNo files found for kubelet.service.\n',
    };
    const units = unitFacts(isActive, catOut);
    expect(units.etcdEnvironmentFiles).toEqual(['/etc/etcd.env']);
    expect(units.facts.map(headline)).toEqual([
      'unit snap.microk8s.daemon-k8s-dqlite: not present',
      'unit snap.microk8s.daemon-kubelite: not present',
      'unit kubelet: not present',
      'unit etcd is failed (/etc/systemd/system/etcd.service)',
    ]);
    const envFile = [
      '# Environment file for etcd v3.4.13',
      'ETCD_DATA_DIR=/var/lib/etcd',
      'ETCD_ADVERTISE_CLIENT_URLS=https://192.168.31.2:2379',
      'ETCD_INITIAL_ADVERTISE_PEER_URLS=https://192.168.31.2:2380',
      'ETCD_INITIAL_CLUSTER_STATE=existing',
      'ETCD_NAME=etcd-node1',
      'ETCD_INITIAL_CLUSTER=etcd-node1=https://192.168.31.2:2380,etcd-node2=https://192.168.31.3:2380,etcd-node3=https://192.168.31.4:2380',
      '',
    ].join('\n');
    expect(parseEnvFile(envFile).get('ETCD_NAME')).toBe('etcd-node1');
    const dd = etcdUnitDataDir(catOut, [{ path: '/etc/etcd.env', output: { code: 0, stdout: envFile, stderr: '' } }]);
    expect(headline(dd!)).toBe('etcd runs as a systemd unit, data dir /var/lib/etcd (from /etc/etcd.env)');
    // Debian's own unit (installed here): Environment= names it, its EnvironmentFile has a specifier we do not expand.
    const debian = await fs.readFile('/lib/systemd/system/etcd.service', 'utf8');
    const debCat: ProbeOutput = { code: 0, stdout: `# /lib/systemd/system/etcd.service\n${debian}`, stderr: '' };
    expect(headline(etcdUnitDataDir(debCat, [])!)).toBe('etcd runs as a systemd unit, data dir /var/lib/etcd/default (from Environment=)');
    // No systemd at all (a container, this machine): one fact, no failure.
    const none = unitFacts(await sh('systemctl is-active etcd'), await sh('systemctl cat --no-pager etcd'));
    expect(none.facts).toHaveLength(1);
    expect(none.facts[0].id).toBe('units');
  });

  it('etcd static pod: flags read, and a node that came back with a new IP is named (field report 3)', () => {
    const manifest = `apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/etcd.advertise-client-urls: https://192.168.31.2:2379
  labels:
    component: etcd
    tier: control-plane
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://192.168.31.2:2379
    - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    - --client-cert-auth=true
    - --data-dir=/var/lib/etcd
    - --initial-advertise-peer-urls=https://192.168.31.2:2380
    - --initial-cluster=cp1=https://192.168.31.2:2380,cp2=https://192.168.31.3:2380,cp3=https://192.168.31.4:2380
    - --listen-client-urls=https://127.0.0.1:2379,https://192.168.31.2:2379
    - --listen-metrics-urls=http://127.0.0.1:2381
    - --listen-peer-urls=https://192.168.31.2:2380
    - --name=cp1
    image: registry.k8s.io/etcd:3.5.9-0
    volumeMounts:
    - mountPath: /var/lib/etcd
      name: etcd-data
`;
    const flags = parseEtcdManifest(manifest);
    expect(flags).toMatchObject({ 'data-dir': '/var/lib/etcd', name: 'cp1', 'listen-peer-urls': 'https://192.168.31.2:2380' });
    const out: ProbeOutput = { code: 0, stdout: manifest, stderr: '' };
    const moved = etcdManifestFacts(out, '/etc/kubernetes/manifests/etcd.yaml', ['10.0.0.5', 'fd00::5']);
    expect(moved.map(headline)).toEqual([
      'static pod etcd: name cp1, data dir /var/lib/etcd, 3 members in --initial-cluster',
      'static pod etcd advertises 192.168.31.2 but the node now has 10.0.0.5',
      'static pod etcd listens on 192.168.31.2 but the node now has 10.0.0.5',
    ]);
    expect(moved[1].level).toBe('bad');
    const same = etcdManifestFacts(out, '/etc/kubernetes/manifests/etcd.yaml', ['192.168.31.2']);
    expect(same.map((f) => f.id)).toEqual(['etcd.pod', 'etcd.advertise']);
    const gone = etcdManifestFacts(
      { code: 1, stdout: '', stderr: 'cat: /etc/kubernetes/manifests/etcd.yaml: No such file or directory\n' },
      '/etc/kubernetes/manifests/etcd.yaml',
      [],
    );
    expect(headline(gone[0])).toBe('etcd static pod: not present (/etc/kubernetes/manifests/etcd.yaml)');
  });

  it('factsFrom: a probe where every command is missing still yields facts, never throws', () => {
    const missing: ProbeOutput = { code: 127, stdout: '', stderr: 'sh: 1: x: not found\n' };
    const steps: FactStep[] = factCommands('/var/snap/microk8s/current/var/kubernetes/backend').map((c) => ({ ...c, output: missing, truncated: false }));
    const facts = factsFrom(steps, '/var/snap/microk8s/current/var/kubernetes/backend', Date.now());
    expect(facts.length).toBeGreaterThan(4);
    for (const f of facts) expect(translate('en', f.key, f.params)).not.toMatch(/\{|ssh\.facts/);
  });
});

const enabled = sshdAvailable() && toolAvailable('/usr/bin/sudo') && toolAvailable('/usr/sbin/visudo');
const sudoers = sudoersDropIn('lifeboat-node-facts');

describe.skipIf(!enabled)('node facts probe and remembered sudo against a real sshd and sudo', () => {
  let ssh: SshService;
  let sshd: SshdInstance;
  let dir: string;
  let target: SshTarget;
  let backend: string;
  let before: Record<string, string>;
  const savedHome = process.env.LIFEBOAT_HOME;
  const kc = memoryKeychain();

  beforeAll(async () => {
    [sshd, dir] = await Promise.all([startSshd(), makeTempDir('lifeboat-facts-ssh-')]);
    const key = await generateKey(dir, 'id');
    await sshd.authorize(key.publicLine);
    const knownHosts = path.join(dir, 'known_hosts');
    await fs.writeFile(knownHosts, sshd.knownHostsLine() + '\n');
    await sudoers.install(`${TEST_USER} ALL=(root) ALL`);
    await fs.chmod(dir, 0o755);
    backend = path.join(dir, 'backend');
    await fs.mkdir(backend, { mode: 0o700 });
    await fs.writeFile(path.join(backend, '0000000000000001-0000000000000004'), randomBytes(50_000), { mode: 0o600 });
    await fs.writeFile(path.join(backend, 'metadata1'), randomBytes(16), { mode: 0o600 });
    await fs.chmod(backend, 0o700);
    before = await hashTree(backend);
    target = { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [key.privatePath], useAgent: false, autoReconnect: false };
    process.env.LIFEBOAT_HOME = path.join(dir, 'home');
    ssh = new SshService({
      paths: {
        keysDir: dir,
        knownHostsPath: knownHosts,
        auditLogPath: path.join(dir, 'audit.jsonl'),
        recordingsDir: null,
        copiesRoot: path.join(dir, 'copies'),
      },
      safeStorage: kc,
    });
  }, 60_000);

  afterAll(async () => {
    await ssh?.shutdown();
    await sudoers.remove();
    await sshd?.stop();
    if (savedHome === undefined) delete process.env.LIFEBOAT_HOME;
    else process.env.LIFEBOAT_HOME = savedHome;
    if (dir) {
      expect(await hashTree(backend)).toEqual(before);
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  /** A client that answers sudo prompts with `sudo` (null: cancel), ticking Remember, and records prompts and commands. */
  function client(transport: 'electron' | 'web', sudo: string | null, onEvent?: (event: string, payload: unknown) => void) {
    const asked: SshPrompt[] = [];
    const commands: NodeCommand[] = [];
    const ctx: SshCallContext & CallContext = {
      transport,
      emit(event: string, payload: unknown) {
        if (event === 'ssh.command') commands.push(payload as NodeCommand);
        onEvent?.(event, payload);
        if (event !== 'ssh.prompt') return;
        const p = payload as SshEvents['ssh.prompt'];
        asked.push(p);
        const a = p.kind === 'sudo' ? sudo : null;
        void ssh.handlers['ssh.prompt.answer']({ promptId: p.promptId, answers: a === null ? null : [a], remember: true }, ctx);
      },
    } as SshCallContext & CallContext;
    const api: Pick<LifeboatClient, 'call'> = {
      call: ((method: 'ssh.exec', params: Parameters<SshService['handlers']['ssh.exec']>[0]) =>
        ssh.handlers[method](params, ctx)) as unknown as LifeboatClient['call'],
    };
    return { ctx, asked, commands, api };
  }

  it('runs every command as shown, records each in the session log, and says "not present" for what is missing', async () => {
    const c = client('web', null);
    const { connectionId } = await ssh.handlers['ssh.connect']({ target }, c.ctx);
    try {
      const shown: string[] = [];
      // Addresses present before and after the run (Docker tests beside this one add and remove bridges).
      const addressesBefore = addressFacts(await sh('ip -brief addr')).addresses;
      const result = await runNodeFacts(c.api, { connectionId, dataDir: backend, sudo: false }, (step, output) => {
        if (output === null) shown.push(step.command);
      });
      // Exactly what was shown ran, in order, and nothing else.
      expect(shown).toEqual(factCommands(backend).map((x) => x.command));
      expect(c.commands.map((x) => x.text)).toEqual(shown);
      expect(c.asked).toEqual([]);
      const facts = result.facts;
      expect(headline(byId(facts, 'system'))).toContain(`${os.hostname()}: Linux ${os.release()}`);
      // The disk is shared with other work: its use may move a point between the probe and this df.
      const usePercent = Number(byId(facts, 'disk.use')?.data?.percent);
      expect(Math.abs(usePercent - Number(parseDf(await sh(`df -hT ${backend}`))[0].usePercent))).toBeLessThanOrEqual(1);
      // stat needs no read permission on the directory itself: root-owned, 0700.
      expect(headline(byId(facts, 'datadir'))).toMatch(new RegExp(`^data dir ${backend}: directory, owner root:root, mode 0700`));
      expect(headline(byId(facts, 'manifests'))).toBe('static pods: /etc/kubernetes/manifests not present');
      expect(headline(byId(facts, 'etcd.pod'))).toBe('etcd static pod: not present (/etc/kubernetes/manifests/etcd.yaml)');
      expect(byId(facts, 'units')?.key ?? byId(facts, 'unit.etcd')?.key).toMatch(/noSystemd|unitMissing|unitState/);
      expect(byId(facts, 'memory')?.data?.totalBytes).toBe(os.totalmem());
      const addressesAfter = addressFacts(await sh('ip -brief addr')).addresses;
      expect(byId(facts, 'addresses')?.data?.addresses).toEqual(expect.arrayContaining(addressesAfter.filter((a) => addressesBefore.includes(a))));
      // A missing data dir is a fact too.
      const gone = await runNodeFacts(c.api, { connectionId, dataDir: `${backend}-gone`, sudo: false });
      expect(headline(byId(gone.facts, 'datadir'))).toBe(`data dir ${backend}-gone: not present`);
      expect(envFileCommand('/etc/etcd.env').command).toBe('cat /etc/etcd.env');
    } finally {
      await ssh.handlers['ssh.disconnect']({ connectionId }, c.ctx);
    }
  }, 60_000);

  it('with sudo the probe runs as root; a remembered sudo password serves the sudo runner without asking, a wrong one is forgotten and asked again', async () => {
    const first = client('electron', sshd.password);
    const profile = await ssh.handlers['ssh.profiles.save']({ label: 'facts node', target }, first.ctx);
    const secretsFile = path.join(dir, 'home', 'secrets.json');
    const store = new SecretStore(secretsFile, kc, 'electron');
    const subject = `${sshd.user}@${sshd.host}:${sshd.port}`;

    // 1. Validation in place through the sudo runner: asked once, Remember ticked, committed once sudo accepted it.
    const c1 = await ssh.handlers['ssh.connect']({ target, profileId: profile.id }, first.ctx);
    const remote = await ssh.remoteSources.openDirectory(c1.connectionId, backend, first.ctx, { sudo: true });
    expect((await remote.list()).map((e) => e.name).sort()).toEqual(['0000000000000001-0000000000000004', 'metadata1']);
    await remote.close();
    expect(first.asked.map((p) => p.kind)).toEqual(['sudo']);
    expect(first.asked[0].remember).toEqual({ offered: true });
    expect(await store.get(profile.id, 'sudo', subject)).toBe(sshd.password);
    expect(await fs.readFile(secretsFile, 'utf8')).not.toContain(sshd.password);
    // The facts probe with sudo reuses the password held for this connection (no second prompt).
    const asRoot = await runNodeFacts(first.api, { connectionId: c1.connectionId, dataDir: backend, sudo: true });
    expect(headline(byId(asRoot.facts, 'datadir'))).toContain(`data dir ${backend}: directory, owner root:root, mode 0700`);
    expect(first.asked).toHaveLength(1);
    for (const cmd of factCommands(backend)) expect(first.commands.some((x) => x.text.includes(cmd.command.replace(/'/g, `'\\''`)))).toBe(true);
    for (const x of first.commands) expect(x.text).not.toContain(sshd.password);
    await ssh.handlers['ssh.disconnect']({ connectionId: c1.connectionId }, first.ctx);

    // 2. A new connection: copy-out through sudo uses the remembered password, nothing is asked.
    let settle: (v: SshEvents['ssh.copyout.done'] | string) => void = () => undefined;
    const done = new Promise<SshEvents['ssh.copyout.done'] | string>((resolve) => (settle = resolve));
    const second = client('electron', null, (event, payload) => {
      if (event === 'ssh.copyout.done') settle(payload as SshEvents['ssh.copyout.done']);
      if (event === 'ssh.copyout.failed') settle((payload as SshEvents['ssh.copyout.failed']).error);
    });
    const c2 = await ssh.handlers['ssh.connect']({ target, profileId: profile.id }, second.ctx);
    await ssh.handlers['ssh.copyout.start'](
      { connectionId: c2.connectionId, remotePath: backend, localDir: path.join(dir, 'copies', 'one'), sudo: true },
      second.ctx,
    );
    const copied = await done;
    expect(typeof copied === 'string' ? copied : copied.result.allMatch).toBe(true);
    expect(second.asked).toEqual([]);
    await ssh.handlers['ssh.disconnect']({ connectionId: c2.connectionId }, second.ctx);

    // 3. The remembered password is outdated: the runner's check fails, it is forgotten, the user is asked (attempt 2), the new one kept.
    await store.save(profile.id, 'sudo', subject, 'an-outdated-sudo-password');
    const third = client('electron', sshd.password);
    const c3 = await ssh.handlers['ssh.connect']({ target, profileId: profile.id }, third.ctx);
    const again = await ssh.remoteSources.openDirectory(c3.connectionId, backend, third.ctx, { sudo: true });
    await again.close();
    expect(third.asked.map((p) => [p.kind, 'attempt' in p ? p.attempt : 0])).toEqual([['sudo', 2]]);
    expect(await store.get(profile.id, 'sudo', subject)).toBe(sshd.password);
    await ssh.handlers['ssh.disconnect']({ connectionId: c3.connectionId }, third.ctx);

    // 4. Outdated and the user cancels: it is forgotten anyway, not tried again next time.
    await store.save(profile.id, 'sudo', subject, 'another-outdated-password');
    const fourth = client('electron', null);
    const c4 = await ssh.handlers['ssh.connect']({ target, profileId: profile.id }, fourth.ctx);
    await expect(ssh.remoteSources.openDirectory(c4.connectionId, backend, fourth.ctx, { sudo: true })).rejects.toThrow(/cancel/);
    await new Promise((r) => setTimeout(r, 200));
    expect(await store.get(profile.id, 'sudo', subject)).toBeNull();
    await ssh.handlers['ssh.disconnect']({ connectionId: c4.connectionId }, fourth.ctx);
    await ssh.handlers['ssh.profiles.delete']({ id: profile.id }, first.ctx);
  }, 120_000);
});
