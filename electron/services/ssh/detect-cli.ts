/**
 * `lifeboat detect [user@]host [--port N] [--identity FILE] [--known-hosts FILE]
 *   [--accept-new] [--sudo] [--container NAME] [--json]`, or `--this-machine`
 *   in place of the host (here, as this user, with no SSH)
 *
 * Runs the read-only node probes (shared/node/detect.ts) over SSH and prints
 * the node card: what runs, how it is managed, where the data lives, which
 * backups exist and which is the newest good one. Every command it runs is
 * printed to stderr before it runs (unless --json). Host keys and sudo as for
 * `copy-out`. Exit codes: 0 card printed; 2 usage; 3 host key refused;
 * 4 authentication or sudo failed; 6 other failure.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeCard, PeerAddressCheck } from '../../../shared/contract/node';
import { detectNode } from '../../../shared/node/detect';
import type { NodeExecutor } from '../../../shared/node/executor';
import { humanBytes } from '../../../shared/node/facts-parse';
import { containerExecutor, containerNodeLabel, inKindContainer, isContainerName } from '../../../shared/node/kind';
import { newerCompressedBackup } from '../../../shared/node/backup-check';
import { translateLocal } from '../../../shared/i18n';
import { cliConnect, cliSudo, processCliIo, type CliIo, type CliTarget } from './cli-connect';
import { endpointKey } from './connection';

const USAGE =
  'usage: lifeboat detect [user@]host [--port N] [--identity FILE] [--known-hosts FILE] [--accept-new] [--sudo] [--container NAME] [--json]\n' +
  '       lifeboat detect --this-machine [--sudo] [--container NAME] [--json]\n' +
  "  --this-machine  detect on the machine this runs on, as this user (a kind cluster's Docker host is usually the laptop itself)\n" +
  '  --sudo  run the read-only probes as root: through sudo, or as they are when logged in as root (crontabs, /var/lib/etcd and backups are usually root-only)\n' +
  '  --container NAME  detect inside that container on the host (a kind node container: every probe through docker exec;\n' +
  '                    with --sudo, docker is run through sudo)';

interface DetectArgs extends CliTarget {
  sudo: boolean;
  json: boolean;
  /** Detect inside this container on the host (docker exec). */
  container?: string;
}

export function parseDetectArgs(argv: string[]): DetectArgs | string {
  let spec: string | undefined;
  const identity: string[] = [];
  let port = 22;
  let knownHosts: string | undefined;
  let acceptNew = false;
  let sudo = false;
  let json = false;
  let container: string | undefined;
  let local = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case '--port':
        port = Number(argv[++i]);
        break;
      case '--identity':
      case '-i': {
        const v = argv[++i];
        if (v) identity.push(v);
        break;
      }
      case '--known-hosts':
        knownHosts = argv[++i];
        break;
      case '--accept-new':
        acceptNew = true;
        break;
      case '--sudo':
        sudo = true;
        break;
      case '--json':
        json = true;
        break;
      case '--this-machine':
        local = true;
        break;
      case '--container':
        container = argv[++i];
        if (!container || !isContainerName(container)) return `--container needs a container name Docker allows, not ${JSON.stringify(container ?? '')}`;
        break;
      default:
        if (arg.startsWith('-')) return `unknown option ${arg}`;
        if (spec) return `unexpected argument ${arg}`;
        spec = arg;
    }
  }
  if (local) {
    if (spec) return `--this-machine takes no host (got ${spec})`;
    const me = os.userInfo().username;
    return {
      user: me,
      host: 'localhost',
      port: 0,
      identity: [],
      knownHosts: '',
      acceptNew: false,
      local: true,
      sudo,
      json,
      ...(container !== undefined ? { container } : {}),
    };
  }
  if (!spec) return 'missing [user@]host (or --this-machine)';
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:@]+)$/.exec(spec);
  if (!m) return `not [user@]host: ${spec}`;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return 'bad --port';
  return {
    user: m[1] ?? os.userInfo().username,
    host: m[2]!.replace(/^\[(.*)\]$/, '$1'),
    port,
    identity,
    knownHosts: knownHosts ?? path.join(os.homedir(), '.ssh', 'known_hosts'),
    acceptNew,
    sudo,
    json,
    ...(container !== undefined ? { container } : {}),
  };
}

