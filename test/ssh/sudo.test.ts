/**
 * `sudo -S` for real: the test user gets a sudoers entry (password required)
 * in a test-owned file under /etc/sudoers.d/, removed afterwards. The
 * password is asked once through the prompt, held in the session's memory,
 * reused, re-asked after a wrong answer, never needed with NOPASSWD, and
 * never written to the node's disk or our recordings.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromptRequest } from '../../electron/services/ssh/auth';
import { runSudo, SudoError, SudoRunner, type SshConnection } from '../../electron/services/ssh/connection';
import { SshService, type SshCallContext } from '../../electron/services/ssh/ssh-service';
import type { SshEvents } from '../../shared/contract/ssh';
import { lookCommand, sudoCommandTexts } from '../../renderer/src/features/node/commands';
import { newRunTag } from '../../shared/node/run-tag';
import { makeTempDir, sshdAvailable, startSshd, toolAvailable, TEST_USER, type SshdInstance } from '../helpers/sshd';
import { connectByKey, keyClient } from '../helpers/ssh-node';
import { sudoersDropIn } from '../helpers/sudoers';

const enabled = sshdAvailable() && toolAvailable('/usr/bin/sudo') && toolAvailable('/usr/sbin/visudo');
const sudoers = sudoersDropIn('lifeboat-test');

describe.skipIf(!enabled)('sudo -S through SSH (real sudo, real sshd)', () => {
  let ssh: SshService;
  let sshd: SshdInstance;
  let dir: string;
  let conn: SshConnection;
  let keyPath: string;
  let knownHostsPath: string;

  beforeAll(async () => {
    sshd = await startSshd();
    dir = await makeTempDir('lifeboat-sudo-');
    const client = await keyClient(sshd, dir);
    keyPath = client.key.privatePath;
    knownHostsPath = client.knownHostsPath;
    await sudoers.install(`${TEST_USER} ALL=(root) ALL`);
    conn = await connectByKey(sshd, client);
  });
  afterAll(async () => {
    await ssh?.shutdown();
    conn?.close();
    await sudoers.remove();
    await sshd?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('asks for the password once, runs as root, and reuses the password held in memory', async () => {
    const asked: PromptRequest[] = [];
    const session = {
      prompt: async (p: PromptRequest) => (asked.push(p), [sshd.password]),
      user: sshd.user,
      host: sshd.host,
    } as { password?: string; prompt: (p: PromptRequest) => Promise<string[] | null>; user: string; host: string };
    const first = await runSudo(conn, 'id -u; whoami', session);
    expect(first).toMatchObject({ code: 0, stdout: '0\nroot\n' });
    expect(asked).toEqual([{ kind: 'sudo', user: sshd.user, host: sshd.host, attempt: 1 }]);
    // sudo's own prompt text is suppressed (-p ''), so stderr carries no noise for the checklist.
    expect(first.stderr).not.toMatch(/password/i);

    const second = await runSudo(conn, 'id -u', session);
    expect(second.stdout).toBe('0\n');
    expect(asked).toHaveLength(1);

    // A command's own failure is returned as is, not mistaken for a wrong password.
    const failing = await runSudo(conn, 'exit 3', session);
    expect(failing.code).toBe(3);
    expect(asked).toHaveLength(1);
  });

  it('asks again after a wrong password and gives up after three', async () => {
    const answers = ['wrong-1', sshd.password];
    const asked: number[] = [];
    const session: { password?: string; prompt: (p: PromptRequest) => Promise<string[] | null>; user: string; host: string } = {
      prompt: async (p) => (asked.push(p.kind === 'sudo' ? p.attempt : -1), [answers.shift() ?? '']),
      user: sshd.user,
      host: sshd.host,
    };
    expect((await runSudo(conn, 'id -u', session)).stdout).toBe('0\n');
    expect(asked).toEqual([1, 2]);
    expect(session.password).toBe(sshd.password);

    const hopeless = { prompt: async () => ['nope'], user: sshd.user, host: sshd.host };
    await expect(runSudo(conn, 'id -u', hopeless)).rejects.toThrow(SudoError);

    const cancelled = { prompt: async () => null, user: sshd.user, host: sshd.host };
    await expect(runSudo(conn, 'id -u', cancelled)).rejects.toThrow(/cancelled/);
  }, 60_000);

  it('sends exactly the texts the data directory panel shows for a sudo command (its run tag included), never the password', async () => {
    const command = lookCommand('/root');
    const runTag = newRunTag();
    const preview = sudoCommandTexts(command, runTag);
    const sent: string[] = [];
    const onCommand = (e: { text: string }) => sent.push(e.text);
    conn.on('command', onCommand);
    try {
      const session = { prompt: async () => [sshd.password], user: sshd.user, host: sshd.host };
      const r = await runSudo(conn, command, session, { runTag });
      expect(r.code).toBe(0);
      await sudoers.install(`${TEST_USER} ALL=(root) NOPASSWD: ALL`);
      try {
        await runSudo(conn, command, { prompt: async () => null, user: sshd.user, host: sshd.host }, { runTag });
      } finally {
        await sudoers.install(`${TEST_USER} ALL=(root) ALL`);
      }
    } finally {
      conn.off('command', onCommand);
    }
    expect(sent).toEqual([preview.probe, preview.withPassword, preview.probe, preview.passwordless]);
    expect(sent.join('\n')).not.toContain(sshd.password);
  });

  it('runs without asking where sudo is passwordless', async () => {
    await sudoers.install(`${TEST_USER} ALL=(root) NOPASSWD: ALL`);
    try {
      let asked = 0;
      const r = await runSudo(conn, 'id -u', { prompt: async () => (asked++, null), user: sshd.user, host: sshd.host });
      expect(r).toMatchObject({ code: 0, stdout: '0\n' });
      expect(asked).toBe(0);
    } finally {
      await sudoers.install(`${TEST_USER} ALL=(root) ALL`);
    }
  });

  it('sudo found passwordless, then asking at the command: the runner checks again and asks now (no "try again")', async () => {
    await sudoers.install(`${TEST_USER} ALL=(root) NOPASSWD: ALL`);
    try {
      const asked: PromptRequest[] = [];
      const runner = new SudoRunner(conn, { prompt: async (p) => (asked.push(p), [sshd.password]), user: sshd.user, host: sshd.host });
      expect(await runner.run('id -u', 1024)).toMatchObject({ code: 0, stdout: Buffer.from('0\n') });
      expect(asked).toEqual([]);
      // The rule changes under the runner (as cached credentials running out between the check and the command).
      await sudoers.install(`${TEST_USER} ALL=(root) ALL`);
      const again = await runner.run('whoami', 1024);
      expect(again).toMatchObject({ code: 0, stdout: Buffer.from('root\n') });
      expect(asked.map((p) => p.kind)).toEqual(['sudo']);
    } finally {
      await sudoers.install(`${TEST_USER} ALL=(root) ALL`);
    }
  });

  it('ssh.exec with sudo prompts through the contract and keeps the password off disk', async () => {
    const recordings = path.join(dir, 'recordings');
    ssh = new SshService({ paths: { keysDir: dir, knownHostsPath, auditLogPath: path.join(dir, 'audit.jsonl'), recordingsDir: recordings } });
    const prompts: SshEvents['ssh.prompt'][] = [];
    const ctx: SshCallContext = {
      transport: 'web',
      emit(event, payload) {
        if (event !== 'ssh.prompt') return;
        const p = payload as SshEvents['ssh.prompt'];
        prompts.push(p);
        void ssh.handlers['ssh.prompt.answer']({ promptId: p.promptId, answers: [sshd.password] }, ctx);
      },
    };
    const { connectionId } = await ssh.handlers['ssh.connect'](
      { target: { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [keyPath], useAgent: false } },
      ctx,
    );
    try {
      const r1 = await ssh.handlers['ssh.exec']({ connectionId, command: 'id -u', sudo: true }, ctx);
      const r2 = await ssh.handlers['ssh.exec']({ connectionId, command: 'id -un', sudo: true }, ctx);
      expect([r1.stdout, r2.stdout]).toEqual(['0\n', 'root\n']);
      expect(prompts.map((p) => p.kind)).toEqual(['sudo']);
    } finally {
      await ssh.handlers['ssh.disconnect']({ connectionId }, ctx);
    }
    // Nothing we wrote contains the password.
    for (const f of [knownHostsPath, ...(existsSync(recordings) ? (await fs.readdir(recordings)).map((n) => path.join(recordings, n)) : [])]) {
      expect(await fs.readFile(f, 'utf8')).not.toContain(sshd.password);
    }
  });
});
