/**
 * The layering that keeps the format code portable (main, worker threads, Web
 * Workers, later SFTP): shared/ imports nothing from Node, Electron, the
 * renderer or the back end; the renderer never reaches into electron/; the back
 * end never into the renderer. Services in electron/services/ are instances
 * owned by the composition roots (main.ts, web/server.ts, cli.ts), so no
 * module there keeps mutable state at top level; and no import cycle exists
 * in electron/ or shared/ (every import goes downward).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
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

/** Every relative import of a file, multi-line imports and `import type` included (a type cycle is still a cycle in the design). */
function relativeImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s*['"](\.[^'"]*)['"]/g)) out.push(m[1]);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*['"](\.[^'"]*)['"]/g)) out.push(m[1]);
  for (const m of text.matchAll(/\bimport\(\s*['"](\.[^'"]*)['"]\s*\)/g)) out.push(m[1]);
  return out;
}

/** The import graph of the .ts files under `dirs` (resolved to files that exist there). */
function importGraph(root: string, dirs: string[]): Map<string, string[]> {
  const files = dirs.flatMap((d) => sources(path.join(root, d))).filter((f) => f.endsWith('.ts'));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const edges: string[] = [];
    for (const spec of relativeImports(readFileSync(f, 'utf8'))) {
      const base = path.resolve(path.dirname(f), spec);
      const hit = [base, `${base}.ts`, path.join(base, 'index.ts')].find((c) => known.has(c));
      if (hit) edges.push(hit);
    }
    graph.set(f, edges);
  }
  return graph;
}

/** Every import cycle, as the list of files on it (strongly connected components of more than one file, or a file importing itself). */
function importCycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/**
 * Module-level mutable state in one source text: a top-level `let`/`var`; a
 * top-level `const` holding a Map/Set/WeakMap/WeakSet, array or object that
 * the module mutates (set/add/delete/clear/push/splice..., a property or
 * index assigned, `Object.assign` onto it); an exported `configure*`/`set*`
 * function (a module-level setter). Only column-0 statements count: state
 * inside functions and classes is per call or per instance.
 */
function moduleStateFindings(text: string): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const at = `line ${i + 1}`;
    const binding = /^(?:export\s+)?(let|var)\s+([A-Za-z_$][\w$]*)/.exec(line);
    if (binding) out.push(`${at}: top-level ${binding[1]} ${binding[2]}`);
    const setter = /^export\s+(?:async\s+)?function\s+((?:configure|set)[A-Z_]\w*)\s*\(/.exec(line);
    if (setter) out.push(`${at}: module-level setter ${setter[1]}()`);
    const container = /^(?:export\s+)?const\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*(new\s+(?:Map|Set|WeakMap|WeakSet|Array)\b|\[|\{)/.exec(line);
    if (container) {
      const name = container[1].replace(/\$/g, '\\$');
      const mutated = new RegExp(
        `\\b${name}\\s*(?:\\.\\s*(?:set|add|delete|clear|push|pop|shift|unshift|splice|sort|reverse|fill|copyWithin)\\s*\\(|(?:\\.\\s*[\\w$]+|\\[[^\\]]*\\])\\s*(?:[-+*/%&|^]|\\?\\?|\\|\\||&&)?=(?!=))|Object\\.assign\\(\\s*${name}\\b|\\bdelete\\s+${name}\\s*[.[]`,
      );
      if (mutated.test(text)) out.push(`${at}: top-level ${container[2].trim()}… ${container[1]} is mutated`);
    }
  });
  return out;
}

