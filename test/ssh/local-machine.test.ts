/**
 * "This machine" as a node (ssh.connectLocal): commands, a terminal, SFTP
 * and copy-out on the machine the tests run on, through the app's own SSH
 * client and the in-process server, with nothing listening and no
 * known_hosts written.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeCommand, SshEvents } from '../../shared/contract/ssh';
import { ApiError, errorTextOf } from '../../electron/services/api-error';
import { createHeadlessTerminal, terminalText } from '../../electron/services/ssh/recorder';
import { findSftpServer } from '../../electron/services/ssh/local-server';
import { connectSsh } from '../../electron/services/ssh/connection';
import { KnownHostsFile } from '../../electron/services/ssh/known-hosts';
import { SshService, type SshCallContext } from '../../electron/services/ssh/ssh-service';
import { makeTempDir } from '../helpers/sshd';

async function until(pred: () => boolean | Promise<boolean>, ms = 15_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');

describe('This machine (in-process SSH server)', () => {
  let dir: string;
  let ssh: SshService;
  const commands: NodeCommand[] = [];
  const data = new Map<string, Buffer[]>();
  const exits: SshEvents['ssh.terminal.exit'][] = [];
  const states: SshEvents['ssh.state'][] = [];
  const copyDone = new Map<string, SshEvents['ssh.copyout.done']>();
  const copyFailed = new Map<string, SshEvents['ssh.copyout.failed']>();
  const ctx: SshCallContext = {
    transport: 'web',
    emit(event, payload) {
      if (event === 'ssh.command') commands.push(payload as NodeCommand);
      if (event === 'ssh.state') states.push(payload as SshEvents['ssh.state']);
      if (event === 'ssh.copyout.done') copyDone.set((payload as SshEvents['ssh.copyout.done']).jobId, payload as SshEvents['ssh.copyout.done']);
      if (event === 'ssh.copyout.failed') copyFailed.set((payload as SshEvents['ssh.copyout.failed']).jobId, payload as SshEvents['ssh.copyout.failed']);
      if (event === 'ssh.terminal.exit') exits.push(payload as SshEvents['ssh.terminal.exit']);
      if (event === 'ssh.terminal.data') {
        const p = payload as SshEvents['ssh.terminal.data'];
        const list = data.get(p.terminalId) ?? [];
        list.push(Buffer.from(p.dataBase64, 'base64'));
        data.set(p.terminalId, list);
      }
    },
  };

  beforeAll(async () => {
    dir = await makeTempDir('lifeboat-local-');
    ssh = new SshService({
      paths: {
        keysDir: dir,
        knownHostsPath: path.join(dir, 'known_hosts'),
        auditLogPath: path.join(dir, 'audit.jsonl'),
        recordingsDir: null,
        copiesRoot: path.join(dir, 'copies'),
      },
    });
  });
  afterAll(async () => {
    await ssh?.shutdown();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('runs commands as this process user, shows each in the session log, and writes no known_hosts', async () => {
    const { connectionId, verdicts } = await ssh.handlers['ssh.connectLocal']({}, ctx);
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]).toMatchObject({ kind: 'known', host: 'localhost', port: 0, keyType: 'ssh-ed25519' });
    expect(states.at(-1)).toMatchObject({ connectionId, state: 'ready' });

    const who = await ssh.handlers['ssh.exec']({ connectionId, command: 'id -u; echo "$HOME"; echo err >&2; exit 7' }, ctx);
    expect(who.stdout).toBe(`${process.getuid!()}\n${os.homedir()}\n`);
    expect(who.stderr).toBe('err\n');
    expect(who.code).toBe(7);
    expect(commands.map((c) => c.text)).toContain('id -u; echo "$HOME"; echo err >&2; exit 7');

    // Input reaches the command's stdin; a signal is reported as no exit code.
    const piped = await ssh.nodeExecutor(connectionId, ctx).run('tr a-z A-Z <<EOF\nhello\nEOF', { sudo: false, maxOutputBytes: 1000 });
    expect(piped.stdout).toBe('HELLO\n');
    const killed = await ssh.handlers['ssh.exec']({ connectionId, command: 'kill -TERM $$' }, ctx);
    expect(killed.code).toBeNull();

    // A root test run is a root login: privileged commands run with no sudo, as on a node reached as root.
    const privilege = await ssh.handlers['ssh.privilege']({ connectionId }, ctx);
    expect(privilege).toEqual({ loginIsRoot: process.getuid!() === 0 });
    expect(existsSync(path.join(dir, 'known_hosts'))).toBe(false);
    await ssh.handlers['ssh.disconnect']({ connectionId }, ctx);
  });

  it('is refused, saying how to allow it, where the composition root turned it off (web mode without --this-machine)', async () => {
    const off = new SshService({ paths: ssh.config(), thisMachine: false });
    const err = await off.handlers['ssh.connectLocal']({}, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('this-machine-off');
    expect((err as ApiError).message).toContain('lifeboat serve --this-machine');
    await off.shutdown();
  });

  it('answers keepalives, so an idle connection stays up', async () => {
    const conn = await connectSsh({
      target: { local: true, host: 'localhost', port: 0, user: os.userInfo().username },
      hostKeys: { knownHosts: new KnownHostsFile(path.join(dir, 'never-written')), decideUnknown: async () => 'reject' },
      prompt: async () => null,
      keepaliveIntervalMs: 100,
      keepaliveCountMax: 2,
    });
    let dropped = false;
    conn.on('dropped', () => (dropped = true));
    // Ten keepalive rounds with nothing else on the link: a server that left them unanswered is dropped after two.
    await new Promise((r) => setTimeout(r, 1000));
    expect(dropped).toBe(false);
    expect((await conn.exec('echo alive')).stdout).toBe('alive\n');
    conn.close();
    expect(existsSync(path.join(dir, 'never-written'))).toBe(false);
  });

  it('refuses a target that claims to be local through ssh.connect', async () => {
    const err = await ssh.handlers['ssh.connect']({ target: { host: 'localhost', port: 0, user: 'root', local: true } }, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('bad-params');
  });

  it('opens a terminal on a real pseudo terminal that follows resizes, and hangs it up on disconnect', async () => {
    const { connectionId } = await ssh.handlers['ssh.connectLocal']({}, ctx);
    const { terminalId } = await ssh.handlers['ssh.terminal.open']({ connectionId, cols: 100, rows: 30 }, ctx);
    const term = createHeadlessTerminal(100, 30, 1000);
    let fed = 0;
    const screen = () => {
      const chunks = data.get(terminalId) ?? [];
      for (; fed < chunks.length; fed++) term.write(chunks[fed]);
      return terminalText(term);
    };
    const input = (text: string) => ssh.handlers['ssh.terminal.input']({ terminalId, data: text }, ctx);
    await input('PS1=\'$ \'; echo "tty=$(tty) size=$(stty size) term=$TERM" > /dev/null; printf \'T%s\\n\' "$(tty | cut -c1-9)" "$(stty size)" "$TERM"\n');
    await until(() => /T\/dev\/pts\/\s*\n?T30 100\s*\n?Txterm-256color/.test(screen().replace(/\r/g, '')), 15_000, 'tty, size and TERM printed');

    await ssh.handlers['ssh.terminal.resize']({ terminalId, cols: 120, rows: 40 }, ctx);
    await until(
      async () => {
        await input('printf \'S%s\\n\' "$(stty size)"\n');
        await new Promise((r) => setTimeout(r, 150));
        return screen().includes('S40 120');
      },
      15_000,
      'the new size seen by the shell',
    );

    // The shell's pid, then disconnect: the terminal ends and the shell is gone.
    await input("printf 'P%s\\n' $$\n");
    await until(() => /P\d+/.test(screen()), 10_000, 'shell pid');
    const pid = Number(/P(\d+)/.exec(screen())![1]);
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    await ssh.handlers['ssh.disconnect']({ connectionId }, ctx);
    await until(() => exits.some((e) => e.terminalId === terminalId), 10_000, 'terminal exit');
    await until(() => !existsSync(`/proc/${pid}`) || /\bZ\b/.test(readState(pid)), 10_000, 'the shell hung up');
  });

  it.skipIf(!findSftpServer() && process.env.CI !== 'true')('lists and copies this machine’s files over SFTP, source unchanged', async () => {
    const src = path.join(dir, 'src');
    await fs.mkdir(path.join(src, 'member', 'wal'), { recursive: true });
    await fs.writeFile(path.join(src, 'member', 'wal', '0000000000000000-0000000000000000.wal'), Buffer.alloc(300_000, 7));
    await fs.writeFile(path.join(src, 'member', 'notes'), 'keep me\n');
    const before = await sha256(path.join(src, 'member', 'wal', '0000000000000000-0000000000000000.wal'));

    const { connectionId } = await ssh.handlers['ssh.connectLocal']({}, ctx);
    const entries = await ssh.handlers['ssh.list']({ connectionId, path: path.join(src, 'member') }, ctx);
    expect(entries.map((e) => [e.name, e.kind]).sort()).toEqual([
      ['notes', 'file'],
      ['wal', 'dir'],
    ]);
    const size = entries.find((e) => e.name === 'notes')!.size;
    expect(size).toBe(8);

    // Copy-out from this machine: the same job as from a node, verified by SHA-256 on both ends.
    const { jobId } = await ssh.handlers['ssh.copyout.start']({ connectionId, remotePath: src, localDir: path.join(dir, 'copies', 'here') }, ctx);
    await until(() => copyDone.has(jobId) || copyFailed.has(jobId), 60_000, 'copy-out to end');
    expect(copyFailed.get(jobId)).toBeUndefined();
    const copied = path.join(dir, 'copies', 'here', 'src', 'member', 'wal', '0000000000000000-0000000000000000.wal');
    expect(await sha256(copied)).toBe(before);
    expect(await fs.readFile(path.join(dir, 'copies', 'here', 'src', 'member', 'notes'), 'utf8')).toBe('keep me\n');
    await ssh.handlers['ssh.disconnect']({ connectionId }, ctx);
    expect(await sha256(path.join(src, 'member', 'wal', '0000000000000000-0000000000000000.wal'))).toBe(before);
  });

  it('says what is missing when this machine has no sftp-server, and commands still run', async () => {
    const bare = new SshService({ paths: ssh.config(), local: { sftpServerPaths: [path.join(dir, 'no-sftp-server')] } });
    const { connectionId } = await bare.handlers['ssh.connectLocal']({}, ctx);
    const err = await bare.handlers['ssh.list']({ connectionId, path: dir }, ctx).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'This machine has no OpenSSH sftp-server (looked for /usr/lib/openssh/sftp-server, /usr/libexec/openssh/sftp-server, /usr/lib/ssh/sftp-server, /usr/libexec/sftp-server), which Lifeboat uses to list and copy files here: install it (Debian and Ubuntu: openssh-sftp-server), or open the folder with Open folder instead. Terminals and commands work without it.',
    );
    expect(errorTextOf(err)).toMatchObject({ key: 'ssh.local.noSftpServer' });
    expect((await bare.handlers['ssh.exec']({ connectionId, command: 'echo still here' }, ctx)).stdout).toBe('still here\n');
    await bare.shutdown();
  });
});

function readState(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '';
  } catch {
    return '';
  }
}
