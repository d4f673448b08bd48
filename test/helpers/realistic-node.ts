/**
 * A realistic node for guided-session tests, without touching the test
 * machine: a real `sshd` runs in its own mount namespace
 * (`unshare --mount --propagation private`) where `/etc`, `/var` and
 * `/usr/local` are overlays whose upper layers this helper prepares. Over SSH
 * the node has its own `/etc/systemd/system/etcd.service`, `/etc/etcd.env`,
 * crontabs, `/var/backups/...`, `/var/lib/etcd`, a sudoers rule for the test
 * user, and stand-ins (test/fixtures/standins) for `systemctl`, `journalctl`,
 * `crictl` and the kubelet's static-pod handling that really start and stop
 * the real engine (etcd 3.4) on that layout. Everything the node writes lands
 * in the upper layers under `root`, so tests can look at it from outside.
 */
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir, startSshd, type SshdInstance } from './sshd';

const run = promisify(execFile);
const STANDINS = path.resolve(__dirname, '..', 'fixtures', 'standins');

/** The node paths that are overlays, and the name of their layer dir under `root`. */
const OVERLAYS = [
  { mount: '/etc', layer: 'etc' },
  { mount: '/var', layer: 'var' },
  { mount: '/usr/local', layer: 'usrlocal' },
  // Unit files shipped by this machine's packages (Debian's etcd-server brings etcd.service) would show on every node.
  { mount: '/usr/lib/systemd/system', layer: 'usrlibsystemd' },
] as const;

/** What this test machine's own packages put there that a node of the kind under test would not have. */
const HIDDEN_BY_DEFAULT = ['/etc/systemd/system/etcd2.service', '/usr/lib/systemd/system/etcd.service'];

export type NodeFile = string | Uint8Array | { content: string | Uint8Array; mode?: number };

export interface RealisticNodeSpec {
  /** Files to lay down, by absolute node path under /etc, /var or /usr/local. */
  files?: Record<string, NodeFile>;
  /** Local directories copied (cp -a) to a node path under /etc, /var or /usr/local. */
  copies?: Record<string, string>;
  /** Sudo for the test user on the node: without a password (default) or with it. */
  sudo?: 'nopasswd' | 'password' | 'none';
  /** Units to start with the systemctl stand-in once the node is up (e.g. ['etcd']). */
  startUnits?: string[];
  /** Run the kubelet stand-in (static pod /etc/kubernetes/manifests/etcd.yaml). */
  kubelet?: boolean;
  /** Node paths to hide (overlay whiteouts), besides the test machine's own etcd units. */
  hide?: string[];
  /** Commands run as root inside the node once it is up, before units start (e.g. bind mounts). */
  setup?: string[];
  /** Log in as root instead of the test user (sshd.ts `loginAs`). */
  loginAs?: 'root';
  /** Commands the node's sessions cannot find, e.g. `['sudo']` (sshd.ts `hideCommands`). */
  hideCommands?: string[];
}

