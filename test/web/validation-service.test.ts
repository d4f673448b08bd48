/**
 * The validation job service with its real worker thread: progress is
 * throttled to ~10 events/s, cancel really stops the job, local paths are an
 * Electron-only source, and the input is never modified.
 */
import { mkdtempSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvents, EventName } from '../../shared/contract/api';
import { encodeSegment, ENTRY_COMMAND } from '../../shared/formats/dqlite/batch';
import { encodeMetadata } from '../../shared/formats/dqlite/metadata';
import type { CallContext } from '../../electron/services/registry';
import { createSampleCatalog } from '../../electron/services/samples';
import { SshService } from '../../electron/services/ssh/ssh-service';
import { ValidationService } from '../../electron/services/validation-service';
import { ensureBuilt, hashTree } from '../cli/fixtures';

interface Recorded {
  at: number;
  event: EventName;
  payload: ApiEvents[EventName];
}

function recordingContext(transport: 'electron' | 'web'): CallContext & { events: Recorded[]; waitEnd(jobId: string): Promise<Recorded> } {
  const events: Recorded[] = [];
  const waiters: (() => void)[] = [];
  return {
    transport,
    events,
    emit(event, payload) {
      events.push({ at: Date.now(), event, payload });
      for (const w of waiters.splice(0)) w();
    },
    waitEnd(jobId: string) {
      const find = () => events.find((e) => e.event !== 'validation.progress' && (e.payload as { jobId: string }).jobId === jobId);
      return new Promise<Recorded>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no done/failed event')), 60_000);
        const check = (): void => {
          const e = find();
          if (e) {
            clearTimeout(t);
            resolve(e);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

let tmp: string;
let bigDir: string;
let before: Record<string, string>;

const SEGMENTS = 6;
const ENTRIES_PER_SEGMENT = 100_000;
const PAYLOAD = 8;

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-jobs-'));
  bigDir = path.join(tmp, 'backend');
  await fs.mkdir(bigDir);
  // 600k small one-entry batches (~27 MiB): enough work for several progress ticks.
  const payload = new Uint8Array(PAYLOAD);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 255;
  let index = 1;
  for (let s = 0; s < SEGMENTS; s++) {
    const batches = Array.from({ length: ENTRIES_PER_SEGMENT }, () => [{ term: 1, type: ENTRY_COMMAND, payload }]);
    const first = index;
    const last = index + ENTRIES_PER_SEGMENT - 1;
    index = last + 1;
    const name = `${String(first).padStart(16, '0')}-${String(last).padStart(16, '0')}`;
    await fs.writeFile(path.join(bigDir, name), encodeSegment(batches));
  }
  await fs.writeFile(path.join(bigDir, 'metadata1'), encodeMetadata(1, 1, 0));
  before = await hashTree(bigDir);
});

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('ValidationService (real worker)', () => {
  it('runs a local-path job in Electron mode with throttled progress', async () => {
    const service = new ValidationService({ transport: 'electron', samples: createSampleCatalog(null) });
    const ctx = recordingContext('electron');
    try {
      const { jobId } = await service.start({ kind: 'local-path', path: bigDir }, ctx);
      const end = await ctx.waitEnd(jobId);
      expect(end.event).toBe('validation.done');
      const report = (end.payload as ApiEvents['validation.done']).report;
      expect(report.engine).toBe('dqlite');
      expect(report.dqlite?.segments.reduce((n, s) => n + s.entries, 0)).toBe(SEGMENTS * ENTRIES_PER_SEGMENT);

      const progress = ctx.events.filter((e) => e.event === 'validation.progress');
      expect(progress.length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < progress.length; i++) {
        // ~10/s: 100 ms apart (a little timer slack allowed).
        expect(progress[i].at - progress[i - 1].at).toBeGreaterThanOrEqual(90);
      }
      const elapsed = end.at - (progress[0]?.at ?? end.at);
      expect(progress.length).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 2);
      for (const p of progress) {
        const pr = (p.payload as ApiEvents['validation.progress']).progress;
        expect(pr.bytesDone).toBeLessThanOrEqual(pr.bytesTotal);
      }
      // Everything arrives before "done", nothing after it.
      expect(ctx.events[ctx.events.length - 1]).toBe(end);
    } finally {
      await service.shutdown();
    }
    expect(await hashTree(bigDir)).toEqual(before);
  });

  it('cancel stops a running job: one failed(cancelled) event, no done', async () => {
    const service = new ValidationService({ transport: 'electron', samples: createSampleCatalog(null) });
    const ctx = recordingContext('electron');
    try {
      const { jobId } = await service.start({ kind: 'local-path', path: bigDir }, ctx);
      expect(service.cancel(jobId)).toEqual({ cancelled: true });
      const end = await ctx.waitEnd(jobId);
      expect(end.event).toBe('validation.failed');
      expect(end.payload).toMatchObject({ jobId, cancelled: true });
      await new Promise((r) => setTimeout(r, 1500));
      expect(ctx.events.filter((e) => e.event !== 'validation.progress')).toHaveLength(1);
      expect(service.cancel(jobId)).toEqual({ cancelled: false });
      await expect(service.batches(jobId, '0000000000000001-0000000000100000')).rejects.toMatchObject({ code: 'not-finished' });
    } finally {
      await service.shutdown();
    }
  });

  it('refuses local paths in web mode and relative paths everywhere', async () => {
    const web = new ValidationService({ transport: 'web', samples: createSampleCatalog(null) });
    const electron = new ValidationService({ transport: 'electron', samples: createSampleCatalog(null) });
    const ctx = recordingContext('web');
    try {
      await expect(web.start({ kind: 'local-path', path: bigDir }, ctx)).rejects.toMatchObject({ code: 'forbidden' });
      await expect(electron.start({ kind: 'local-path', path: 'backend' }, ctx)).rejects.toMatchObject({ code: 'bad-params' });
      await expect(electron.start({ kind: 'sample', id: 'nope' }, ctx)).rejects.toMatchObject({ code: 'unknown-sample' });
      expect(ctx.events).toEqual([]);
    } finally {
      await web.shutdown();
      await electron.shutdown();
    }
  });

  it('checks remote and copy sources before anything runs: shape, owner, and only finished copy jobs', async () => {
    const service = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: new SshService().remoteSources });
    const ctx = recordingContext('web');
    try {
      await expect(service.start({ kind: 'remote', connectionId: 'c1', path: 'relative' }, ctx)).rejects.toMatchObject({ code: 'bad-params' });
      await expect(service.start({ kind: 'remote', connectionId: '', path: '/var/lib/etcd' }, ctx)).rejects.toMatchObject({ code: 'bad-params' });
      await expect(service.start({ kind: 'remote', connectionId: 'no-such', path: '/var/lib/etcd' }, ctx)).rejects.toMatchObject({
        code: 'unknown-connection',
      });
      // A copy source names a job, never a path; unknown jobs resolve to nothing.
      await expect(service.start({ kind: 'copy', path: bigDir } as never, ctx)).rejects.toMatchObject({ code: 'bad-params' });
      await expect(service.start({ kind: 'copy', jobId: 'no-such-job' }, ctx)).rejects.toMatchObject({ code: 'unknown-copy' });
      expect(ctx.events).toEqual([]);
    } finally {
      await service.shutdown();
    }
  });

  it('a missing directory ends in a failed event, not a crash', async () => {
    const service = new ValidationService({ transport: 'electron', samples: createSampleCatalog(null) });
    const ctx = recordingContext('electron');
    try {
      const { jobId } = await service.start({ kind: 'local-path', path: path.join(tmp, 'gone') }, ctx);
      const end = await ctx.waitEnd(jobId);
      expect(end.event).toBe('validation.failed');
      expect(end.payload).toMatchObject({ jobId, cancelled: false });
      expect((end.payload as ApiEvents['validation.failed']).error).toMatch(/ENOENT|no such file/);
    } finally {
      await service.shutdown();
    }
  });

  it('shutdown terminates running jobs', async () => {
    const service = new ValidationService({ transport: 'electron', samples: createSampleCatalog(null) });
    const ctx = recordingContext('electron');
    await service.start({ kind: 'local-path', path: bigDir }, ctx);
    await service.shutdown();
    await new Promise((r) => setTimeout(r, 1000));
    expect(ctx.events.filter((e) => e.event === 'validation.done')).toEqual([]);
    await expect(service.start({ kind: 'local-path', path: bigDir }, ctx)).rejects.toMatchObject({ code: 'closed' });
  });
});
