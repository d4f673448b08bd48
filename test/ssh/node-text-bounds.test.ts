/**
 * Issue 11 part 1 for the text parsers fed from a node or the user's ssh
 * files: ssh config, known_hosts and the node-facts parsers are bounded and
 * linear. Each former problem is a case here: the ssh-config parser's
 * exceptions (found by `npm run fuzz`) become problems, oversized files and
 * lines are refused with a clear message, and the former quadratic regexes
 * (`Include` over a run of blanks, `^\s*` with the m flag over blank lines, a
 * lazy value before `\s*$`, an unbounded `[^)]+` retried at every "Access: (")
 * cost a small multiple of a plain scan of the same 64 KiB text.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KNOWN_HOSTS_MAX_BYTES, KnownHostsFile, parseKnownHosts } from '../../electron/services/ssh/known-hosts';
import { MAX_CONFIG_HOSTS, hostsFromConfigText, includeArguments, maxConfigHosts } from '../../electron/services/ssh/ssh-config';
import { manifestListFacts, parseEnvFile, parseEtcdManifest, parseIpBrief, parseStat } from '../../shared/node/facts-parse';

const ENV = { home: '/home/u', localUser: 'u' };
const ED25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const N = 64 * 1024;

/** A plain linear scan of the text: one pass of a regex that cannot match. */
// eslint-disable-next-line no-control-regex -- a scan that cannot match needs a lookahead on characters no test text has
const PLAIN = /[\u0000-\uffff](?=\u0000\u0001\u0002)/;

function fastest(f: () => unknown): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Cost of `f` on `text` in plain scans of `text` (timer floor 0.2 ms). A quadratic case on 64 KiB is in the thousands. */
function scans(text: string, f: (t: string) => unknown): number {
  const plain = Math.max(
    fastest(() => PLAIN.test(text)),
    0.2,
  );
  return fastest(() => f(text)) / plain;
}

describe('ssh config', () => {
  it('reads Include arguments without a regex, as OpenSSH spells them', () => {
    expect(includeArguments('Include config.d/*')).toBe('config.d/*');
    expect(includeArguments('  include=~/.ssh/a ~/.ssh/b')).toBe('~/.ssh/a ~/.ssh/b');
    expect(includeArguments('INCLUDE = "x y"')).toBe('"x y"');
    expect(includeArguments('\tInclude\tfoo  ')).toBe('foo');
    expect(includeArguments('Includes foo')).toBeNull();
    expect(includeArguments('Include')).toBeNull();
    expect(includeArguments('Host include')).toBeNull();
    // The shape that was quadratic: a long run of blanks ending in a lone CR.
    const line = `include${' '.repeat(N)}\r`;
    expect(includeArguments(line)).toBeNull();
    expect(scans(line, includeArguments)).toBeLessThan(60);
  });

  it("turns the ssh-config parser's exceptions into a problem that does not quote the file", () => {
    for (const text of ['Host a\n  HostName 1.2.3.4\nHost', 'Match host\n', 'Host a\n  ProxyJump "ops@bastion:2222,jump2\n']) {
      const r = hostsFromConfigText(text, ENV);
      expect(r.hosts).toEqual([]);
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]).toMatch(/^the ssh config could not be parsed \((TypeError|Error)\); check it with `ssh -G HOST`/);
      expect(r.problems[0]).not.toContain('bastion');
    }
  });

  it('refuses a line over 16 KiB and imports a bounded number of aliases, saying so', () => {
    const long = hostsFromConfigText(`Host a\n  User ${'x'.repeat(20_000)}\n`, ENV);
    expect(long).toEqual({
      hosts: [],
      problems: ['the ssh config (with its includes) line 2 is 20007 characters long, more than the 16384 allowed; nothing was imported'],
    });
    // 300 hosts in 600 lines: all but the last 44 (the limit is 256 aliases).
    const many = hostsFromConfigText(Array.from({ length: 300 }, (_, i) => `Host h${i}\n  HostName 10.0.${i >> 8}.${i & 255}`).join('\n'), ENV);
    expect(maxConfigHosts(600)).toBe(MAX_CONFIG_HOSTS);
    expect(many.hosts).toHaveLength(MAX_CONFIG_HOSTS);
    expect(many.hosts[255]).toMatchObject({ alias: 'h255', target: { host: '10.0.0.255', port: 22, user: 'u' } });
    expect(many.problems).toEqual([`more than ${MAX_CONFIG_HOSTS} Host aliases in 600 lines: the first ${MAX_CONFIG_HOSTS} were imported`]);
    // A long config gets fewer aliases: the import walks every line per alias.
    expect(maxConfigHosts(100_000)).toBe(16);
    expect(maxConfigHosts(10_000)).toBe(50);
  });
});

