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

/** One field report's text (`microk8s-backend-listing.txt`, a log). */
export function fieldReportText(name: string): string {
  return readFileSync(path.join(root(), 'test', 'fixtures', 'field-reports', name), 'utf8');
}

export const enc = (s: string) => new TextEncoder().encode(s);

/** The bundled etcd data dirs (written by real etcd 3.4), as relative path -> bytes: `member/wal/….wal`, `member/snap/….snap`, `member/snap/db`. */
export function etcdSampleDir(name: 'etcd-healthy' | 'etcd-field-report'): Record<string, Uint8Array> {
  const base = path.join(root(), 'resources', 'samples', name);
  const out: Record<string, Uint8Array> = {};
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(base, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out[r] = new Uint8Array(readFileSync(path.join(base, r)));
    }
  };
  walk('');
  return out;
}

/** Files of both etcd samples whose relative path passes `filter`. */
export function etcdSampleFiles(filter: (rel: string) => boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const s of ['etcd-healthy', 'etcd-field-report'] as const) for (const [n, b] of Object.entries(etcdSampleDir(s))) if (filter(n)) out.push(b);
  return out;
}
