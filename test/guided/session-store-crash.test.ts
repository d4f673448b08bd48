/**
 * The session journal survives the app being killed at any moment: a real
 * writer process (the SessionStore, bundled) appends large events and says
 * which ones it was told are durable; it is SIGKILLed at random points. Every
 * acknowledged event must be there afterwards, in order, nothing else but a
 * torn last line may be lost, and the step that was running is reopened as
 * interrupted and refuses to run again unless the operator says so.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionService } from '../../electron/services/sessions/session-service';
import { SessionStore } from '../../electron/services/sessions/session-store';
import { playbookById } from '../../shared/guided/playbooks';
import { tempDir } from '../helpers/etcd';

const REPO = path.resolve(__dirname, '..', '..');
const ID = '0b7c2f4e-1d2a-4c3b-9e8f-123456789abc';

describe('session journal under SIGKILL', () => {
  let tmp: string;
  let writer: string;

  beforeAll(async () => {
    tmp = await tempDir('journal-crash');
    writer = path.join(tmp, 'writer.cjs');
    // A writer like the app's: created, step started, then command output after command output.
    await build({
      stdin: {
        contents: `
import { SessionStore } from './electron/services/sessions/session-store';
import { playbookById } from './shared/guided/playbooks';
const [dir, id] = process.argv.slice(2);
const store = new SessionStore(dir, playbookById);
(async () => {
  await store.append(id, { type: 'created', at: 1, sessionId: id, playbookId: 'etcd-systemd-restore', node: 'n', variables: { unit: 'etcd.service' }, language: 'en' });
  await store.append(id, { type: 'step-finished', at: 2, stepId: 'overview', status: 'passed', next: 'unit-state' });
  await store.append(id, { type: 'step-started', at: 3, stepId: 'unit-state' });
  process.stdout.write('ack 3\\n');
  for (let i = 0; ; i++) {
    const out = String(i).padStart(8, '0').repeat(20000);
    await store.append(id, { type: 'command-finished', at: 4 + i, stepId: 'unit-state', command: 'journalctl -u etcd', host: 'n', code: 0, stdout: out, stderr: '', truncated: false });
    process.stdout.write('ack ' + (4 + i) + '\\n');
  }
})();
`,
        resolveDir: REPO,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      packages: 'external',
      outfile: writer,
      logLevel: 'silent',
    });
  }, 60_000);

  afterAll(async () => {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  for (const killAfterAcks of [3, 7, 19]) {
    it(`keeps every acknowledged event when killed after ${killAfterAcks} acks (plus a random delay)`, async () => {
      const dir = path.join(tmp, `run-${killAfterAcks}`);
      // The bundle sits in a temp dir and keeps packages external: they resolve from the repo's node_modules.
      const env = { ...process.env, NODE_PATH: path.join(REPO, 'node_modules') };
      const child = spawn(process.execPath, [writer, dir, ID], { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO, env });
      let acked = 0;
      let buf = '';
      const killed = new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          for (const m of buf.matchAll(/ack (\d+)\n/g)) acked = Math.max(acked, Number(m[1]));
          buf = buf.slice(buf.lastIndexOf('\n') + 1);
          if (acked >= killAfterAcks && child.exitCode === null && !child.killed) {
            // Somewhere inside the next write: between 0 and 3 ms later.
            setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 4));
          }
        });
        child.on('exit', () => resolve());
      });
      await killed;
      const store = new SessionStore(dir, playbookById);
      const s = await store.load(ID);
      // Every acknowledged event is there (acks count events 1..N), in the order written.
      expect(s.events.length).toBeGreaterThanOrEqual(acked);
      expect(s.events.map((e) => e.at)).toEqual(s.events.map((_, i) => i + 1));
      for (const e of s.events)
        if (e.type === 'command-finished')
          expect(e.stdout).toBe(
            String(e.at - 4)
              .padStart(8, '0')
              .repeat(20000),
          );
      // The step that was running is interrupted now, and is not run again by itself.
      expect(s.status['unit-state']).toBe('interrupted');
      const service = new SessionService({ store, nodeFor: () => ({ host: 'n', run: () => Promise.reject(new Error('must not run')) }) });
      const reopened = await service.open(ID, 'c');
      expect(reopened.current).toBe('unit-state');
      await expect(service.run(ID, 'unit-state')).rejects.toThrow(/cut off while it ran/);
      await store.close();
    }, 60_000);
  }
});
