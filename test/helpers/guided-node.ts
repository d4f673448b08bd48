/**
 * What the guided-session tests share around a realistic node: the node
 * executor over a real SSH connection (plain exec, or root through one
 * SudoRunner, as the app's SSH service does it), and the keys a real etcd
 * serves at its client URL.
 */
import { SudoRunner, type SshConnection } from '../../electron/services/ssh/connection';
import type { SessionNode } from '../../electron/services/sessions/session-service';
import type { NodeExecutor } from '../../shared/node/detect';
import type { RealisticNode } from './realistic-node';

/** The executor the session service and the detector use, on `conn` to `node`. */
export function sessionNodeOver(conn: SshConnection, node: RealisticNode): SessionNode & { sudo: SudoRunner } {
  const sudo = new SudoRunner(conn, { user: node.sshd.user, host: '127.0.0.1', prompt: async () => null });
  const exec: NodeExecutor = {
    async run(command, opts) {
      if (opts.sudo) {
        const r = await sudo.run(command, opts.maxOutputBytes);
        return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr, truncated: r.truncated };
      }
      const r = await conn.exec(command, { maxOutputBytes: opts.maxOutputBytes });
      return { code: r.code, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated };
    },
  };
  return Object.assign(exec, { host: `${node.sshd.user}@127.0.0.1:${node.sshd.port}`, sudo, sftp: () => conn.sftp() });
}

/** Every key etcd serves at `clientUrl`, key -> value (the v3 JSON gateway). */
export async function servedKeys(clientUrl: string): Promise<Map<string, string>> {
  const res = await fetch(`${clientUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from([0]).toString('base64'), range_end: Buffer.from([0]).toString('base64') }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { kvs?: { key: string; value?: string }[] };
  return new Map((body.kvs ?? []).map((kv) => [Buffer.from(kv.key, 'base64').toString('utf8'), Buffer.from(kv.value ?? '', 'base64').toString('utf8')]));
}