describe('known_hosts', () => {
  it('skips a line over 64 KiB as a problem and still reads the others', () => {
    const text = [`node1 ssh-ed25519 ${ED25519}`, `node2 ssh-ed25519 ${'A'.repeat(70_000)}`, `node3 ssh-ed25519 ${ED25519}`].join('\n');
    const parsed = parseKnownHosts(text);
    expect(parsed.entries.map((e) => [e.line, e.patterns])).toEqual([
      [1, ['node1']],
      [3, ['node3']],
    ]);
    expect(parsed.problems).toEqual([{ line: 2, message: `line is ${text.split('\n')[1].length} characters long (limit 65536); skipped` }]);
    expect(text.split('\n')[1].length).toBe(70_018);
  });

  it('refuses a file over 16 MiB before reading it, with what to do', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-kh-'));
    try {
      const file = path.join(dir, 'known_hosts');
      await fs.writeFile(file, `node1 ssh-ed25519 ${ED25519}\n`);
      await fs.truncate(file, KNOWN_HOSTS_MAX_BYTES + 1);
      await expect(new KnownHostsFile(file).read()).rejects.toThrow(
        `known_hosts is ${KNOWN_HOSTS_MAX_BYTES + 1} bytes, more than the ${KNOWN_HOSTS_MAX_BYTES} Lifeboat reads; remove stale entries with \`ssh-keygen -R HOST\``,
      );
      expect(parseKnownHosts('x'.repeat(KNOWN_HOSTS_MAX_BYTES + 1))).toEqual({
        entries: [],
        problems: [{ line: 1, message: `known_hosts is larger than ${KNOWN_HOSTS_MAX_BYTES} bytes; refusing to read it` }],
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('node facts parsers', () => {
  const out = (stdout: string) => ({ code: 0, stdout, stderr: '' });

  it('stat: the same fields after 64 KiB of blank lines, in linear time', () => {
    const stat =
      '  File: /var/lib/etcd\n  Size: 4096      \tBlocks: 8          IO Block: 4096   directory\nAccess: (0700/drwx------)  Uid: (    0/    root)   Gid: (    0/    root)\nModify: 2024-03-13 12:30:01.000000000 +0800\n';
    const padded = '\n'.repeat(N) + stat;
    expect(parseStat(out(padded))).toEqual(parseStat(out(stat)));
    expect(parseStat(out(stat))).toMatchObject({ path: '/var/lib/etcd', kind: 'directory', mode: '0700', owner: 'root', group: 'root' });
    expect(scans(padded, (t) => parseStat(out(t)))).toBeLessThan(60);
    const accessBomb = 'Access: (1/'.repeat(N / 11);
    expect(parseStat(out(accessBomb))).toBeNull();
    expect(scans(accessBomb, (t) => parseStat(out(t)))).toBeLessThan(60);
  });

  it('EnvironmentFile: values trimmed and unquoted as before, linear on long blank runs', () => {
    const env = parseEnvFile('ETCD_NAME="node1"\nexport ETCD_DATA_DIR = /var/lib/etcd  \nQ=\'x y\'\n# c\nBAD LINE\n');
    expect([...env]).toEqual([
      ['ETCD_NAME', 'node1'],
      ['ETCD_DATA_DIR', '/var/lib/etcd'],
      ['Q', 'x y'],
    ]);
    const line = `A=x${' '.repeat(N)}y\r`;
    expect(scans(line, parseEnvFile)).toBeLessThan(60);
  });

  it('static pod manifest: quoted and plain flags as kubeadm writes them, linear on long blank runs', () => {
    const flags = parseEtcdManifest(
      '    - etcd\n    - --data-dir=/var/lib/etcd  \n    - "--listen-client-urls=https://127.0.0.1:2379"\n    - \'--name=n1\'\n    - "--broken=x\n    - --initial-cluster=a=https://10.0.0.1:2380\r\n',
    );
    expect(flags['data-dir']).toBe('/var/lib/etcd');
    expect(flags['listen-client-urls']).toBe('https://127.0.0.1:2379');
    expect(flags['initial-cluster']).toBe('a=https://10.0.0.1:2380');
    const line = `  - --data-dir=x${' '.repeat(N)}y`;
    expect(scans(line, parseEtcdManifest)).toBeLessThan(60);
  });

  it('ls and ip output: arrows and @ suffixes cut by position, not by an unanchored `.*$`', () => {
    const ls = manifestListFacts(
      out('total 4\nlrwxrwxrwx 1 root root 10 Mar 13 12:30 x.yaml -> /tmp/y.yaml -> z\n-rw------- 1 root root 2406 Mar 13 12:30 etcd.yaml\n'),
      '/etc/kubernetes/manifests',
    );
    expect(ls.files).toEqual(['x.yaml', 'etcd.yaml']);
    expect(parseIpBrief(out('eth0@if12        UP             192.168.31.2/24 fe80::1/64\n'))).toEqual([
      { name: 'eth0', state: 'UP', addresses: ['192.168.31.2', 'fe80::1'] },
    ]);
    const at = `e${'@'.repeat(N)}\r x`;
    expect(scans(at, (t) => parseIpBrief(out(t)))).toBeLessThan(60);
  });
});

describe('ssh config resolution runs nothing and cannot hang', () => {
  it('a Host pattern of hundreds of `*` (a backtracking regex in the ssh-config package) resolves at once', () => {
    // npm run fuzz, ssh-config, seed 1175172828 input 651: the package's compute hung on this.
    const text = `Host Port ${'*'.repeat(388)}Por\n  HostName 203.0.113.10\n\nHost node1\n  HostName %h.cluster.internal\n  User root\n`;
    const r = hostsFromConfigText(text, ENV);
    expect(r.hosts.map((h) => [h.alias, h.target.host, h.target.user])).toEqual([
      ['Port', '203.0.113.10', 'u'],
      ['node1', 'node1.cluster.internal', 'root'],
    ]);
  });

  it('Match exec never runs its command; Match host/user/all apply as ssh does', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-exec-'));
    try {
      const marker = path.join(dir, 'ran');
      const text = `Match exec "touch ${marker}"\n  User hacked\nMatch host 10.0.0.* user u\n  Port 2200\nHost n1\n  HostName 10.0.0.5\nMatch all\n  IdentityFile ~/.ssh/k\n`;
      const r = hostsFromConfigText(text, ENV);
      await expect(fs.stat(marker)).rejects.toThrow();
      const host = r.hosts[0];
      expect(r.hosts).toHaveLength(1);
      expect(host?.alias).toBe('n1');
      expect(host?.target).toMatchObject({ host: '10.0.0.5', user: 'u', port: 22, identityFiles: ['/home/u/.ssh/k'] });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
