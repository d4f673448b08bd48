/** Real inputs the targets mutate: the bundled samples (written by real dqlite-demo) and the field reports' logs. */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
/** Under test/ or bundled into dist/: find the checkout from either. */
function root(): string {
  for (const candidate of [ROOT, path.resolve(__dirname, '..'), process.cwd()]) {
    try {
      readdirSync(path.join(candidate, 'resources', 'samples'));
      return candidate;
    } catch {
      /* next */
    }
  }
  throw new Error(`resources/samples not found from ${__dirname} or ${process.cwd()}: run the fuzzer from the checkout`);
}

export function sampleDir(name: 'dqlite-healthy' | 'dqlite-field-report'): Record<string, Uint8Array> {
  const dir = path.join(root(), 'resources', 'samples', name);
  const out: Record<string, Uint8Array> = {};
  for (const n of readdirSync(dir).sort()) out[n] = new Uint8Array(readFileSync(path.join(dir, n)));
  return out;
}

export function sampleFiles(filter: (name: string) => boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const s of ['dqlite-healthy', 'dqlite-field-report'] as const) for (const [n, b] of Object.entries(sampleDir(s))) if (filter(n)) out.push(b);
  return out;
}

export function fieldReportLogs(): string[] {
  const dir = path.join(root(), 'test', 'fixtures', 'field-reports');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort()
    .map((n) => readFileSync(path.join(dir, n), 'utf8'));
}

export const enc = (s: string) => new TextEncoder().encode(s);