/** A peer-address check as the card's lines: the verdict, each URL on this node or not, the stored members. */
function peerCheckLines(pc: PeerAddressCheck, indent: string, addressesAre = 'node addresses now'): string[] {
  const o = [`${indent}peer URLs    ${pc.verdict === 'mismatch' ? 'MISMATCH' : pc.verdict} (${addressesAre}: ${pc.nodeAddresses.join(', ') || '?'})`];
  const pad = `${indent}             `;
  for (const u of pc.urls) o.push(`${pad}${u.onNode ? 'on node ' : 'NOT HERE'} ${u.url}  (${u.source})`);
  if (pc.membersFrom)
    o.push(`${pad}members from ${pc.membersFrom}: ${pc.members.map((m) => `${m.name || '(unnamed)'} ${m.id} ${m.peerUrls.join(',')}`).join('; ')}`);
  if (pc.verdict === 'mismatch') o.push(`${pad}${pc.explanation}`);
  return o;
}

/** The node card as a terminal reads it at 3 a.m.: datastores first, then backups, then the rest. */
export function formatNodeCard(card: NodeCard): string {
  const o: string[] = [];
  o.push(`Node ${card.hostname ?? '?'} (${card.target})${card.os ? `, ${card.os}` : ''}${card.kernel ? `, ${card.kernel}` : ''}`);
  if (card.time)
    o.push(
      `  clock ${card.time}${card.clockSkewSeconds !== null && Math.abs(card.clockSkewSeconds) > 60 ? ` (${card.clockSkewSeconds} s off this machine)` : ''}`,
    );
  if (card.addresses.length) o.push(`  addresses ${card.addresses.join(', ')}`);
  if (card.datastores.length === 0) o.push('', 'No datastore found (no etcd unit, no static pod manifest, no MicroK8s backend, no k3s or RKE2 db).');
  for (const w of card.warnings ?? []) {
    o.push(`WARNING: ${translateLocal('en', w)}`);
    if (w.params?.command) o.push(`  ${w.params.command}`);
  }
  for (const d of card.datastores) {
    // In words, as the node card says it ("a kubeadm static pod", not the detector's `static-pod`).
    const manager = translateLocal('en', { key: `guided.card.managedBy.${d.managedBy}` });
    o.push('', `${d.engine} managed by ${manager}${d.running === true ? ', running' : d.running === false ? ', NOT running' : ''}`);
    o.push(`  data dir     ${d.dataDir ?? '(not set: etcd uses <name>.etcd in its working directory)'}`);
    if (d.walDir) o.push(`  wal dir      ${d.walDir}`);
    if (d.unit) o.push(`  unit         ${d.unit}`);
    if (d.envFile) o.push(`  env file     ${d.envFile}`);
    if (d.manifest) o.push(`  manifest     ${d.manifest}`);
    if (d.memberName) o.push(`  member name  ${d.memberName}`);
    for (const e of d.evidence) o.push(`  found by     ${e}`);
    if (d.peerCheck) o.push(...peerCheckLines(d.peerCheck, '  '));
    if (d.statefulSet) {
      const st = d.statefulSet;
      o.push(`  statefulset  ${st.namespace ?? '?'}/${st.name}${st.pod ? `, pod ${st.pod}` : ''}, volume ${st.volume}`);
      o.push('  restore through the StatefulSet, not systemd:');
      for (const c of st.restoreSteps) o.push(`    ${c}`);
    }
    if (d.engine === 'etcd') {
      for (const j of d.backupJobs) {
        o.push(`  backup job   ${j.kind} ${j.where}: ${j.schedule} ${j.command}`);
        if (j.targetDirs.length) o.push(`               writes to ${j.targetDirs.join(', ')}`);
      }
      if (d.backups.length === 0) o.push('  backups      none found');
      for (const b of d.backups.slice(0, 12)) {
        const v = b.valid === true ? 'OK     ' : b.valid === false ? 'BAD    ' : 'unknown';
        const packed = b.compressed ? `  [${b.compressed}]` : '';
        o.push(
          `  backup ${v} ${b.mtime.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}  ${humanBytes(b.bytes).padStart(10)}  ${b.path}${packed}${b.problem ? `  (${b.problem})` : ''}`,
        );
      }
      if (d.backups.length > 12) o.push(`  ... and ${d.backups.length - 12} older backups`);
      o.push(`  newest good backup: ${d.newestGoodBackup ?? 'none'}`);
      const newer = newerCompressedBackup(d.backups, d.newestGoodBackup);
      if (newer) {
        o.push(`  newer good backup, compressed with ${newer.compressed}: ${newer.path}`);
        o.push(`    etcdctl restores only a plain file: decompress it beside itself as root, then detect again:`);
        o.push(`    ${newer.decompressCommand}`);
      }
    }
    if (d.restore) {
      o.push(`  restore from ${d.restore.from}:`);
      if (d.restore.text) o.push(`    ${translateLocal('en', d.restore.text)}`);
      for (const c of d.restore.commands) o.push(`    ${c}`);
    }
  }
  if (card.disk.length) {
    o.push('');
    for (const d of card.disk) o.push(`disk ${d.path}: ${humanBytes(d.availableBytes)} free of ${humanBytes(d.sizeBytes)} (${d.usePercent}% used)`);
  }
  const tools = Object.entries(card.tools).filter(([, v]) => v !== null);
  if (tools.length) o.push(`tools: ${tools.map(([k, v]) => (k.endsWith('-version') ? `${k.replace('-version', '')} ${v}` : k)).join(', ')}`);
  for (const k of card.kindContainers ?? []) {
    o.push(
      `kind node ${k.name} (cluster ${k.cluster ?? '?'}, ${k.role ?? '?'}, ${k.state ?? '?'}): ${
        Object.entries(k.addresses)
          .map(([n, a]) => `${a} on ${n}`)
          .join(', ') || 'no address'
      }`,
    );
    if (k.peerCheck) o.push(...peerCheckLines(k.peerCheck, '  ', 'container addresses now'));
  }
  const planes = (card.kindContainers ?? []).filter((k) => k.role === 'control-plane');
  if (planes.length) {
    o.push(`kind's node containers run no sshd: detect inside one with --container ${planes[0]!.name}, or open a shell there:`);
    for (const k of planes) o.push(`  docker exec -it ${k.name} bash`);
  }
  for (const g of card.gaps) o.push(`note: ${g}`);
  return o.join('\n') + '\n';
}

