/**
 * In-process ssh2 server for what PAM's pam_unix cannot produce: several
 * keyboard-interactive rounds (password, then a one-time code) after a public
 * key (`publickey,keyboard-interactive` with multi-step prompts). Binds
 * 127.0.0.1 only; runs `echo` for exec requests.
 */
import { promises as fs } from 'node:fs';
import { Server, utils, type Connection, type ParsedKey } from 'ssh2';
import { generateKey, makeTempDir } from '../helpers/sshd';

export interface KbdServer {
  port: number;
  hostKeyBlob: Buffer;
  /** What the client answered, round by round. */
  rounds: string[][];
  close(): Promise<void>;
}

export async function startKbdServer(opts: { user: string; password: string; otp: string; clientPublicLine: string }): Promise<KbdServer> {
  // The host key comes from ssh-keygen: ssh2's own generateKeyPairSync('ed25519')
  // now and then yields a key its parser rejects ("Malformed OpenSSH private key").
  const keyDir = await makeTempDir('lifeboat-kbd-');
  const privateKey = await fs.readFile((await generateKey(keyDir, 'host_ed25519')).privatePath);
  const hostKey = utils.parseKey(privateKey);
  if (hostKey instanceof Error) throw hostKey;
  const host = firstKey(hostKey);
  const allowed = utils.parseKey(opts.clientPublicLine);
  if (allowed instanceof Error) throw allowed;
  const allowedKey = firstKey(allowed);
  const rounds: string[][] = [];
  const conns = new Set<Connection>();

  const server = new Server({ hostKeys: [privateKey] }, (client) => {
    conns.add(client);
    client.on('close', () => conns.delete(client));
    client.on('error', () => undefined);
    let keyOk = false;
    client.on('authentication', (ctx) => {
      if (ctx.username !== opts.user) return ctx.reject();
      if (ctx.method === 'publickey') {
        const same = ctx.key.algo === allowedKey.type && ctx.key.data.equals(allowedKey.getPublicSSH());
        if (!same) return ctx.reject(['publickey']);
        if (!ctx.signature) return ctx.accept(); // key probe
        if (!ctx.blob || allowedKey.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
        keyOk = true;
        return ctx.reject(['keyboard-interactive'], true); // partial success
      }
      if (ctx.method === 'keyboard-interactive' && keyOk) {
        ctx.prompt([{ prompt: 'Password: ', echo: false }], 'Step 1 of 2', 'Enter your password', (answers1) => {
          rounds.push(answers1);
          if (answers1[0] !== opts.password) return ctx.reject(['keyboard-interactive']);
          ctx.prompt([{ prompt: 'Verification code: ', echo: true }], 'Step 2 of 2', 'Enter the code from your token', (answers2) => {
            rounds.push(answers2);
            if (answers2[0] !== opts.otp) return ctx.reject(['keyboard-interactive']);
            ctx.accept();
          });
        });
        return;
      }
      ctx.reject(keyOk ? ['keyboard-interactive'] : ['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acc, _rej, info) => {
          const ch = acc();
          ch.write(info.command.replace(/^echo /, '') + '\n');
          ch.exit(0);
          ch.end();
        });
      });
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  return {
    port,
    hostKeyBlob: host.getPublicSSH(),
    rounds,
    close: async () => {
      await new Promise<void>((resolve) => {
        for (const c of conns) c.end();
        server.close(() => resolve());
      });
      await fs.rm(keyDir, { recursive: true, force: true });
    },
  };
}

/** ssh2 parses a file holding several keys to an array; the first one is the key. */
function firstKey(parsed: ParsedKey | ParsedKey[]): ParsedKey {
  const keys: ParsedKey[] = Array.isArray(parsed) ? parsed : [parsed];
  return keys[0]!;
}
