/**
 * Recording is on by default: every terminal opened through the contract is
 * recorded under LIFEBOAT_RECORDINGS_DIR (else ~/.lifeboat/sessions/<date>/),
 * and `ssh.recording.export` returns the transcript or the asciicast while
 * the shell runs and after it ended. known_hosts comes from
 * LIFEBOAT_SSH_KNOWN_HOSTS, so the real user's files are never touched.
 */
import { promises as fs, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshService, type SshCallContext } from '../../electron/services/ssh/ssh-service';
import type { SshEvents } from '../../shared/contract/ssh';
import { generateKey, makeTempDir, sshdAvailable, startSshd, type KeyPair, type SshdInstance } from '../helpers/sshd';

const ENV = [
  'LIFEBOAT_RECORDINGS_DIR',
  'LIFEBOAT_SSH_KNOWN_HOSTS',
  'LIFEBOAT_SSH_CONFIG',
  'LIFEBOAT_SSH_AUDIT_LOG',
  'LIFEBOAT_COPIES_DIR',
  'LIFEBOAT_SSH_DIR',
] as const;
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));

function restoreEnv(): void {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
}

describe('ssh service paths', () => {
  afterAll(restoreEnv);
  it('defaults to the user files and a dated sessions folder, and follows the LIFEBOAT_* variables', () => {
    for (const k of ENV) delete process.env[k];
    const d = new Date();
    const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    expect(new SshService().config()).toMatchObject({
      knownHostsPath: path.join(os.homedir(), '.ssh', 'known_hosts'),
      recordingsDir: path.join(os.homedir(), '.lifeboat', 'sessions', day),
      copiesRoot: path.join(os.homedir(), 'lifeboat-copies'),
      keysDir: path.join(os.homedir(), '.ssh'),
    });
    process.env.LIFEBOAT_RECORDINGS_DIR = '/tmp/rec-x';
    process.env.LIFEBOAT_SSH_KNOWN_HOSTS = '/tmp/kh-x';
    process.env.LIFEBOAT_SSH_CONFIG = '/tmp/cfg-x';
    process.env.LIFEBOAT_SSH_AUDIT_LOG = '/tmp/audit-x';
    process.env.LIFEBOAT_COPIES_DIR = '/tmp/copies-x';
    process.env.LIFEBOAT_SSH_DIR = '/tmp/ssh-x';
    expect(new SshService().config()).toEqual({
      recordingsDir: '/tmp/rec-x',
      knownHostsPath: '/tmp/kh-x',
      sshConfigPath: '/tmp/cfg-x',
      auditLogPath: '/tmp/audit-x',
      copiesRoot: '/tmp/copies-x',
      keysDir: '/tmp/ssh-x',
    });
    restoreEnv();
  });
});

describe.skipIf(!sshdAvailable())('terminal recordings through the contract (real sshd)', () => {
  let sshd: SshdInstance;
  let dir: string;
  let key: KeyPair;
  let recordings: string;
  let ssh: SshService;

  beforeAll(async () => {
    sshd = await startSshd();
    dir = await makeTempDir('lifeboat-rec-');
    key = await generateKey(dir, 'id');
    await sshd.authorize(key.publicLine);
    const kh = path.join(dir, 'known_hosts');
    await fs.writeFile(kh, sshd.knownHostsLine() + '\n');
    recordings = path.join(dir, 'sessions', 'today');
    process.env.LIFEBOAT_RECORDINGS_DIR = recordings;
    process.env.LIFEBOAT_SSH_KNOWN_HOSTS = kh;
    process.env.LIFEBOAT_SSH_AUDIT_LOG = path.join(dir, 'audit.jsonl');
    process.env.LIFEBOAT_SSH_DIR = dir;
    // No explicit paths: the service follows the LIFEBOAT_* environment.
    ssh = new SshService();
  });
  afterAll(async () => {
    await ssh?.shutdown();
    restoreEnv();
    await sshd?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('records without being asked and exports .txt and .cast while running and after exit', async () => {
    let output = '';
    let exited = false;
    const ctx: SshCallContext = {
      transport: 'web',
      emit(event, payload) {
        if (event === 'ssh.terminal.data') {
          const p = payload as SshEvents['ssh.terminal.data'];
          output += Buffer.from(p.dataBase64, 'base64').toString('utf8');
          void ssh.handlers['ssh.terminal.ack']({ terminalId: p.terminalId, bytes: Buffer.from(p.dataBase64, 'base64').length }, ctx);
        }
        if (event === 'ssh.terminal.exit') exited = true;
      },
    };
    const until = async (pred: () => boolean) => {
      const end = Date.now() + 15_000;
      while (!pred()) {
        if (Date.now() > end) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const { connectionId } = await ssh.handlers['ssh.connect'](
      { target: { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [key.privatePath], useAgent: false } },
      ctx,
    );
    try {
      const { terminalId } = await ssh.handlers['ssh.terminal.open']({ connectionId, cols: 100, rows: 30 }, ctx);
      await ssh.handlers['ssh.terminal.input']({ terminalId, data: 'echo rec-$((6*7)); printf "\\xe6\\x95\\xb0\\xe6\\x8d\\xae\\n"\n' }, ctx);
      await until(() => output.includes('rec-42') && output.includes('数据'));

      const live = await ssh.handlers['ssh.recording.export']({ terminalId, format: 'txt' }, ctx);
      expect(live.text).toContain('rec-42');
      expect(live.text).toContain('数据');
      expect(live.fileName).toMatch(/\.txt$/);
      expect(path.dirname(live.path)).toBe(recordings);
      expect(statSync(recordings).mode & 0o777).toBe(0o700);

      const cast = await ssh.handlers['ssh.recording.export']({ terminalId, format: 'cast' }, ctx);
      const [header, ...events] = cast.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown);
      expect(header).toMatchObject({ version: 2, width: 100, height: 30 });
      expect(events.map((e) => (e as [number, string, string])[2]).join('')).toContain('rec-42');

      await ssh.handlers['ssh.terminal.input']({ terminalId, data: 'exit\n' }, ctx);
      await until(() => exited);
      const after = await ssh.handlers['ssh.recording.export']({ terminalId, format: 'txt' }, ctx);
      expect(after.text).toContain('rec-42');
      expect(await fs.readFile(after.path, 'utf8')).toBe(after.text);
      await expect(ssh.handlers['ssh.recording.export']({ terminalId: 'nope', format: 'txt' }, ctx)).rejects.toThrow(/no recording/);
    } finally {
      await ssh.handlers['ssh.disconnect']({ connectionId }, ctx);
    }
  });
});