export interface RealisticNode {
  sshd: SshdInstance;
  /** Host dir holding the overlay layers. */
  root: string;
  /** Where a node path's upper-layer copy is on the host (what the node wrote there). */
  hostPath(nodePath: string): string;
  /** Run a shell command on the node as root (inside its mount namespace); never throws. */
  exec(command: string, timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** Whether realistic nodes can run (root, unshare, overlayfs); with CI=true missing pieces fail. */
export function realisticNodesAvailable(): boolean {
  const ok = process.getuid?.() === 0;
  if (!ok && process.env.CI === 'true') throw new Error('CI=true but realistic nodes need root (unshare + overlayfs)');
  return ok;
}

function layerFor(nodePath: string): { layer: string; rel: string } {
  for (const o of OVERLAYS) {
    if (nodePath === o.mount || nodePath.startsWith(`${o.mount}/`)) return { layer: o.layer, rel: nodePath.slice(o.mount.length + 1) };
  }
  throw new Error(`realistic node: ${nodePath} is not under ${OVERLAYS.map((o) => o.mount).join(', ')}`);
}

export async function startRealisticNode(spec: RealisticNodeSpec = {}): Promise<RealisticNode> {
  realisticNodesAvailable();
  const root = await makeTempDir('lifeboat-node-');
  for (const o of OVERLAYS) {
    await fs.mkdir(path.join(root, o.layer, 'upper'), { recursive: true });
    await fs.mkdir(path.join(root, o.layer, 'work'), { recursive: true });
  }
  const hostPath = (nodePath: string) => {
    const { layer, rel } = layerFor(nodePath);
    return path.join(root, layer, 'upper', rel);
  };
  const put = async (nodePath: string, f: NodeFile) => {
    const target = hostPath(nodePath);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const content = typeof f === 'string' || f instanceof Uint8Array ? f : f.content;
    const mode = typeof f === 'string' || f instanceof Uint8Array ? 0o644 : (f.mode ?? 0o644);
    await fs.writeFile(target, content, { mode });
    await fs.chmod(target, mode);
  };

  // Stand-ins first on PATH (/usr/local/bin precedes /usr/bin for ssh and sudo's secure_path).
  for (const tool of ['systemctl', 'journalctl', 'crictl', 'snap', 'microk8s']) {
    await put(`/usr/local/bin/${tool}`, { content: await fs.readFile(path.join(STANDINS, tool)), mode: 0o755 });
  }
  await put('/usr/local/lib/lifeboat-standin/kubelet', { content: await fs.readFile(path.join(STANDINS, 'kubelet')), mode: 0o755 });
  const sudo = spec.sudo ?? 'nopasswd';
  if (sudo !== 'none') {
    const rule = sudo === 'nopasswd' ? 'lifeboat-test ALL=(ALL) NOPASSWD: ALL' : 'lifeboat-test ALL=(ALL) ALL';
    // Named to sort after the host's own test drop-ins (`lifeboat-*-<pid>`, lower layer): the last matching rule wins.
    await put('/etc/sudoers.d/zz-lifeboat-realistic-node', { content: `${rule}\n`, mode: 0o440 });
    await run('/usr/sbin/visudo', ['-c', '-q', '-f', hostPath('/etc/sudoers.d/zz-lifeboat-realistic-node')]);
  }
  for (const p of [...HIDDEN_BY_DEFAULT, ...(spec.hide ?? [])]) {
    // An overlay whiteout: a 0/0 character device in the upper layer hides the lower file.
    const target = hostPath(p);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await run('mknod', [target, 'c', '0', '0']);
  }
  for (const [p, f] of Object.entries(spec.files ?? {})) await put(p, f);
  for (const [p, from] of Object.entries(spec.copies ?? {})) {
    const target = hostPath(p);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await run('cp', ['-a', from, target]);
  }

  const mounts = OVERLAYS.map(
    (o) =>
      `mount -t overlay overlay -o lowerdir=${o.mount},upperdir=${path.join(root, o.layer, 'upper')},workdir=${path.join(root, o.layer, 'work')} ${o.mount}`,
  ).join(' && ');
  const sshd = await startSshd({
    loginAs: spec.loginAs,
    hideCommands: spec.hideCommands,
    wrap: { command: 'unshare', args: ['--mount', '--propagation', 'private', '--', 'sh', '-c', `${mounts} && exec "$0" "$@"`] },
  });

  const exec = (command: string, timeoutMs = 30_000) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('nsenter', ['--target', String(sshd.pid), '--mount', '--', 'bash', '-c', command], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PATH: `/usr/local/sbin:/usr/local/bin:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });

  for (const command of spec.setup ?? []) {
    const r = await exec(command);
    if (r.code !== 0) throw new Error(`realistic node: ${command} failed: ${r.stderr}`);
  }
  if (spec.kubelet) {
    await exec('setsid /usr/local/lib/lifeboat-standin/kubelet >/var/lib/lifeboat-standin-kubelet.log 2>&1 < /dev/null & disown; sleep 0.2');
  }
  for (const unit of spec.startUnits ?? []) {
    const r = await exec(`systemctl start ${unit}`);
    if (r.code !== 0) throw new Error(`realistic node: systemctl start ${unit} failed: ${r.stderr}`);
  }

  return {
    sshd,
    root,
    hostPath,
    exec,
    async stop() {
      // Every process the stand-ins started lives in the node's namespace: stop them before sshd.
      await exec(
        'for f in /var/lib/lifeboat-standin/*.pid; do [ -f "$f" ] || continue; read -r p _ < "$f"; kill "$p" 2>/dev/null; done; sleep 0.5; ' +
          'for f in /var/lib/lifeboat-standin/*.pid; do [ -f "$f" ] || continue; read -r p _ < "$f"; kill -9 "$p" 2>/dev/null; done; true',
        15_000,
      );
      await sshd.stop();
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}
