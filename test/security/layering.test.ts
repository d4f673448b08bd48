/**
 * The layering that keeps the format code portable (main, worker threads, Web
 * Workers, later SFTP): shared/ imports nothing from Node, Electron, the
 * renderer or the back end; the renderer never reaches into electron/; the back
 * end never into the renderer.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|svelte)$/.test(name)) out.push(p);
  }
  return out;
}

/** Every module specifier in `import … from '…'`, `export … from '…'` and `import('…')`. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"\n]*?from\s*['"]([^'"]+)['"]/g)) out.push(m[1]);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) out.push(m[1]);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]);
  return out;
}

function resolvedTop(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return path.relative(ROOT, path.resolve(path.dirname(file), spec)).split(path.sep)[0];
}

function violations(dir: string, bad: (file: string, spec: string) => boolean): string[] {
  const out: string[] = [];
  for (const f of sources(path.join(ROOT, dir))) {
    for (const s of specifiers(f)) if (bad(f, s)) out.push(`${path.relative(ROOT, f)} imports ${s}`);
  }
  return out;
}

describe('layering', () => {
  it('finds imports at all (the scanner works)', () => {
    expect(specifiers(path.join(ROOT, 'shared', 'formats', 'dqlite', 'validate.ts')).length).toBeGreaterThan(3);
    expect(violations('electron', (f, s) => resolvedTop(f, s) === 'shared').length).toBeGreaterThan(0);
  });

  it('shared/ imports no Node, Electron, renderer or back-end module', () => {
    const bad = violations('shared', (f, s) => {
      if (s.startsWith('node:') || s === 'electron' || ['fs', 'path', 'os', 'child_process', 'worker_threads'].includes(s)) return true;
      const top = resolvedTop(f, s);
      return top !== null && top !== 'shared';
    });
    expect(bad).toEqual([]);
  });

  it('the renderer never imports electron/ (it talks to the back end only through the contract)', () => {
    expect(violations('renderer/src', (f, s) => resolvedTop(f, s) === 'electron' || s === 'electron' || s.startsWith('node:'))).toEqual([]);
  });

  it('the back end never imports the renderer', () => {
    expect(violations('electron', (f, s) => resolvedTop(f, s) === 'renderer')).toEqual([]);
  });
});
