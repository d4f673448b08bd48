/** The renderer's page policy: strict CSP, no inline scripts, nothing remote. */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const html = readFileSync(path.join(root, 'renderer/index.html'), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|svelte|css)$/.test(n) ? [p] : [];
  });
}

describe('renderer page policy', () => {
  it('declares the strict CSP', () => {
    const m = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html);
    expect(m).not.toBeNull();
    const directives = Object.fromEntries(
      m![1]
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values.join(' ')]),
    );
    expect(directives).toEqual({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self' 'unsafe-inline'",
      'img-src': "'self' data:",
      'connect-src': "'self' ws:",
      'worker-src': "'self' blob:",
      'font-src': "'self'",
      'object-src': "'none'",
      'base-uri': "'none'",
      'frame-ancestors': "'none'",
      'form-action': "'none'",
    });
  });

  it('has no inline script and loads nothing remote', () => {
    for (const tag of html.match(/<script\b[^>]*>[\s\S]*?<\/script>/g) ?? []) {
      expect(tag).toMatch(/\ssrc="\.\//);
      expect(tag.replace(/<script\b[^>]*>|<\/script>/g, '').trim()).toBe('');
    }
    const offenders: string[] = [];
    for (const f of [path.join(root, 'renderer/index.html'), ...sources(path.join(root, 'renderer/src'))]) {
      const text = readFileSync(f, 'utf8');
      if (/\beval\s*\(|new Function\s*\(/.test(text)) offenders.push(`${f}: eval`);
      if (/(src|href)=["']https?:|url\(\s*["']?https?:|@import\s+["']?https?:/.test(text)) offenders.push(`${f}: remote resource`);
    }
    expect(offenders).toEqual([]);
  });
});
