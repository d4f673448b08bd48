/**
 * Field report 3 seen from where the operator stands: the laptop, the Docker
 * host of a kind cluster, after Docker restarted the node containers with new
 * addresses. A real Docker daemon (test/helpers/dockerd.ts) runs kind-shaped
 * node containers (kind's labels, a `kind` network); the control plane holds
 * a real etcd 3.4 member created at the address Docker gave it first and
 * kind's etcd manifest for that address. Docker's restart is the containers
 * stopped and started again in another order, so each gets another address,
 * as after a reboot. Detection over SSH on a realistic node whose `docker`
 * talks to that daemon must list the node containers as `docker inspect`
 * shows them now, read etcd's manifest and member records inside the control
 * plane (`docker exec`, read-only), and say that etcd is registered at an
 * address the container no longer has.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { detectCommand, formatNodeCard } from '../../electron/services/ssh/detect-cli';
import type { CliIo } from '../../electron/services/ssh/cli-connect';
import type { DetectedDatastore } from '../../shared/contract/node';
import { detectNode } from '../../shared/node/detect';
import { containerExecutor, containerNodeLabel, inKindContainer, parseDockerInspect } from '../../shared/node/kind';
import { runTagged } from '../../shared/node/run-tag';
import { variablesFromDatastore } from '../../shared/guided/variables';
import { playbookById } from '../../shared/guided/playbooks';
import { SessionService } from '../../electron/services/sessions/session-service';
import { SessionStore } from '../../electron/services/sessions/session-store';
import { translateLocal } from '../../shared/i18n';
import { requireEtcd } from '../helpers/etcd';
import { dockerAvailable } from '../helpers/dockerd';
import { KIND_NETWORK, startKindDockerHost, type KindDockerHost } from '../helpers/kind-docker-host';
import { sessionNodeOver } from '../helpers/guided-node';
import { KIND_MEMBER_NAME } from '../helpers/kind-member';
import { realisticNodesAvailable } from '../helpers/realistic-node';
import { connectByKey, keyClient } from '../helpers/ssh-node';
import { sshdAvailable } from '../helpers/sshd';

/** A session of `playbookId` inside the control-plane container, with the variables its etcd card gives. */
function inControlPlane(playbookId: string, d: DetectedDatastore) {
  return { playbookId, connectionId: 'c1', variables: variablesFromDatastore(d), language: 'en' as const, container: 'kind-control-plane' };
}

const RUN = requireEtcd() && sshdAvailable() && realisticNodesAvailable() && dockerAvailable();
const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');

