/**
 * `npm run fuzz`: every format in test/fuzz/targets/, fresh seed each run.
 *
 *   npm run fuzz                                   # all formats, 100,000 inputs each, new seed
 *   npm run fuzz -- --seed 123456                  # replay a run
 *   npm run fuzz -- --format yaml,log-text --inputs 20000
 *   npm run fuzz -- --format yaml --seed 123456 --index 4711   # one input, saved to fuzz-artifacts/
 *   options: --heap-mb 512 (V8 heap limit of each child), --hang-ms 10000 (watchdog),
 *            --max-failures 5 (per format), --list
 *
 * Each format runs in a child process (`--max-old-space-size`), which writes
 * the index of every input to a pipe before running it. The parent is the
 * watchdog: no heartbeat for --hang-ms means a synchronous hang; it kills the
 * child, rebuilds that input from (format, seed, index), saves it under
 * fuzz-artifacts/ and goes on from the next input in a new child. A child
 * that dies (heap limit, native crash) is reported the same way. Exit code 1
 * when anything failed, hung or crashed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { emptyStats, inputOf, runRange, type BatchStats } from './core';
import { TARGETS, targetByName, type AnyTarget } from './targets/index';

interface Options {
  seed: number;
  inputs: number;
  formats: string[];
  heapMb: number;
  hangMs: number;
  maxFailures: number;
  index: number | null;
  out: string;
}

function usage(message: string): never {
  process.stderr.write(
    `lifeboat fuzz: ${message}\nformats: ${TARGETS.filter((t) => !t.hidden)
      .map((t) => t.name)
      .join(', ')}\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    seed: randomInt(1, 2 ** 31 - 1),
    inputs: 100_000,
    formats: [],
    heapMb: 512,
    hangMs: 10_000,
    maxFailures: 5,
    index: null,
    out: path.resolve('fuzz-artifacts'),
  };
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) usage(`${name} needs an integer >= ${min}, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seed') o.seed = num(a, argv[++i], 0);
    else if (a === '--inputs') o.inputs = num(a, argv[++i], 1);
    else if (a === '--format') o.formats.push(...(argv[++i] ?? '').split(',').filter(Boolean));
    else if (a === '--heap-mb') o.heapMb = num(a, argv[++i], 16);
    else if (a === '--hang-ms') o.hangMs = num(a, argv[++i], 100);
    else if (a === '--max-failures') o.maxFailures = num(a, argv[++i], 1);
    else if (a === '--index') o.index = num(a, argv[++i], 0);
    else if (a === '--out') o.out = path.resolve(argv[++i] ?? usage('--out needs a directory'));
    else if (a === '--list') {
      for (const t of TARGETS) process.stdout.write(`${t.name.padEnd(22)} ${t.hidden ? '(self-test) ' : ''}${t.what}\n`);
      process.exit(0);
    } else usage(`unknown option ${a}`);
  }
  for (const f of o.formats) if (!targetByName(f)) usage(`unknown format ${f}`);
  if (o.formats.length === 0) o.formats = TARGETS.filter((t) => !t.hidden).map((t) => t.name);
  return o;
}

// ------------------------------------------------------------------ child

type ChildMessage = { type: 'progress' | 'done'; stats: BatchStats };

async function child(format: string, seed: number, from: number, count: number, maxFailures: number): Promise<void> {
  const target = targetByName(format);
  if (!target) throw new Error(`unknown format ${format}`);
  const corpus = await target.corpus();
  const beat = Buffer.alloc(4);
  const stats = emptyStats(format, seed);
  let lastProgress = Date.now();
  await runRange(target, corpus, seed, from, count, {
    maxFailures,
    stats,
    onStart: (i) => {
      // Synchronous, before the input runs: the parent knows exactly which input hangs.
      beat.writeUInt32LE(i >>> 0);
      writeSync(3, beat);
      if (Date.now() - lastProgress > 2000) {
        lastProgress = Date.now();
        stats.peakRss = process.resourceUsage().maxRSS * 1024;
        process.send?.({ type: 'progress', stats } satisfies ChildMessage);
      }
    },
  });
  stats.peakRss = process.resourceUsage().maxRSS * 1024;
  // The child's own corpus folder. A child the watchdog kills (a hang, the heap limit) leaves it behind; the corpus the
  // parent makes to save inputs is its own, removed at the end of runFormat.
  await target.dispose?.(corpus);
  process.send?.({ type: 'done', stats } satisfies ChildMessage, () => process.exit(0));
}

// ------------------------------------------------------------------ parent

interface Incident {
  kind: 'hang' | 'crash';
  index: number;
  detail: string;
}

interface FormatResult {
  stats: BatchStats;
  incidents: Incident[];
  wallMs: number;
}

function runChild(
  o: Options,
  format: string,
  from: number,
  count: number,
  maxFailures: number,
): Promise<{ stats: BatchStats | null; incident: Incident | null; lastIndex: number }> {
  return new Promise((resolve) => {
    const args = ['--child', format, String(o.seed), String(from), String(count), String(maxFailures)];
    const cp: ChildProcess = fork(process.argv[1], args, {
      execArgv: [`--max-old-space-size=${o.heapMb}`],
      stdio: ['ignore', 'inherit', 'pipe', 'pipe', 'ipc'],
    });
    let lastBeat = Date.now();
    let lastIndex = from - 1;
    let stats: BatchStats | null = null;
    let stderr = '';
    let hung = false;
    const beats = cp.stdio[3];
    let partial = Buffer.alloc(0);
    let started = false;
    beats?.on('data', (d: Buffer) => {
      started = true;
      lastBeat = Date.now();
      partial = Buffer.concat([partial, d]);
      const whole = partial.length - (partial.length % 4);
      if (whole >= 4) lastIndex = partial.readUInt32LE(whole - 4);
      partial = partial.subarray(whole);
    });
    cp.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-16_000);
    });
    let lastShown = Date.now();
    cp.on('message', (m: ChildMessage) => {
      lastBeat = Date.now();
      stats = m.stats;
      if (Date.now() - lastShown > 30_000) {
        lastShown = Date.now();
        process.stderr.write(`  ${format}: ${from + m.stats.inputs} of ${from + count} inputs\n`);
      }
    });
    // Starting a child (loading the bundle, reading the corpus) is not an input: it gets at least 30 s.
    const watchdog = setInterval(
      () => {
        if (Date.now() - lastBeat > (started ? o.hangMs : Math.max(o.hangMs, 30_000))) {
          hung = true;
          cp.kill('SIGKILL');
        }
      },
      Math.min(250, o.hangMs / 4),
    );
    cp.on('exit', (code, signal) => {
      clearInterval(watchdog);
      let incident: Incident | null = null;
      if (hung) incident = { kind: 'hang', index: lastIndex, detail: `no heartbeat for ${o.hangMs} ms (input still running when killed)` };
      else if (code !== 0 || !stats || (stats as BatchStats).inputs === 0) {
        // The child's own words, without V8's native stack frames.
        const said = stderr.split('\n').filter((l) => l.trim() !== '' && !/^\s*\d+: 0x|^<---|^\[\d+:0x|^-----/.test(l));
        const fatal = said.find((l) => l.startsWith('FATAL ERROR')) ?? said.slice(-3).join(' | ');
        incident = { kind: 'crash', index: lastIndex, detail: `child died (exit ${code ?? signal})${fatal ? `: ${fatal.slice(0, 300)}` : ''}` };
      }
      resolve({ stats, incident, lastIndex });
    });
  });
}

function saveInput(o: Options, target: AnyTarget, corpus: unknown, index: number, reason: string): string {
  const dir = path.join(o.out, `${target.name}-seed${o.seed}-input${index}`);
  mkdirSync(dir, { recursive: true });
  const input = inputOf(target, corpus, o.seed, index);
  for (const [name, content] of Object.entries(target.files(input))) writeFileSync(path.join(dir, name.replace(/[/\\]/g, '_')), content);
  writeFileSync(path.join(dir, 'REPLAY.txt'), `${reason}\n\nnpm run fuzz -- --format ${target.name} --seed ${o.seed} --index ${index}\n`);
  return dir;
}

async function runFormat(o: Options, format: string): Promise<FormatResult> {
  const target = targetByName(format)!;
  const total = o.index === null ? o.inputs : 1;
  let from = o.index ?? 0;
  const end = from + total;
  const merged = emptyStats(format, o.seed);
  const incidents: Incident[] = [];
  const t0 = Date.now();
  let corpus: unknown = null;
  while (from < end && merged.failures.length + incidents.length < o.maxFailures) {
    const r = await runChild(o, format, from, end - from, o.maxFailures - merged.failures.length - incidents.length);
    if (r.stats) {
      merged.inputs += r.stats.inputs;
      merged.failures.push(...r.stats.failures);
      merged.totalMs += r.stats.totalMs;
      merged.peakHeapUsed = Math.max(merged.peakHeapUsed, r.stats.peakHeapUsed);
      merged.peakRss = Math.max(merged.peakRss, r.stats.peakRss);
      if (r.stats.slowest && (!merged.slowest || r.stats.slowest.ms > merged.slowest.ms)) merged.slowest = r.stats.slowest;
    }
    if (!r.incident) break;
    incidents.push(r.incident);
    corpus ??= await target.corpus();
    const dir = saveInput(o, target, corpus, r.incident.index, `${r.incident.kind}: ${r.incident.detail}`);
    process.stdout.write(
      `  ${format}: ${r.incident.kind.toUpperCase()} at input ${r.incident.index} (${r.incident.detail}); saved to ${path.relative(process.cwd(), dir)}\n`,
    );
    // Inputs before the incident ran (their stats may be lost with the child): go on after it.
    merged.inputs = Math.max(merged.inputs, r.incident.index - (o.index ?? 0));
    from = r.incident.index + 1;
  }
  if (merged.failures.length > 0) {
    corpus ??= await target.corpus();
    for (const f of merged.failures) {
      const dir = saveInput(o, target, corpus, f.index, `failure: ${f.message}`);
      process.stdout.write(
        `  ${format}: FAILURE at input ${f.index} (${f.size} bytes): ${f.message.split('\n')[0].slice(0, 200)}; saved to ${path.relative(process.cwd(), dir)}\n`,
      );
    }
  }
  if (o.index !== null) {
    // Replaying one input: keep it, to read or to turn into a test.
    corpus ??= await target.corpus();
    const dir = saveInput(o, target, corpus, o.index, `replay: ${merged.slowest ? `${merged.slowest.ms.toFixed(1)} ms` : 'see above'}`);
    process.stdout.write(`  ${format}: input ${o.index} saved to ${path.relative(process.cwd(), dir)}\n`);
  }
  if (corpus !== null) await target.dispose?.(corpus);
  return { stats: merged, incidents, wallMs: Date.now() - t0 };
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

async function parent(o: Options): Promise<void> {
  process.stdout.write(
    `lifeboat fuzz: seed ${o.seed}, ${o.index === null ? `${o.inputs} inputs` : `input ${o.index}`} per format, heap limit ${o.heapMb} MB, hang after ${o.hangMs} ms\n`,
  );
  process.stdout.write(
    `  replay: npm run fuzz -- --seed ${o.seed}${o.formats.length < TARGETS.filter((t) => !t.hidden).length ? ` --format ${o.formats.join(',')}` : ''}${o.index === null ? '' : ` --index ${o.index}`}\n`,
  );
  let bad = 0;
  const rows: string[] = [];
  for (const format of o.formats) {
    const r = await runFormat(o, format);
    const s = r.stats;
    const slow = s.slowest ? `slowest ${s.slowest.ms.toFixed(1)} ms (input ${s.slowest.index}, ${s.slowest.size} bytes)` : 'slowest -';
    const problems = s.failures.length + r.incidents.length;
    bad += problems;
    const row = `${format.padEnd(22)} ${String(s.inputs).padStart(7)} inputs  ${(r.wallMs / 1000).toFixed(1).padStart(6)} s  ${slow}  peak heap ${mb(s.peakHeapUsed)} (RSS ${mb(s.peakRss)})  ${problems === 0 ? 'ok' : `${s.failures.length} failures, ${r.incidents.filter((x) => x.kind === 'hang').length} hangs, ${r.incidents.filter((x) => x.kind === 'crash').length} crashes`}`;
    rows.push(row);
    process.stdout.write(`${row}\n`);
  }
  process.stdout.write(`lifeboat fuzz: ${bad === 0 ? 'no failures' : `${bad} problem(s)`} (seed ${o.seed})\n`);
  process.exitCode = bad === 0 ? 0 : 1;
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  const [format, seed, from, count, maxFailures] = argv.slice(1);
  child(format, Number(seed), Number(from), Number(count), Number(maxFailures)).catch((err: unknown) => {
    process.stderr.write(`fuzz child ${format}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(3);
  });
} else {
  parent(parseArgs(argv)).catch((err: unknown) => {
    process.stderr.write(`lifeboat fuzz: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  });
}
