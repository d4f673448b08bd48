/**
 * The contract handlers end to end against a real sshd, as the renderer would
 * drive them: host-key prompt answered through `ssh.prompt.answer`, password
 * prompt, exec, listing, a terminal with acks, copy-out events, disconnect.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshService, type SshCallContext } from '../../electron/services/ssh/ssh-service';
import type { SshEvents } from '../../shared/contract/ssh';
import { makeTempDir, sshdAvailable, startSshd, type SshdInstance } from '../helpers/sshd';

type Ev = { [E in keyof SshEvents]: { event: E; payload: SshEvents[E] } }[keyof SshEvents];

describe.skipIf(!sshdAvailable())('ssh contract handlers (real sshd)', () => {
  let ssh: SshService;
  let sshd: SshdInstance;
  let dir: string;
  beforeAll(async () => {
    sshd = await startSshd();
    dir = await makeTempDir('lifeboat-h-');
    ssh = new SshService({
      paths: {
        knownHostsPath: path.join(dir, 'known_hosts'),
        auditLogPath: path.join(dir, 'audit.jsonl'),
        recordingsDir: dir,
        copiesRoot: path.join(dir, 'copies'),
      },
    });
  });
  afterAll(async () => {
    await ssh?.shutdown();
    await sshd?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('connects with prompts, runs commands, opens a recorded terminal and copies out', async () => {
    const events: Ev[] = [];
    const waiters: (() => void)[] = [];
    const ctx: SshCallContext = {
      transport: 'web',
      emit(event, payload) {
        events.push({ event, payload } as Ev);
        if (event === 'ssh.prompt') {
          const p = payload as SshEvents['ssh.prompt'];
          const answers = p.kind === 'host-key' ? ['accept-save'] : [sshd.password];
          void ssh.handlers['ssh.prompt.answer']({ promptId: p.promptId, answers }, ctx);
        }
        waiters.splice(0).forEach((w) => w());
      },
    };
    const waitFor = async (pred: () => boolean) => {
      const end = Date.now() + 20_000;
      while (!pred()) {
        if (Date.now() > end) throw new Error('timeout');
        await new Promise<void>((r) => (waiters.push(r), setTimeout(r, 50)));
      }
    };

    const { connectionId, verdicts } = await ssh.handlers['ssh.connect'](
      { target: { host: '127.0.0.1', port: sshd.port, user: sshd.user, useAgent: false } },
      ctx,
    );
    expect(verdicts[0]).toMatchObject({ kind: 'unknown', fingerprint: sshd.hostKeys.ed25519.fingerprint });
    const kinds = events.filter((e) => e.event === 'ssh.prompt').map((e) => (e.payload as SshEvents['ssh.prompt']).kind);
    expect(kinds[0]).toBe('host-key');
    expect(kinds.slice(1)).toContain('keyboard-interactive');
    expect(await fs.readFile(path.join(dir, 'known_hosts'), 'utf8')).toContain(sshd.knownHostsLine().split(' ')[2]);

    const r = await ssh.handlers['ssh.exec']({ connectionId, command: 'echo "$USER"' }, ctx);
    expect(r).toMatchObject({ code: 0, stdout: `${sshd.user}\n` });

    await fs.writeFile(path.join(dir, 'remote-file'), 'hello');
    const listing = await ssh.handlers['ssh.list']({ connectionId, path: dir }, ctx);
    expect(listing.find((e) => e.name === 'remote-file')).toMatchObject({ kind: 'file', size: 5 });

    const { terminalId } = await ssh.handlers['ssh.terminal.open']({ connectionId, cols: 80, rows: 24 }, ctx);
    let output = '';
    const dataEvents = () => events.filter((e): e is Extract<Ev, { event: 'ssh.terminal.data' }> => e.event === 'ssh.terminal.data');
    await ssh.handlers['ssh.terminal.input']({ terminalId, data: 'echo term-$((6*7))\nexit\n' }, ctx);
    await waitFor(() => {
      output = dataEvents()
        .map((e) => Buffer.from(e.payload.dataBase64, 'base64').toString())
        .join('');
      return output.includes('term-42');
    });
    await ssh.handlers['ssh.terminal.ack']({ terminalId, bytes: Buffer.byteLength(output) }, ctx);
    await waitFor(() => events.some((e) => e.event === 'ssh.terminal.exit'));
    // The recorder writes its transcript after the shell ends.
    await new Promise((r) => setTimeout(r, 300));
    const txt = (await fs.readdir(dir)).find((n) => n.endsWith('.txt'));
    expect(txt).toBeDefined();
    expect(await fs.readFile(path.join(dir, txt!), 'utf8')).toContain('term-42');

    const src = path.join(dir, 'data');
    await fs.mkdir(src);
    await fs.writeFile(path.join(src, 'metadata1'), 'x'.repeat(1000));
    // Web mode: copies go under the copies root only.
    const out = path.join(dir, 'copies', 'node-out');
    try {
      const { jobId } = await ssh.handlers['ssh.copyout.start']({ connectionId, remotePath: src, localDir: out }, ctx);
      await waitFor(() => events.some((e) => (e.event === 'ssh.copyout.done' || e.event === 'ssh.copyout.failed') && e.payload.jobId === jobId));
      const done = events.find((e) => e.event === 'ssh.copyout.done');
      expect(done?.event === 'ssh.copyout.done' && done.payload.result.allMatch).toBe(true);
      expect(events.some((e) => e.event === 'ssh.copyout.progress')).toBe(true);
    } finally {
      await fs.rm(out, { recursive: true, force: true });
    }

    expect(await ssh.handlers['ssh.disconnect']({ connectionId }, ctx)).toEqual({ closed: true });
    await expect(ssh.handlers['ssh.exec']({ connectionId, command: 'true' }, ctx)).rejects.toThrow(/no such connection/);
  });
  it('closes the sessions of a client that went away, and only those', async () => {
    const answering = (name: string, states: string[]): SshCallContext => {
      const ctx: SshCallContext = {
        transport: 'web',
        emit(event, payload) {
          if (event === 'ssh.state') states.push(`${name}:${(payload as SshEvents['ssh.state']).state}`);
          if (event === 'ssh.prompt') {
            const p = payload as SshEvents['ssh.prompt'];
            const answers = p.kind === 'host-key' ? ['accept-save'] : [sshd.password];
            void ssh.handlers['ssh.prompt.answer']({ promptId: p.promptId, answers }, ctx);
          }
        },
      };
      return ctx;
    };
    const states: string[] = [];
    const gone = answering('gone', states);
    const stays = answering('stays', states);
    const target = { host: '127.0.0.1', port: sshd.port, user: sshd.user, useAgent: false };
    const a = await ssh.handlers['ssh.connect']({ target }, gone);
    const b = await ssh.handlers['ssh.connect']({ target }, stays);
    await ssh.release(gone);
    expect(states).toContain('gone:closed');
    expect(states).not.toContain('stays:closed');
    // The released connection is gone; the other one still runs commands.
    await expect(ssh.handlers['ssh.exec']({ connectionId: a.connectionId, command: 'true' }, gone)).rejects.toThrow();
    expect((await ssh.handlers['ssh.exec']({ connectionId: b.connectionId, command: 'echo still-here' }, stays)).stdout).toContain('still-here');
    await ssh.handlers['ssh.disconnect']({ connectionId: b.connectionId }, stays);
  });
});
