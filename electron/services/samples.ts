/**
 * Bundled sample data directories (resources/samples/index.json). The client
 * only ever names a sample by id; the path is resolved here and must stay
 * inside the samples directory, whatever index.json says.
 */
import { existsSync, readFileSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { SampleInfo } from '../../shared/contract/api';
import { strictlyInside } from './local-path-confine';

export interface SampleEntry extends SampleInfo {
  /** Absolute path of the sample's data directory. */
  path: string;
}

export interface SampleCatalog {
  /** The samples directory in use, or null when none was found. */
  readonly root: string | null;
  list(): Promise<SampleEntry[]>;
  /** Absolute directory of a sample, or null for an unknown id. */
  resolve(id: string): Promise<string | null>;
}

const MAX_INDEX_BYTES = 1024 * 1024;

/**
 * The repository (or unpacked app) root: the nearest ancestor holding our
 * package.json. Works from sources (vitest), from dist/*.cjs and from
 * app.asar/dist/main.cjs.
 */
export function findAppRoot(startDir: string = __dirname): string | null {
  let dir = path.resolve(startDir);
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const parsed: unknown = JSON.parse(readFileSync(pkg, 'utf8'));
        if (typeof parsed === 'object' && parsed !== null && (parsed as { name?: unknown }).name === 'lifeboat') {
          return dir;
        }
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

declare const __LIFEBOAT_VERSION__: string | undefined;

/** Version from the build (esbuild define), else from package.json. */
export function appVersion(): string {
  if (typeof __LIFEBOAT_VERSION__ === 'string') return __LIFEBOAT_VERSION__;
  const root = findAppRoot();
  if (root) {
    try {
      const parsed = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: unknown };
      if (typeof parsed.version === 'string') return parsed.version;
    } catch {
      // fall through
    }
  }
  return '0.0.0';
}

/**
 * Where the samples live: `LIFEBOAT_SAMPLES_DIR`, then the packaged app's
 * resources (electron-builder extraResources → `<resourcesPath>/samples`),
 * then `resources/samples` in the repository.
 */
export function locateSamplesDir(): string | null {
  const candidates: string[] = [];
  const fromEnv = process.env.LIFEBOAT_SAMPLES_DIR;
  if (fromEnv) candidates.push(path.resolve(fromEnv));
  const resourcesPath = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath;
  if (typeof resourcesPath === 'string' && resourcesPath !== '') candidates.push(path.join(resourcesPath, 'samples'));
  const root = findAppRoot();
  if (root) candidates.push(path.join(root, 'resources', 'samples'));
  for (const c of candidates) {
    if (existsSync(path.join(c, 'index.json'))) return c;
  }
  return null;
}

function isEngine(v: unknown): v is SampleInfo['engine'] {
  return v === 'dqlite' || v === 'etcd';
}

/** Parse index.json, dropping (not trusting) malformed entries and paths leaving the root. */
export function parseSampleIndex(root: string, text: string): SampleEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const out: SampleEntry[] = [];
  const seen = new Set<string>();
  for (const item of parsed) {
    if (typeof item !== 'object' || item === null) continue;
    const e = item as Record<string, unknown>;
    const { id, dir, titleKey, descriptionKey, engine } = e;
    if (typeof id !== 'string' || id === '' || seen.has(id)) continue;
    if (typeof dir !== 'string' || dir === '' || path.isAbsolute(dir)) continue;
    if (typeof titleKey !== 'string' || typeof descriptionKey !== 'string' || !isEngine(engine)) continue;
    const abs = path.resolve(root, dir);
    if (!strictlyInside(root, abs)) continue;
    seen.add(id);
    out.push({ id, titleKey, descriptionKey, engine, path: abs });
  }
  return out;
}

export function createSampleCatalog(root: string | null = locateSamplesDir()): SampleCatalog {
  let cache: Promise<SampleEntry[]> | null = null;
  const load = async (): Promise<SampleEntry[]> => {
    if (!root) return [];
    const indexPath = path.join(root, 'index.json');
    const st = await fs.stat(indexPath).catch(() => null);
    if (!st || !st.isFile() || st.size > MAX_INDEX_BYTES) return [];
    return parseSampleIndex(root, await fs.readFile(indexPath, 'utf8'));
  };
  const entries = (): Promise<SampleEntry[]> => {
    cache ??= load();
    return cache;
  };
  return {
    root,
    list: entries,
    async resolve(id: string) {
      const found = (await entries()).find((e) => e.id === id);
      return found ? found.path : null;
    },
  };
}

/** What the client sees: no paths. */
export function publicSampleInfo(e: SampleEntry): SampleInfo {
  return { id: e.id, titleKey: e.titleKey, descriptionKey: e.descriptionKey, engine: e.engine };
}
