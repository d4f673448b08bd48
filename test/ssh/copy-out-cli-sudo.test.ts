/**
 * `lifeboat copy-out … --sudo` against a real sshd and real sudo (a sudoers
 * drop-in for the test user that REQUIRES the password, removed afterwards)
 * and a root-only (0700) directory the login user cannot read:
 * - without --sudo the copy is refused (SFTP runs as the login user);
 * - with --sudo it lands byte-identical, the manifest's node-side hashes equal
 *   the local ones, the source is unchanged;
 * - the password, given on stdin to the real CLI process (not a TTY), never
 *   appears in argv, the environment, stdout, stderr or any file written;
 * - a wrong password is a clear refusal (exit 4) and copies nothing.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyOutCommand, type CliIo } from '../../electron/services/ssh/copy-out-cli';
import { REPO, hashTree } from '../cli/fixtures';
import { expectNowhere, makeRootOnly, startCopyOutNode, writeTree, type CopyOutNode } from '../helpers/copy-out-node';
import { sshdAvailable, toolAvailable, TEST_USER, type SshdInstance } from '../helpers/sshd';
import { sudoersDropIn } from '../helpers/sudoers';

const enabled = sshdAvailable() && toolAvailable('/usr/bin/sudo') && toolAvailable('/usr/sbin/visudo') && toolAvailable('/usr/bin/script');
const sudoers = sudoersDropIn('lifeboat-cli-sudo');

interface Child {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `script` with `args`, `stdin` piped in (not a TTY). */
function runScript(script: string, args: string[], stdin: string): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
}

/** Every regular file under `root`, relative, `/`-separated, sorted. */
async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
  }
  return out.sort();
}

