/**
 * A data dir whose WAL lives on another disk and is linked back (`member/wal -> /mnt/wal-disk/wal`), as etcd
 * follows it: Lifeboat reads through the link wherever it reads (a local copy, in place over SFTP, in place
 * through sudo), says the link is there and that a copy must follow it, and its own copies follow it (repair's
 * output, copy-out as the login user and through sudo) with plain folders, never a link back to the evidence.
 * Real etcd starts on the repaired copy and on the copied-out one and serves every key written. A link that
 * leads nowhere (what `cp -a` of such a node leaves) is said as that. Inputs are hashed before and after.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValidationReport } from '../../shared/contract/report';
import { validateDirectory } from '../../shared/validate';
import { sftpDirectory } from '../../electron/services/ssh/sftp-source';
import { sudoDirectory, sudoLinkedFileStatCommand } from '../../electron/services/ssh/sudo-source';
import { SudoRunner, sudoWrapped } from '../../electron/services/ssh/connection';
import { copyOut } from '../../electron/services/ssh/copy-out';
import { sudoCopyOut } from '../../electron/services/ssh/sudo-copy';
import { CLI, ensureBuilt, hashTree, runNode } from '../cli/fixtures';
import { makeGolden, requireEtcd, tempDir, tryStartEtcd, type EtcdGolden } from '../helpers/etcd';
import { startCopyOutNode, type CopyOutNode } from '../helpers/copy-out-node';
import { sshdAvailable } from '../helpers/sshd';
import { sudoersDropIn } from '../helpers/sudoers';
import { validateLocally } from '../helpers/validate-local';

const haveEtcd = requireEtcd();
const haveSshd = sshdAvailable();
const sudoers = sudoersDropIn('lifeboat-symlinked-parts');

let root = '';
let golden: EtcdGolden;
/** The data dir with member/wal linked to `walDisk`. */
let linked = '';
let walDisk = '';
let before: Record<string, string> = {};

/** What every reading of the linked dir must say: the link, read through, and a member that starts with every key. */
function expectReadThrough(report: ValidationReport): void {
  expect(report.engine).toBe('etcd');
  expect(report.findings.map((f) => [f.severity, f.code])).toEqual([['info', 'layout.link']]);
  expect(report.findings[0]!.params).toEqual({ path: 'member/wal', target: walDisk });
  expect(report.etcd!.layout.links).toEqual([{ path: 'member/wal', target: walDisk, leadsNowhere: false }]);
  expect(report.startable).toBe(true);
  expect(report.etcd!.wal!.files.length).toBeGreaterThan(0);
  expect(report.etcd!.schema!.liveKeys).toBe(golden.keys.size);
}

/** Real etcd on `dir`: it starts and serves exactly the keys written, with their values. */
async function expectServesEverything(dir: string): Promise<void> {
  const run = await tryStartEtcd(golden.startOptions(dir));
  expect(run.started, run.output).toBe(true);
  expect(run.keys).toEqual(golden.keys);
}

