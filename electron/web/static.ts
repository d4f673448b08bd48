/**
 * Static file resolution for the built renderer, shared by the web server and
 * Electron's app:// protocol handler. Path traversal must be impossible: the
 * URL path is decoded once, every segment checked, and the final real path
 * (symlinks resolved) must still be inside the root.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

export function mimeTypeFor(file: string): string {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Largest file we serve (renderer bundles are a few MB). */
export const MAX_STATIC_BYTES = 64 * 1024 * 1024;

export interface StaticOptions {
  /**
   * Resolve symlinks and require the real path to stay inside the root
   * (default). Off only for a packaged app, whose files sit in app.asar (no
   * symlinks of ours, and realpath support inside asar is not guaranteed).
   */
  resolveSymlinks?: boolean;
}

/**
 * Map a URL pathname to a file under `root`, or null. `/` maps to
 * `/index.html`. Rejects encoded separators, dot segments, NUL, backslashes,
 * hidden files, anything that is not a regular file, and symlinks leading out.
 */
export async function resolveStaticFile(root: string, pathname: string, opts: StaticOptions = {}): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (!decoded.startsWith('/')) return null;
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  if (decoded.endsWith('/')) decoded += 'index.html';
  const segments = decoded.split('/').slice(1);
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..' || s.startsWith('.')) return null;
  }
  const resolveSymlinks = opts.resolveSymlinks ?? true;
  let realRoot: string;
  let real: string;
  try {
    realRoot = resolveSymlinks ? await fs.realpath(root) : path.resolve(root);
    const candidate = path.join(realRoot, ...segments);
    real = resolveSymlinks ? await fs.realpath(candidate) : candidate;
  } catch {
    return null;
  }
  const rel = path.relative(realRoot, real);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const st = await fs.stat(real).catch(() => null);
  if (!st || !st.isFile() || st.size > MAX_STATIC_BYTES) return null;
  return real;
}

/**
 * Drop any CSP <meta> from the page: the policy is sent as a header by both
 * transports, and a meta policy written for Electron (connect-src 'none')
 * would otherwise block web mode's WebSocket (policies intersect).
 */
export function stripCspMeta(html: string): string {
  return html.replace(/<meta\b[^>]*http-equiv\s*=\s*["']?content-security-policy["']?[^>]*>/gi, '');
}
