/**
 * A node panel's command run through sudo that never answers (a log read against a wedged containerd, a listing on
 * a hung NFS mount) is stopped at `ssh.exec`'s time limit and, sent with its run tag (the form the panel previews),
 * ended on the node too: closing its channel ends a command the login user runs, but not root's processes under
 * sudo, which would linger on a production node (the untagged case shows they do).
 * Real sshd, real sudo (a test-owned passwordless rule), real processes looked for with pgrep.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sudoWrapped } from '../../electron/services/ssh/connection';
import { SshService, type SshCallContext } from '../../electron/services/ssh/ssh-service';
import { newRunTag } from '../../shared/node/run-tag';
import { sudoCommandTexts } from '../../renderer/src/features/node/commands';
import type { NodeCommand, SshEvents } from '../../shared/contract/ssh';
import { makeTempDir, sshdAvailable, startSshd, toolAvailable, TEST_USER, type SshdInstance } from '../helpers/sshd';
import { keyClient } from '../helpers/ssh-node';
import { sudoersDropIn } from '../helpers/sudoers';

const enabled = sshdAvailable() && toolAvailable('/usr/bin/sudo') && toolAvailable('/usr/sbin/visudo') && toolAvailable('/usr/bin/pgrep');
const sudoers = sudoersDropIn('lifeboat-exec-limit');
const LIMIT = 3;

/** Processes whose whole command line is `line` (pgrep -x -f), by pid. */
function running(line: string): string[] {
  const r = spawnSync('pgrep', ['-x', '-f', line], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

describe.skipIf(!enabled)('ssh.exec through sudo past its time limit (real sudo, real sshd)', () => {
  let sshd: SshdInstance;
  let dir: string;
  let ssh: SshService;
  let connectionId: string;
  const commands: NodeCommand[] = [];
  const ctx: SshCallContext = {
    transport: 'web',
    emit(event, payload) {
      if (event === 'ssh.command') commands.push(payload as NodeCommand);
      // The password, when sudo asks (another file's NOPASSWD drop-in for the same user may be in force meanwhile).
      if (event === 'ssh.prompt')
        void ssh.handlers['ssh.prompt.answer']({ promptId: (payload as SshEvents['ssh.prompt']).promptId, answers: [sshd.password] }, ctx);
    },
  };

  beforeAll(async () => {
    sshd = await startSshd();
    dir = await makeTempDir('lifeboat-exec-limit-');
    const client = await keyClient(sshd, dir);
    // A password rule, as the other sudo suites install for the same user (drop-ins are machine-wide).
    await sudoers.install(`${TEST_USER} ALL=(root) ALL`);
    ssh = new SshService({
      paths: { keysDir: dir, knownHostsPath: client.knownHostsPath, auditLogPath: path.join(dir, 'audit.jsonl'), recordingsDir: null },
      execTimeLimitSeconds: LIMIT,
    });
    ({ connectionId } = await ssh.handlers['ssh.connect'](
      { target: { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [client.key.privatePath], useAgent: false } },
      ctx,
    ));
  });
  afterAll(async () => {
    // Whatever a failed run left behind (only this test's own sleep lengths).
    for (const n of ['3592', '3593']) spawnSync('pkill', ['-x', '-f', `sleep ${n}`]);
    await ssh?.shutdown();
    await sudoers.remove();
    await sshd?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('sent with its run tag: stopped at the limit, keeps what it printed, and is ended on the node (no root process left)', async () => {
    const runTag = newRunTag();
    const command = 'echo before the hang; sleep 3593; echo never';
    const t0 = Date.now();
    const r = await ssh.handlers['ssh.exec']({ connectionId, command, sudo: true, runTag }, ctx);
    // The limit, then TERM and its grace at most.
    expect(Date.now() - t0).toBeLessThan((LIMIT + 20) * 1000);
    expect(r.code).toBeNull();
    expect(r.stdout).toBe('before the hang\n');
    expect(r.stopped).toEqual({ seconds: LIMIT, endedOnNode: 'ended' });
    expect(running('sleep 3593')).toEqual([]);
    // The session log shows the command exactly as the panel's preview shows it (tag included; password or
    // passwordless, whichever sudo rule of the test user is in force), then the script that ended it, through sudo too.
    const preview = sudoCommandTexts(command, runTag);
    const sent = commands.filter((c) => c.text.includes(command));
    expect(sent.map((c) => c.text)).toHaveLength(1);
    expect([preview.withPassword, preview.passwordless]).toContain(sent[0]!.text);
    expect(sent[0]!.text).toBe(sudoWrapped(command, sent[0]!.text.startsWith('sudo -n') ? 'passwordless' : 'password', runTag));
    const after = commands.slice(commands.indexOf(sent[0]!) + 1).map((c) => c.text);
    expect(after.some((text) => text.startsWith('sudo ') && text.includes('/proc/[0-9]*/environ'))).toBe(true);
    // The connection still serves the next command through sudo.
    const next = await ssh.handlers['ssh.exec']({ connectionId, command: 'id -u', sudo: true, runTag: newRunTag() }, ctx);
    expect(next).toMatchObject({ code: 0, stdout: '0\n' });
    expect(next.stopped).toBeUndefined();
  }, 60_000);

  it('sent without a tag (an older client): stopped at the limit and said to be possibly still running', async () => {
    const r = await ssh.handlers['ssh.exec']({ connectionId, command: 'echo untagged; sleep 3592', sudo: true }, ctx);
    expect(r).toMatchObject({ code: null, stdout: 'untagged\n', stopped: { seconds: LIMIT } });
    expect(r.stopped?.endedOnNode).toBeUndefined();
    // Root's sleep lives on: the channel's TERM did not reach it (why panels send a tag). Ended here by the test.
    expect(running('sleep 3592')).not.toEqual([]);
    spawnSync('pkill', ['-x', '-f', 'sleep 3592']);
  }, 60_000);

  it('a tagged command that ends in time gives its plain result; a malformed tag is refused before anything runs', async () => {
    const r = await ssh.handlers['ssh.exec']({ connectionId, command: 'echo "$LIFEBOAT_RUN"; exit 3', sudo: true, runTag: 'lb-0123456789abcdef' }, ctx);
    // The tag reaches the command's environment (what the script that ends it looks for).
    expect(r).toMatchObject({ code: 3, stdout: 'lb-0123456789abcdef\n' });
    expect(r.stopped).toBeUndefined();
    const before = commands.length;
    await expect(ssh.handlers['ssh.exec']({ connectionId, command: 'id -u', sudo: true, runTag: "lb-1; rm -rf /'" }, ctx)).rejects.toThrow(/runTag/);
    expect(commands.length).toBe(before);
  });
});