/** Every entry under `dir` that is a symbolic link (a copy must hold none). */
async function linksUnder(dir: string): Promise<string[]> {
  return execFileSync('find', [dir, '-type', 'l'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

beforeAll(async () => {
  if (!haveEtcd) return;
  await ensureBuilt();
  root = await tempDir('symlinked-parts');
  await fs.chmod(root, 0o755);
  golden = await makeGolden(path.join(root, 'golden'), { keys: 40 });
  linked = path.join(root, 'node', 'var-lib-etcd');
  walDisk = path.join(root, 'node', 'mnt-wal-disk', 'wal');
  await fs.mkdir(path.dirname(walDisk), { recursive: true });
  await fs.cp(golden.dir, linked, { recursive: true });
  await fs.rename(path.join(linked, 'member', 'wal'), walDisk);
  await fs.symlink(walDisk, path.join(linked, 'member', 'wal'));
  // Readable by the node's login user (the SFTP and login-user copy cases).
  execFileSync('chmod', ['-R', 'a+rX', path.join(root, 'node')]);
  before = { ...(await hashTree(linked)), ...(await hashTree(walDisk)) };
}, 120_000);

afterAll(async () => {
  if (linked) expect({ ...(await hashTree(linked)), ...(await hashTree(walDisk)) }).toEqual(before);
  await sudoers.remove().catch(() => undefined);
  if (root) await fs.rm(root, { recursive: true, force: true });
});

describe.skipIf(!haveEtcd)('a WAL linked back from another disk, locally', () => {
  it('is read through, said, and repaired into plain folders that real etcd starts on with every key', async () => {
    expectReadThrough(await validateLocally(linked));
    const out = path.join(root, 'repaired');
    const r = await runNode([CLI, 'repair', linked, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(await linksUnder(out)).toEqual([]);
    expect(await fs.readdir(path.join(out, 'member', 'wal'))).toEqual(await fs.readdir(walDisk));
    await expectServesEverything(out);
  });

  it('a copy that kept the link but not the WAL says so, beside "no WAL"', async () => {
    const kept = path.join(root, 'cp-a');
    execFileSync('cp', ['-a', linked, kept]);
    await fs.rm(path.join(kept, 'member', 'wal'));
    await fs.symlink('/mnt/wal-disk/wal', path.join(kept, 'member', 'wal'));
    const report = await validateLocally(kept);
    expect(report.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['layout.link-nowhere', 'layout.no-wal-dir']));
    const f = report.findings.find((x) => x.code === 'layout.link-nowhere')!;
    expect(f.severity).toBe('warning');
    expect(f.message).toBe(
      'member/wal is a symbolic link to /mnt/wal-disk/wal, which is not here: a copy that kept the link but not what it points to (`cp -a`, `tar` and `rsync -a` do that). Copy the directory again following links (`cp -aL`, `tar -h`, `rsync -L`, or Lifeboat’s copy-out), or validate it in place on the node.',
    );
  });
});

describe.skipIf(!haveEtcd || !haveSshd)('a WAL linked back from another disk, on a node over SSH', () => {
  let node: CopyOutNode;
  /** The same node for an account that runs no commands: the copy lists and reads over SFTP alone. */
  let sftpOnly: CopyOutNode;
  beforeAll(async () => {
    node = await startCopyOutNode('lifeboat-symlinked-node-');
    sftpOnly = await startCopyOutNode('lifeboat-symlinked-sftponly-', { extraConfig: ['ForceCommand internal-sftp'] });
    // A password rule, as the other sudo suites install for the same user (drop-ins are machine-wide; NOPASSWD would change their cases).
    await sudoers.install(`${node.sshd.user} ALL=(root) ALL`);
  }, 120_000);
  afterAll(async () => {
    await node?.stop();
    await sftpOnly?.stop();
  });

  it('a db linked from elsewhere, through sudo: its size is the file’s (one stat, announced), and its keys are read', async () => {
    const dbLinked = path.join(root, 'node', 'db-linked');
    await fs.cp(golden.dir, dbLinked, { recursive: true });
    const dbDisk = path.join(root, 'node', 'db-disk');
    await fs.mkdir(dbDisk);
    await fs.rename(path.join(dbLinked, 'member', 'snap', 'db'), path.join(dbDisk, 'db'));
    await fs.symlink(path.join(dbDisk, 'db'), path.join(dbLinked, 'member', 'snap', 'db'));
    const conn = await node.connect();
    const sent: string[] = [];
    conn.on('command', (e: { text: string }) => sent.push(e.text));
    try {
      const asRoot = sudoDirectory(new SudoRunner(conn, { prompt: async () => [node.sshd.password], user: node.sshd.user, host: node.sshd.host }), dbLinked);
      try {
        const report = await validateDirectory(asRoot);
        expect(report.etcd!.layout.links).toEqual([{ path: 'member/snap/db', target: path.join(dbDisk, 'db'), leadsNowhere: false }]);
        expect(report.etcd!.bbolt!.size).toBe((await fs.stat(path.join(dbDisk, 'db'))).size);
        expect(report.etcd!.schema!.liveKeys).toBe(golden.keys.size);
      } finally {
        await asRoot.close();
      }
    } finally {
      conn.close();
    }
    expect(sent.filter((t) => t === sudoWrapped(sudoLinkedFileStatCommand(path.join(dbLinked, 'member', 'snap', 'db')), 'password'))).toHaveLength(1);
  });

  it('in place over SFTP and through sudo: read through, the same verdict', async () => {
    const conn = await node.connect();
    try {
      const remote = sftpDirectory(await conn.sftp(), linked);
      try {
        expectReadThrough(await validateDirectory(remote));
      } finally {
        await remote.close();
      }
      const sudo = new SudoRunner(conn, { prompt: async () => [node.sshd.password], user: node.sshd.user, host: node.sshd.host });
      const asRoot = sudoDirectory(sudo, linked);
      try {
        expectReadThrough(await validateDirectory(asRoot));
      } finally {
        await asRoot.close();
      }
    } finally {
      conn.close();
    }
  });

  it.each(['login user', 'sudo', 'SFTP-only account'] as const)(
    'copied out as the %s: the WAL comes as plain files, and real etcd serves every key',
    async (how) => {
      const dest = await tempDir(`symlinked-copy-${how.replace(/\W+/g, '-')}`);
      const conn = await (how === 'SFTP-only account' ? sftpOnly : node).connect();
      try {
        const options = { remotePath: linked, localDir: dest, settleMs: 0 };
        const result =
          how === 'sudo'
            ? await sudoCopyOut({
                ...options,
                sudo: new SudoRunner(conn, { prompt: async () => [node.sshd.password], user: node.sshd.user, host: node.sshd.host }),
              })
            : await copyOut({ ...options, conn });
        // An account that runs no commands gets no node-side hashes to compare (copy-out-exec.test.ts): etcd's start below is the check.
        expect(result.allMatch).toBe(how !== 'SFTP-only account');
        const walFiles = (await fs.readdir(walDisk)).map((n) => `member/wal/${n}`);
        expect(result.files.map((f) => f.path)).toEqual(expect.arrayContaining(walFiles));
        expect(await linksUnder(result.localPath)).toEqual([]);
        const copy = await validateLocally(result.localPath);
        expect(copy.findings).toEqual([]);
        expect(copy.etcd!.schema!.liveKeys).toBe(golden.keys.size);
        await expectServesEverything(result.localPath);
      } finally {
        conn.close();
        await fs.rm(dest, { recursive: true, force: true });
      }
    },
  );
});