describe.skipIf(!enabled)('lifeboat copy-out --sudo (real sshd, real sudo with a password, root-only dir)', () => {
  let node: CopyOutNode;
  let sshd: SshdInstance;
  let dir: string;
  let source: string;
  let before: Record<string, string>;
  let cliScript: string;

  beforeAll(async () => {
    node = await startCopyOutNode('lifeboat-cli-sudo-');
    ({ sshd, dir } = node);
    await sudoers.install(`${TEST_USER} ALL=(root) ALL`);
    // A root-only tree shaped like MicroK8s's backend: segments, a snapshot pair, a name with a space, a subdirectory.
    source = path.join(dir, 'node', 'backend');
    await writeTree(source, {
      '0000000000000001-0000000000000512': randomBytes(300_000),
      'open-1': randomBytes(70_000),
      'snapshot-1-512-123456': randomBytes(40_000),
      'snapshot-1-512-123456.meta': randomBytes(64),
      'name with space': 'cluster.yaml contents\n',
      'sub/info.yaml': 'Address: 10.0.0.5:19001\nID: 1\nRole: 0\n',
    });
    await makeRootOnly(source);
    await fs.chmod(path.join(dir, 'node'), 0o755);
    await fs.chmod(dir, 0o755);
    before = await hashTree(source);
    // The real CLI entry (copyOutCommand with its default terminal/stdin I/O), bundled like bin/lifeboat.
    cliScript = path.join(REPO, 'test-artifacts', `copy-out-cli-sudo-${process.pid}.cjs`);
    await build({
      stdin: {
        contents: `import { copyOutCommand } from './electron/services/ssh/copy-out-cli';\ncopyOutCommand(process.argv.slice(2)).then((c) => process.exit(c), (e) => { console.error(e); process.exit(70); });\n`,
        resolveDir: REPO,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      packages: 'external',
      outfile: cliScript,
      logLevel: 'silent',
    });
  }, 120_000);

  afterAll(async () => {
    await sudoers.remove();
    if (cliScript) await fs.rm(cliScript, { force: true });
    try {
      // Everything the tests copied must still be the same tree afterwards.
      if (before) expect(await hashTree(source)).toEqual(before);
    } finally {
      await node?.stop();
    }
  });

  const base = (to: string) => [
    `${TEST_USER}@${sshd.host}:${source}`,
    '--to',
    to,
    '--port',
    String(sshd.port),
    '--identity',
    node.key.privatePath,
    '--known-hosts',
    node.knownHostsPath,
  ];

  it('is refused over SFTP (login user), and copies byte-identical through sudo with the password on stdin', async () => {
    const plain = await runScript(cliScript, base(path.join(dir, 'plain')), '');
    expect(plain.code).toBe(6);
    expect(plain.stderr).toMatch(/permission denied|EACCES/i);

    const to = path.join(dir, 'copies');
    const args = [...base(to), '--sudo'];
    expect(args.join(' ')).not.toContain(sshd.password);
    const r = await runScript(cliScript, args, `${sshd.password}\n`);
    expect(r.stderr).toContain('through sudo');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/6 files, .* every SHA-256 matches the node/);

    const copy = path.join(to, 'backend');
    expect(await filesUnder(copy)).toEqual(await filesUnder(source));
    for (const f of await filesUnder(source)) {
      expect(Buffer.compare(await fs.readFile(path.join(copy, f)), await fs.readFile(path.join(source, f))), f).toBe(0);
    }
    // The manifest (sha256sum format, node-side hashes) matches the local bytes, file by file.
    const manifest = await fs.readFile(path.join(to, 'backend.sha256'), 'utf8');
    const listed = manifest
      .trim()
      .split('\n')
      .map((l) => /^([0-9a-f]{64}) {2}(.+)$/.exec(l)!);
    expect(listed.map((m) => m[2]).sort()).toEqual(await filesUnder(source));
    for (const m of listed) expect(await sha256(path.join(copy, m[2])), m[2]).toBe(m[1]);
    expect(await hashTree(source)).toEqual(before);

    // The password is in no output and no file written.
    for (const text of [r.stdout, r.stderr, plain.stdout, plain.stderr]) expect(text).not.toContain(sshd.password);
    expect(await expectNowhere(to, sshd.password)).toBeGreaterThan(6);
    expect(JSON.stringify(process.env)).not.toContain(sshd.password);
  }, 120_000);

  it('on a terminal the sudo password is asked without echo (a real pty through script(1))', async () => {
    const to = path.join(dir, 'tty');
    const command = [process.execPath, cliScript, ...base(to), '--sudo'].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('/usr/bin/script', ['-qefc', command, '/dev/null'], {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TERM: 'dumb' },
    });
    let seen = '';
    let typed = false;
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const onOutput = (d: Buffer) => {
      seen += d.toString();
      // Type only once the prompt is up (readline has the terminal in raw mode by then).
      if (!typed && seen.includes(`[sudo] password for ${TEST_USER}@${sshd.host}: `)) {
        typed = true;
        setTimeout(() => child.stdin.write(`${sshd.password}\r`), 200);
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    const code = await exited;
    clearTimeout(timer);
    child.stdin.destroy();
    expect(typed, seen).toBe(true);
    expect(code, seen).toBe(0);
    expect(seen).toMatch(/every SHA-256 matches the node/);
    expect(seen).not.toContain(sshd.password);
  }, 90_000);

  it('a wrong sudo password on stdin is a clear refusal (exit 4) and copies nothing', async () => {
    const to = path.join(dir, 'wrong');
    const wrong = 'not-the-sudo-password-5521';
    const r = await runScript(cliScript, [...base(to), '--sudo'], `${wrong}\n`);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain(`sudo on ${sshd.host} did not accept the password`);
    expect(r.stdout + r.stderr).not.toContain(wrong);
    expect(existsSync(path.join(to, 'backend'))).toBe(false);
  }, 60_000);

  it('in-process: asks for the sudo password once, --json result, resumes nothing on a fresh copy', async () => {
    const to = path.join(dir, 'json');
    const questions: string[] = [];
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: (s) => void (stdout += s),
      stderr: (s) => void (stderr += s),
      askSudoPassword: async (q) => (questions.push(q), sshd.password),
    };
    expect(await copyOutCommand([...base(to), '--sudo', '--json'], io), stderr).toBe(0);
    expect(questions).toEqual([`[sudo] password for ${TEST_USER}@${sshd.host}: `]);
    const result = JSON.parse(stdout) as { allMatch: boolean; files: { path: string; remoteSha256: string; localSha256: string }[]; resumedBytes: number };
    expect(result.allMatch).toBe(true);
    expect(result.resumedBytes).toBe(0);
    expect(result.files.map((f) => f.path).sort()).toEqual(await filesUnder(source));
    for (const f of result.files) expect(f.localSha256).toBe(await sha256(path.join(source, f.path)));
    expect(stdout + stderr).not.toContain(sshd.password);
  }, 60_000);
});