describe.runIf(RUN)('detect on a kind Docker host after Docker restarted the node containers (real dockerd)', () => {
  let kind: KindDockerHost;
  let conn: SshConnection;

  beforeAll(async () => {
    kind = await startKindDockerHost('172.29.0.0/16');
    await fs.mkdir(path.join(kind.tmp, 'client'));
    conn = await connectByKey(kind.host.sshd, await keyClient(kind.host.sshd, path.join(kind.tmp, 'client')));
  }, 240_000);

  afterAll(async () => {
    conn?.close();
    await kind?.stop();
  });

  it('lists kind’s node containers at their new addresses and finds the control plane’s etcd registered at its old one', async () => {
    const dbInContainer = path.join(kind.tmp, 'db-before');
    await kind.docker.docker(['cp', 'kind-control-plane:/var/lib/etcd/member/snap/db', dbInContainer]);
    const before = await sha256(dbInContainer);
    expect(before).toBe(await sha256(kind.memberDb));

    const node = sessionNodeOver(conn, kind.host);
    const card = await detectNode(node, { sudo: true, target: node.host });
    expect(card.datastores).toEqual([]);
    // What `docker inspect` says now, container by container.
    const byName = new Map((card.kindContainers ?? []).map((k) => [k.name, k]));
    expect([...byName.keys()].sort()).toEqual(['kind-control-plane', 'kind-worker']);
    expect(byName.get('kind-worker')).toEqual({ name: 'kind-worker', cluster: 'kind', role: 'worker', state: 'running', addresses: { kind: kind.workerIp } });
    const cp = byName.get('kind-control-plane')!;
    expect(cp).toMatchObject({ cluster: 'kind', role: 'control-plane', state: 'running', addresses: { kind: kind.newIp } });

    // etcd inside it, read in place: configured and registered at the old address, which the container no longer has.
    const pc = cp.peerCheck!;
    expect(pc.verdict).toBe('mismatch');
    expect(pc.nodeAddresses).toEqual([kind.newIp]);
    const old = `http://${kind.oldIp}:2380`;
    expect(pc.urls).toEqual([
      { source: '--initial-advertise-peer-urls', url: old, host: kind.oldIp, onNode: false },
      { source: '--listen-peer-urls', url: old, host: kind.oldIp, onNode: false },
      { source: `--initial-cluster (${KIND_MEMBER_NAME})`, url: old, host: kind.oldIp, onNode: false },
      { source: `member ${KIND_MEMBER_NAME} (member/snap/db)`, url: old, host: kind.oldIp, onNode: false },
    ]);
    expect(pc.membersFrom).toBe('member/snap/db');
    expect(pc.members).toEqual([{ id: kind.memberIdHex, name: KIND_MEMBER_NAME, peerUrls: [old] }]);
    expect(pc.explanation).toContain(`etcd is configured/registered at ${kind.oldIp} `);
    expect(pc.explanation).toContain(`this node container now has ${kind.newIp}.`);
    // The worker runs no etcd: nothing is read inside it.
    expect(byName.get('kind-worker')!.peerCheck).toBeUndefined();
    expect(card.probes.map((p) => p.id).filter((id) => id.startsWith('kind-'))).toEqual([
      'kind-manifest:kind-control-plane',
      'kind-db-members:kind-control-plane',
    ]);
    expect(card.probes.find((p) => p.id === 'kind-manifest:kind-control-plane')!.command).toBe(
      `docker exec kind-control-plane sh -c 'cat /etc/kubernetes/manifests/etcd.yaml'`,
    );

    // The CLI's card says the same.
    const text = formatNodeCard(card);
    expect(text).toContain(`kind node kind-control-plane (cluster kind, control-plane, running): ${kind.newIp} on kind`);
    expect(text).toContain(`  peer URLs    MISMATCH (container addresses now: ${kind.newIp})`);
    expect(text).toContain(`NOT HERE ${old}  (--initial-advertise-peer-urls)`);
    expect(text).toContain(`kind node kind-worker (cluster kind, worker, running): ${kind.workerIp} on kind`);
    expect(text).toContain(
      "kind's node containers run no sshd: detect inside one with --container kind-control-plane, or open a shell there:\n  docker exec -it kind-control-plane bash\n",
    );

    // Read-only: etcd's db in the container is byte for byte what it was.
    await kind.docker.docker(['cp', 'kind-control-plane:/var/lib/etcd/member/snap/db', path.join(kind.tmp, 'db-after')]);
    expect(await sha256(path.join(kind.tmp, 'db-after'))).toBe(before);
  }, 120_000);

  it('inside the control plane (docker exec): detection finds kind’s etcd, a kind session runs its steps there, an upload lands there, and a stop finds its tag there', async () => {
    const host = sessionNodeOver(conn, kind.host);
    const inside = containerExecutor(host, 'kind-control-plane', true);
    const label = containerNodeLabel(host.host, 'kind-control-plane');
    expect(label).toBe(`${host.host} › docker:kind-control-plane`);
    const card = await detectNode(inside, { sudo: true, target: label });
    expect(card.target).toBe(label);
    const d = card.datastores.find((x) => x.engine === 'etcd')!;
    expect(d).toMatchObject({ managedBy: 'kind', dataDir: '/var/lib/etcd', memberName: KIND_MEMBER_NAME, manifest: '/etc/kubernetes/manifests/etcd.yaml' });
    expect(d.evidence).toContain('/kind exists: a kind node');
    // The container's own addresses (`ip -o addr` inside it), not the host's.
    expect(d.peerCheck!.verdict).toBe('mismatch');
    expect(d.peerCheck!.nodeAddresses).toEqual(['127.0.0.1', kind.newIp]);
    expect(d.peerCheck!.members).toEqual([{ id: kind.memberIdHex, name: KIND_MEMBER_NAME, peerUrls: [`http://${kind.oldIp}:2380`] }]);

    // The kind playbook in that container: the session is recorded as the container's, and its first step runs inside.
    const store = new SessionStore(path.join(kind.tmp, 'guided'), playbookById);
    const service = new SessionService({ store, nodeFor: () => host });
    let s = await service.create(inControlPlane('kind-addresses', d));
    expect(s).toMatchObject({ node: label, container: 'kind-control-plane' });
    s = await service.run(s.sessionId, 'addresses');
    expect(s.status['addresses']).toBe('passed');
    const shown = s.events.find((e) => e.type === 'command-shown' && e.stepId === 'addresses');
    // Inside a kind container everything runs as root: the checklist says so (Docker's socket is reached through sudo).
    expect(shown).toMatchObject({ host: label, sudo: false, asRoot: true });
    const done = s.events.find((e) => e.type === 'command-finished' && e.stepId === 'addresses') as { stdout: string; code: number };
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(new RegExp(`inet ${kind.newIp.replace(/\./g, '\\.')}/16 `));
    expect(done.stdout).toContain(`--initial-advertise-peer-urls=http://${kind.oldIp}:2380`);
    expect(done.stdout).toContain(`"peerURLs":["http://${kind.oldIp}:2380"]`);
    // Reopened (after a restart of the app), it is still the container's.
    const reopened = await new SessionService({ store, nodeFor: () => host }).open(s.sessionId, 'c1');
    expect(reopened).toMatchObject({ node: label, container: 'kind-control-plane' });
    await expect(service.create({ playbookId: 'kind-addresses', connectionId: 'c1', variables: {}, language: 'en', container: 'a;b' })).rejects.toThrow(
      'container must be a name Docker allows',
    );

    // An upload into the container (a salvaged snapshot.db for kubeadm's playbook there): SFTP to a temp dir on the
    // Docker host, docker cp in, install -m 0600 inside, the node's SHA-256 checked; no temp copy left on either side.
    let k = await service.create(inControlPlane('kubeadm-etcd-db', d));
    while (k.current !== 'have-backup') k = await service.skip(k.sessionId, k.current!, 'walked in another test');
    k = await service.choose(k.sessionId, 'have-backup', 'salvaged');
    const local = path.join(kind.tmp, 'salvaged-snapshot.db');
    await fs.writeFile(local, createHash('sha512').update('a salvaged snapshot').digest());
    const dest = `/var/backups/lifeboat/${k.sessionId}-salvaged-snapshot.db`;
    k = await service.upload(k.sessionId, 'upload-salvaged', local);
    expect(k.status['upload-salvaged'], JSON.stringify(k.events.slice(-3))).toBe('passed');
    expect(k.variables['backup']).toBe(dest);
    const inContainer = await kind.docker.docker(['exec', 'kind-control-plane', 'sh', '-c', `sha256sum ${dest}; stat -c '%a %u' ${dest}; ls /tmp`]);
    expect(inContainer).toBe(`${await sha256(local)}  ${dest}\n600 0\n`);
    // This upload's own temp dir on the host, as mktemp made it (the host's /tmp is this machine's, where other tests
    // upload beside this one), is gone.
    const mkShown = k.events.findIndex((e) => e.type === 'command-shown' && e.command.startsWith('mktemp -d /tmp/lifeboat-upload.'));
    const mk = k.events.slice(mkShown).find((e) => e.type === 'command-finished') as { stdout: string };
    const tempDir = mk.stdout.trim();
    expect(tempDir).toMatch(/^\/tmp\/lifeboat-upload\.[A-Za-z0-9]{8}$/);
    expect((await kind.host.exec(`test -e ${tempDir} && echo left || echo gone`)).stdout).toBe('gone\n');
    const cp = k.events.find((e) => e.type === 'command-shown' && e.stepId === 'upload-salvaged' && e.command.startsWith('docker cp '));
    expect(cp).toMatchObject({ host: host.host });
    // Never over an existing file: the same upload again fails and leaves the file as it was.
    k = await service.back(k.sessionId, 'upload-salvaged');
    await fs.writeFile(`${local}.other`, 'another file');
    k = await service.upload(k.sessionId, 'upload-salvaged', `${local}.other`);
    expect(k.status['upload-salvaged']).toBe('failed');
    expect(k.events.some((e) => e.type === 'finding' && e.text.includes(`${dest} already exists on the node: nothing was written`))).toBe(true);
    expect(await kind.docker.docker(['exec', 'kind-control-plane', 'sha256sum', dest])).toBe(`${await sha256(local)}  ${dest}\n`);

    // A command inside the container that outlives its limit is ended there: the stop's script finds its tag in the container's /proc.
    const run = await runTagged(inside, 'sleep 300', { sudo: true, maxOutputBytes: 4096, limitSeconds: 2 });
    expect(run.stopped?.ended).toMatchObject({ outcome: 'ended' });
    expect(run.stopped!.answer.stdout).toMatch(/^TERM \d+ sh\nTERM \d+ sleep$|^TERM \d+ sleep\nTERM \d+ sh$/m);
    const left = await kind.docker.docker(['exec', 'kind-control-plane', 'sh', '-c', 'grep -l -F LIFEBOAT_RUN=lb- /proc/[0-9]*/environ || true']);
    expect(left.trim()).toBe('');
  }, 120_000);

  it('a login that reaches Docker without sudo (the docker group): the card read so, and the session in the container runs docker as it is', async () => {
    // The test user gets the daemon's socket as a docker-group member would (this test's own daemon only).
    const sock = kind.docker.host.replace(/^unix:\/\//, '');
    await fs.chmod(path.dirname(sock), 0o711);
    await fs.chmod(sock, 0o666);
    const host = sessionNodeOver(conn, kind.host);
    const sent: string[] = [];
    const onCommand = (e: { text: string }) => sent.push(e.text);
    conn.on('command', onCommand);
    try {
      const card = await detectNode(containerExecutor(host, 'kind-control-plane', false), { sudo: false, target: 'x' });
      expect(card.sudo).toBe(false);
      const d = card.datastores.find((x) => x.engine === 'etcd')!;
      expect(d.peerCheck!.verdict).toBe('mismatch');

      const store = new SessionStore(path.join(kind.tmp, 'guided-nosudo'), playbookById);
      const service = new SessionService({ store, nodeFor: () => host });
      let s = await service.create({ ...inControlPlane('kind-addresses', d), dockerSudo: false });
      expect(s).toMatchObject({ container: 'kind-control-plane', dockerSudo: false });
      sent.length = 0;
      s = await service.run(s.sessionId, 'addresses');
      expect(s.status['addresses']).toBe('passed');
      const step = sent.filter((c) => c.includes('echo "== addresses on this node now"'));
      expect(step).toHaveLength(1);
      expect(step[0]).toMatch(/^docker exec kind-control-plane sh -c 'env LIFEBOAT_RUN=lb-[0-9a-f]{16} sh -c /);
      expect(sent.filter((c) => c.startsWith('sudo '))).toEqual([]);
      // Reopened after a restart, it still runs docker as it is.
      const reopened = new SessionService({ store, nodeFor: () => host });
      const again = await reopened.open(s.sessionId, 'c1');
      expect(again.dockerSudo).toBe(false);
      sent.length = 0;
      await reopened.back(s.sessionId, 'addresses');
      await reopened.run(s.sessionId, 'addresses');
      expect(sent.filter((c) => c.includes('echo "== addresses on this node now"'))[0]).toMatch(/^docker exec kind-control-plane /);
    } finally {
      conn.removeListener('command', onCommand);
      await fs.chmod(sock, 0o660);
    }
  }, 120_000);

  it('the CLI: lifeboat detect --container prints the card of kind’s etcd inside the container, and each probe as run', async () => {
    await fs.mkdir(path.join(kind.tmp, 'client-cli'));
    const client = await keyClient(kind.host.sshd, path.join(kind.tmp, 'client-cli'));
    let stdout = '';
    let stderr = '';
    const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), askSudoPassword: async () => null };
    const login = ['--port', String(kind.host.sshd.port), '--identity', client.key.privatePath, '--known-hosts', client.knownHostsPath];
    const target = `${kind.host.sshd.user}@${kind.host.sshd.host}`;
    expect(await detectCommand([target, ...login, '--sudo', '--container', 'kind-control-plane'], io), stderr).toBe(0);
    expect(stdout).toContain('etcd managed by kind (kubeadm in a container)');
    expect(stdout).toContain(`NOT HERE http://${kind.oldIp}:2380  (--initial-advertise-peer-urls)`);
    // Every probe as sent: through sudo, into the container.
    expect(stderr).toContain(`$ sudo docker exec kind-control-plane sh -c 'cat /etc/kubernetes/manifests/etcd.yaml'\n`);
    expect(stderr.split('\n').filter((l) => l.startsWith('$ ') && !l.startsWith('$ sudo docker exec kind-control-plane sh -c '))).toEqual([]);
    stdout = '';
    expect(await detectCommand([target, ...login, '--container', '$(id)'], io)).not.toBe(0);
    expect(stderr).toContain('--container needs a container name Docker allows, not "$(id)"');
  }, 120_000);

  it('a control plane whose manifest cannot be read is named, in both languages, and the rest of the card stays', async () => {
    await kind.docker.docker(['stop', '-t', '0', 'kind-control-plane']);
    await kind.docker.docker(['rm', 'kind-control-plane']);
    // Made again from the image: no manifest, no data dir (a control plane kubeadm never finished).
    await kind.createNode('kind-control-plane', 'control-plane', true);
    const node = sessionNodeOver(conn, kind.host);
    const card = await detectNode(node, { sudo: true, target: node.host });
    const cp = card.kindContainers!.find((k) => k.name === 'kind-control-plane')!;
    expect(cp.peerCheck).toBeUndefined();
    const probe = card.probes.find((p) => p.id === 'kind-manifest:kind-control-plane')!;
    expect(probe.code).not.toBe(0);
    const error = probe.stderr.trim().split('\n')[0]!;
    expect(error).toContain('/etc/kubernetes/manifests/etcd.yaml');
    const i = card.gaps.indexOf(`etcd’s manifest in kind node container kind-control-plane could not be read (${error}): its peer URLs not checked`);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(translateLocal('zh-CN', card.gapTexts![i]!)).toBe(`无法读取 kind 节点容器 kind-control-plane 中 etcd 的清单（${error}）：未核对其对等 URL`);
    expect(card.kindContainers!.map((k) => k.name).sort()).toEqual(['kind-control-plane', 'kind-worker']);
  }, 120_000);

  it('docker inspect as this daemon prints it parses to the same containers; a name Docker does not allow is never put in a command', async () => {
    const ids = (await kind.docker.docker(['ps', '-aq', '--filter', 'label=io.x-k8s.kind.cluster'])).split('\n').filter(Boolean);
    const parsed = parseDockerInspect(await kind.docker.docker(['inspect', ...ids]));
    expect(parsed!.map((k) => [k.name, k.role, k.addresses[KIND_NETWORK]]).sort()).toEqual(
      [
        ['kind-control-plane', 'control-plane', await kind.docker.addressOf('kind-control-plane', KIND_NETWORK)],
        ['kind-worker', 'worker', kind.workerIp],
      ].sort(),
    );
    // A name Docker would not allow (a node answering with made-up JSON) is left out, never shown as a command to copy.
    const forged = JSON.stringify([
      { Name: '/x; rm -rf ~', Config: { Labels: { 'io.x-k8s.kind.cluster': 'kind' } } },
      { Name: '/ok-1', Config: { Labels: { 'io.x-k8s.kind.cluster': 'kind' } } },
    ]);
    expect(parseDockerInspect(forged)!.map((k) => k.name)).toEqual(['ok-1']);
    expect(parseDockerInspect('{"not":"an array"}')).toBeNull();
    expect(parseDockerInspect('[{"Name": ')).toBeNull();
    expect(parseDockerInspect(`[${'{},'.repeat(2 * 1024 * 1024)}{}]`)).toBeNull();
    expect(inKindContainer('kind-control-plane', "cat '/x'")).toBe(`docker exec kind-control-plane sh -c 'cat '\\''/x'\\'''`);
    for (const bad of ['-it', 'a;b', 'a b', '$(id)', '', 'a'.repeat(129)]) expect(inKindContainer(bad, 'true')).toBeNull();
  }, 60_000);
});