export async function detectCommand(argv: string[], io?: CliIo): Promise<number> {
  const out = io ?? processCliIo();
  const args = parseDetectArgs(argv);
  if (typeof args === 'string') {
    out.stderr(`${args}\n${USAGE}\n`);
    return 2;
  }
  const conn = await cliConnect(args, out);
  if (typeof conn === 'number') return conn;
  try {
    const sudo = args.sudo ? await cliSudo(conn, args, out) : null;
    if (typeof sudo === 'number') return sudo;
    const onHost: NodeExecutor = {
      async run(command, opts) {
        if (opts.sudo && sudo) {
          const r = await sudo.run(command, opts.maxOutputBytes);
          return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr, truncated: r.truncated };
        }
        const r = await conn.exec(command, { maxOutputBytes: opts.maxOutputBytes });
        return { code: r.code, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated };
      },
    };
    const target = endpointKey(args);
    const inside = args.container;
    const card = await detectNode(inside !== undefined ? containerExecutor(onHost, inside, args.sudo) : onHost, {
      sudo: args.sudo,
      target: inside !== undefined ? containerNodeLabel(target, inside) : target,
      onProbe: (probe, rec) => {
        if (args.json || rec !== null) return;
        // A root login runs the probe itself: no `sudo` is shown where none runs. In a container every probe goes
        // through docker exec, through sudo when --sudo.
        const viaSudo = (inside !== undefined ? args.sudo : probe.sudo) && sudo?.known !== 'root';
        out.stderr(`$ ${viaSudo ? 'sudo ' : ''}${inside !== undefined ? inKindContainer(inside, probe.command) : probe.command}\n`);
      },
    });
    out.stdout(args.json ? JSON.stringify(card, null, 2) + '\n' : formatNodeCard(card));
    return 0;
  } catch (e) {
    out.stderr(`detect failed on ${args.host}: ${(e as Error).message}\n`);
    return 6;
  } finally {
    conn.close();
  }
}