function moduleStateViolations(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const f of sources(path.join(root, dir))) {
    if (!f.endsWith('.ts')) continue;
    for (const finding of moduleStateFindings(readFileSync(f, 'utf8'))) out.push(`${path.relative(root, f)} ${finding}`);
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

describe('services are instances: no module-level mutable state in electron/services/', () => {
  it('finds each kind of module state in a planted module, and leaves per-instance and constant state alone', () => {
    const planted = [
      'let counter = 0;',
      'export let current: string | null = null;',
      'const jobs = new Map<string, number>();',
      'const seen = new Set<string>();',
      'const queue: string[] = [];',
      'const overrides: Partial<{ a: string }> = {};',
      'const frozen = new Map([["a", 1]]);',
      'const LIMITS = { max: 4 };',
      'const NAMES = ["a", "b"];',
      'export function configureThing(patch: object): void {',
      '  Object.assign(overrides, patch);',
      '}',
      'export function start(id: string): void {',
      '  jobs.set(id, counter);',
      '  seen.add(id);',
      '  queue.push(id);',
      '  let local = 1;',
      '  local++;',
      '}',
      'export class Service {',
      '  private readonly own = new Map<string, number>();',
      '  private n = 0;',
      '}',
    ].join('\n');
    const found = moduleStateFindings(planted);
    expect(found).toEqual([
      'line 1: top-level let counter',
      'line 2: top-level let current',
      'line 3: top-level new Map… jobs is mutated',
      'line 4: top-level new Set… seen is mutated',
      'line 5: top-level [… queue is mutated',
      'line 6: top-level {… overrides is mutated',
      'line 10: module-level setter configureThing()',
    ]);
    // Property and index assignment count as mutation too.
    expect(moduleStateFindings('const state = {};\nexport function f(): void { state.x = 1; }')).toHaveLength(1);
    expect(moduleStateFindings('const byId: Record<string, number> = {};\nexport function f(k: string): void { byId[k] ??= 1; }')).toHaveLength(1);
    expect(moduleStateFindings('const byId: Record<string, number> = {};\nexport function f(k: string): boolean { return byId[k] === 1; }')).toEqual([]);
  });

  it('fails on a planted file in a services tree', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-layering-'));
    try {
      mkdirSync(path.join(root, 'electron', 'services', 'ssh'), { recursive: true });
      writeFileSync(path.join(root, 'electron', 'services', 'ok.ts'), 'export class A { private m = new Map(); }\n');
      writeFileSync(
        path.join(root, 'electron', 'services', 'ssh', 'bad.ts'),
        'const connections = new Map();\nexport function add(k: string): void { connections.set(k, 1); }\n',
      );
      expect(moduleStateViolations(root, path.join('electron', 'services'))).toEqual([
        `${path.join('electron', 'services', 'ssh', 'bad.ts')} line 1: top-level new Map… connections is mutated`,
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('electron/services/ keeps no module-level mutable state', () => {
    expect(moduleStateViolations(ROOT, path.join('electron', 'services'))).toEqual([]);
  });
});

describe('no import cycles in electron/ and shared/', () => {
  it('finds a planted cycle (type-only and multi-line imports included) and no cycle in a chain', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-cycles-'));
    try {
      mkdirSync(path.join(root, 'src', 'sub'), { recursive: true });
      writeFileSync(path.join(root, 'src', 'a.ts'), "import {\n  b,\n} from './sub/b';\nexport const a = b;\n");
      writeFileSync(path.join(root, 'src', 'sub', 'b.ts'), "import type { C } from '../c';\nexport const b = 1;\n");
      writeFileSync(path.join(root, 'src', 'c.ts'), "export type C = number;\nexport async function load() { return import('./a'); }\n");
      writeFileSync(path.join(root, 'src', 'd.ts'), "import { a } from './a';\nexport const d = a;\n");
      const cycles = importCycles(importGraph(root, ['src'])).map((c) => c.map((f) => path.relative(root, f)));
      expect(cycles).toEqual([[path.join('src', 'a.ts'), path.join('src', 'c.ts'), path.join('src', 'sub', 'b.ts')]]);
      writeFileSync(path.join(root, 'src', 'c.ts'), 'export type C = number;\n');
      expect(importCycles(importGraph(root, ['src']))).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the graph is real (SSH imports the API error downward) and has no cycle', () => {
    const graph = importGraph(ROOT, ['electron', 'shared']);
    const handlers = path.join(ROOT, 'electron', 'services', 'ssh', 'handlers.ts');
    expect(graph.get(handlers)).toContain(path.join(ROOT, 'electron', 'services', 'api-error.ts'));
    expect(graph.size).toBeGreaterThan(50);
    expect(importCycles(graph).map((c) => c.map((f) => path.relative(ROOT, f)))).toEqual([]);
  });
});
