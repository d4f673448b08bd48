/**
 * `ssh.privilege` and `ssh.privilege.learned` against real sshd logins: the
 * contract the node panels read to say "as root" instead of "Use sudo".
 * - a root login (no sudo installed) reports root after the read-only
 *   `exec id -u` probe, asked once per connection, announced once;
 * - a privileged command learns it too (no separate probe afterwards);
 * - a normal user reports not root, and its sudo is never run to find out;
 * - another client's connection is not answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_PROBE } from '../../electron/services/ssh/connection';
import type { SshService } from '../../electron/services/ssh/ssh-service';
import { startCopyOutNode, type CopyOutNode } from '../helpers/copy-out-node';
import { sshdAvailable } from '../helpers/sshd';
import { sudoTestContext } from '../helpers/sudo-context';

describe.skipIf(!sshdAvailable())('the login privilege through the contract (real sshd)', () => {
  let root: CopyOutNode;
  let user: CopyOutNode;
  let rootSsh: SshService;
  let userSsh: SshService;

  beforeAll(async () => {
    [root, user] = await Promise.all([
      startCopyOutNode('lifeboat-privilege-root-', { loginAs: 'root', hideCommands: ['sudo'] }),
      startCopyOutNode('lifeboat-privilege-user-'),
    ]);
    expect(root.sshd.user).toBe('root');
    expect(user.sshd.user).not.toBe('root');
    rootSsh = root.sshService();
    userSsh = user.sshService();
  }, 120_000);

  afterAll(async () => {
    await rootSsh?.shutdown();
    await userSsh?.shutdown();
    await root?.stop();
    await user?.stop();
  });

  it('a root login reports root after one read-only probe, announced once', async () => {
    const ctx = sudoTestContext(rootSsh, () => null);
    const { connectionId } = await rootSsh.handlers['ssh.connect']({ target: root.target }, ctx);
    expect(ctx.of('ssh.privilege.learned')).toEqual([]);
    const [a, b] = await Promise.all([rootSsh.handlers['ssh.privilege']({ connectionId }, ctx), rootSsh.handlers['ssh.privilege']({ connectionId }, ctx)]);
    expect([a, b, await rootSsh.handlers['ssh.privilege']({ connectionId }, ctx)]).toEqual([
      { loginIsRoot: true },
      { loginIsRoot: true },
      { loginIsRoot: true },
    ]);
    expect(ctx.of('ssh.privilege.learned')).toEqual([{ connectionId, loginIsRoot: true }]);
    const sent = ctx.of('ssh.command').map((c) => c.text);
    expect(sent).toEqual([ROOT_PROBE]);
    await rootSsh.release(ctx);
  });

  it('a privileged command learns it as well: the status is known without another probe', async () => {
    const ctx = sudoTestContext(rootSsh, () => null);
    const { connectionId } = await rootSsh.handlers['ssh.connect']({ target: root.target }, ctx);
    const r = await rootSsh.handlers['ssh.exec']({ connectionId, command: 'id -u', sudo: true }, ctx);
    expect(r.stdout).toBe('0\n');
    expect(ctx.of('ssh.privilege.learned')).toEqual([{ connectionId, loginIsRoot: true }]);
    expect(await rootSsh.handlers['ssh.privilege']({ connectionId }, ctx)).toEqual({ loginIsRoot: true });
    expect(ctx.of('ssh.command').filter((c) => c.text === ROOT_PROBE)).toHaveLength(1);
    expect(ctx.prompts).toBe(0);
    await rootSsh.release(ctx);
  });

  it('a normal user is not root, and finding out runs no sudo', async () => {
    const ctx = sudoTestContext(userSsh, () => null);
    const { connectionId } = await userSsh.handlers['ssh.connect']({ target: user.target }, ctx);
    expect(await userSsh.handlers['ssh.privilege']({ connectionId }, ctx)).toEqual({ loginIsRoot: false });
    expect(ctx.of('ssh.privilege.learned')).toEqual([{ connectionId, loginIsRoot: false }]);
    expect(ctx.of('ssh.command').map((c) => c.text)).toEqual([ROOT_PROBE]);
    expect(ctx.prompts).toBe(0);

    // Another client cannot ask about this connection.
    const other = sudoTestContext(userSsh, () => null);
    await expect(userSsh.handlers['ssh.privilege']({ connectionId }, other)).rejects.toThrow();
    await userSsh.release(ctx);
  });
});
