/**
 * PTY shells on a real sshd rendered by @xterm/headless: UTF-8 split across
 * packets, resize, a ~200 MB flood with bounded memory and no lost byte,
 * and the session record (asciicast + raw bytes + rendered transcript).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { SessionRecorder, createHeadlessTerminal, terminalText } from '../../electron/services/ssh/recorder';
import { TerminalSession } from '../../electron/services/ssh/terminal';
import { makeTempDir, sshdAvailable, startSshd, type SshdInstance } from '../helpers/sshd';
import { connectByKey, keyClient } from '../helpers/ssh-node';

/** Wait until `pred()` holds, polling. */
async function until(pred: () => boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!sshdAvailable())('terminals (real sshd, headless xterm)', () => {
  let sshd: SshdInstance;
  let dir: string;
  let conn: SshConnection;

  beforeAll(async () => {
    sshd = await startSshd();
    dir = await makeTempDir('lifeboat-term-');
    conn = await connectByKey(sshd, await keyClient(sshd, dir, 'kh'));
  });
  afterAll(async () => {
    conn?.close();
    await sshd?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('renders CJK and emoji split across packets, records them, and follows resizes', async () => {
    const term = createHeadlessTerminal(80, 24, 1000);
    const chunks: Buffer[] = [];
    const base = path.join(dir, 'session1');
    const recorder = new SessionRecorder({ basePath: base, cols: 80, rows: 24, title: 'test' });
    const session = await TerminalSession.open(conn, {
      cols: 80,
      rows: 24,
      recorder,
      onData: (c) => {
        chunks.push(c);
        term.write(c, () => session.ack(c.length));
      },
    });
    const screen = () => terminalText(term);
    // Each printf is its own packet: 中 (e4 b8 ad) and 😀 (f0 9f 98 80) are cut in half.
    session.write("export PS1='$ '; clear; printf 'A:\\344\\270'; sleep 0.3; printf '\\255\\346\\226\\207 B:\\360\\237'; sleep 0.3; printf '\\230\\200!\\n'\n");
    await until(() => screen().includes('A:中文 B:😀!'), 15_000, 'split UTF-8 rendered');
    // The halves really did arrive in different chunks.
    const splitAt = chunks.findIndex((c) => c.length >= 2 && c[c.length - 2] === 0xe4 && c[c.length - 1] === 0xb8);
    expect(splitAt).toBeGreaterThanOrEqual(0);

    session.write('stty size\n');
    await until(() => /^24 80$/m.test(screen()), 10_000, 'stty size 24 80');
    session.resize(120, 40);
    term.resize(120, 40);
    session.write('stty size; tput cols\n');
    await until(() => /^40 120$/m.test(screen()) && /^120$/m.test(screen()), 10_000, 'stty size 40 120');

    session.write('exit\n');
    const reason = await new Promise<string>((r) => session.once('exit', (why: string) => r(why)));
    expect(reason).toBe('exit');
    const transcript = await recorder.close();
    expect(transcript).toContain('A:中文 B:😀!');
    expect(transcript).toMatch(/^40 120$/m);
    expect(await fs.readFile(`${base}.txt`, 'utf8')).toBe(transcript);

    const castLines = (await fs.readFile(`${base}.cast`, 'utf8')).trim().split('\n');
    const header = JSON.parse(castLines[0]) as { version: number; width: number; height: number };
    expect(header).toMatchObject({ version: 2, width: 80, height: 24 });
    const events = castLines.slice(1).map((l) => JSON.parse(l) as [number, string, string]);
    expect(events.every((e, i) => i === 0 || e[0] >= events[i - 1][0])).toBe(true);
    const outText = events
      .filter((e) => e[1] === 'o')
      .map((e) => e[2])
      .join('');
    expect(outText).toContain('A:中文 B:😀!');
    expect(outText).not.toContain('\ufffd');
    expect(events).toContainEqual([expect.any(Number), 'r', '120x40']);

    const raw = (await fs.readFile(`${base}.raw.jsonl`, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { b64: string });
    expect(Buffer.concat(raw.map((r) => Buffer.from(r.b64, 'base64')))).toEqual(Buffer.concat(chunks));
    expect(await fs.readFile(`${base}.ansi`, 'utf8')).toContain('A:中文 B:😀!');
  });

  it('floods ~200 MB through a slow consumer without losing a byte or growing memory', async () => {
    const size = 200 * 1024 * 1024;
    const file = path.join(dir, 'flood.bin');
    // Deterministic, incompressible-ish content the node will `cat`.
    const hashExpected = createHash('sha256');
    await new Promise<void>((resolve, reject) => {
      const ws = createWriteStream(file);
      let written = 0;
      let seed = 0x12345678;
      const block = Buffer.alloc(1024 * 1024);
      const writeMore = () => {
        while (written < size) {
          for (let i = 0; i < block.length; i += 4) {
            seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
            block.writeUInt32LE(seed, i);
          }
          hashExpected.update(block);
          written += block.length;
          if (!ws.write(Buffer.from(block))) return void ws.once('drain', writeMore);
        }
        ws.end(resolve);
      };
      ws.on('error', reject);
      writeMore();
    });
    await fs.chmod(file, 0o644);
    const expected = hashExpected.digest('hex');

    const START = '<<<FLOOD-START>>>';
    const END = '<<<FLOOD-END>>>';
    let phase: 'before' | 'in' | 'after' = 'before';
    let tail = Buffer.alloc(0);
    const hash = createHash('sha256');
    let floodBytes = 0;
    // A deliberately slow consumer: it renders nothing until more than the high-water mark is waiting (or
    // nothing has arrived for 50 ms, at the end), so the session must pause the channel whatever the speed
    // of the machine; then it drains and acks in bounded bursts, one per timer tick.
    const HIGH_WATER = 2 * 1024 * 1024;
    const queue: Buffer[] = [];
    let queued = 0;
    let maxQueued = 0;
    let lastArrival = Date.now();
    let draining = false;
    let session!: TerminalSession;
    const consume = (c: Buffer) => {
      let data = Buffer.concat([tail, c]);
      tail = Buffer.alloc(0);
      if (phase === 'before') {
        const i = data.indexOf(START + '\r\n');
        if (i < 0) {
          tail = data.subarray(Math.max(0, data.length - START.length - 2));
          return;
        }
        data = data.subarray(i + START.length + 2);
        phase = 'in';
      }
      if (phase === 'in') {
        const j = data.indexOf(END);
        const keep = j >= 0 ? j : Math.max(0, data.length - END.length);
        hash.update(data.subarray(0, keep));
        floodBytes += keep;
        if (j >= 0) phase = 'after';
        else tail = data.subarray(keep);
      }
    };
    const pump = setInterval(() => {
      if (queued > HIGH_WATER || Date.now() - lastArrival > 50) draining = true;
      if (!draining) return;
      // ~4 MiB per 10 ms at most, until the queue is empty; then wait for the next stall.
      let budget = 4 * 1024 * 1024;
      while (queue.length && budget > 0) {
        const c = queue.shift()!;
        queued -= c.length;
        budget -= c.length;
        consume(c);
        session.ack(c.length);
      }
      if (!queue.length) draining = false;
    }, 10);
    try {
      session = await TerminalSession.open(conn, {
        cols: 80,
        rows: 24,
        highWaterMark: HIGH_WATER,
        lowWaterMark: 512 * 1024,
        onData: (c) => {
          lastArrival = Date.now();
          queue.push(c);
          queued += c.length;
          maxQueued = Math.max(maxQueued, queued);
        },
      });
      // Raw output (no \n -> \r\n), no echo: the bytes arrive exactly as in the file.
      session.write(
        `stty -opost -echo; printf '%s\\r\\n' '${START.slice(0, 3)}''${START.slice(3)}'; cat ${file}; printf '%s' '${END.slice(0, 3)}''${END.slice(3)}'\n`,
      );
      await until(() => phase === 'after', 120_000, 'flood end marker');
    } finally {
      clearInterval(pump);
    }
    session.close();
    expect(floodBytes).toBe(size);
    expect(hash.digest('hex')).toBe(expected);
    expect(session.pauses).toBeGreaterThan(0);
    // Unrendered data never exceeds the high-water mark plus what was in flight: the bound that keeps
    // memory flat, counted in bytes (heap size depends on the GC and belongs in `npm run bench`).
    expect(maxQueued).toBeLessThan(8 * 1024 * 1024);
  }, 180_000);
});
