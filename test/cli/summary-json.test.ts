/**
 * `lifeboat validate --json` on the bundled dqlite samples: the verdict's `summaryText` is a
 * catalog key with values for params (the repair plan's summary nested as a sentence of its
 * own, never its English text in a param), `summary` is its English rendering, and both are
 * the same on every run.
 */
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ValidationReport } from '../../shared/contract/report';
import type { LocalText } from '../../shared/contract/text';
import { interpolate, LIST_SEPARATOR, MESSAGES } from '../../shared/i18n';
import { ensureBuilt, hashTree, REPO, runCli } from './fixtures';

const SAMPLES = path.join(REPO, 'resources', 'samples');

function fill(local: LocalText, lang: 'en' | 'zh-CN'): string {
  const nested = Object.entries(local.texts ?? {}).map(([name, list]): [string, string] => [
    name,
    list.map((inner) => fill(inner, lang)).join(LIST_SEPARATOR[lang]),
  ]);
  return interpolate(MESSAGES[lang][local.key] ?? `<missing ${local.key}>`, { ...local.params, ...Object.fromEntries(nested) });
}

async function validateJson(dir: string): Promise<ValidationReport> {
  const r = await runCli(['validate', dir, '--json']);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as ValidationReport;
}

beforeAll(ensureBuilt, 180_000);

describe('validate --json: the verdict as codes + params and its English rendering', () => {
  it('the field report: "will not start", the plan a nested sentence, stable across runs', async () => {
    const dir = path.join(SAMPLES, 'dqlite-field-report');
    const before = await hashTree(dir);
    const a = await validateJson(dir);
    const b = await validateJson(dir);
    const plan = a.dqlite!.repair!;
    expect(a.summaryText).toEqual({
      key: 'dqlite.summary.fails',
      params: { error: a.dqlite!.decision.fatalError },
      texts: { plan: [plan.summaryText] },
    });
    // No English in the params: the engine's own output (quoted as journalctl shows it) and values only.
    expect(Object.keys(a.summaryText!.params!)).toEqual(['error']);
    expect(a.summary).toBe(fill(a.summaryText!, 'en'));
    expect(a.summary).toBe(`dqlite will not start: start-up fails with "${a.dqlite!.decision.fatalError}". ${plan.summary}`);
    const zh = fill(a.summaryText!, 'zh-CN');
    expect(zh).toContain('dqlite 无法启动');
    expect(zh).toContain(fill(plan.summaryText!, 'zh-CN'));
    expect(zh).not.toContain(plan.summary);
    // Stable: the same codes, params and English on a second run.
    expect([b.summary, b.summaryText, b.dqlite!.repair!.summaryText]).toEqual([a.summary, a.summaryText, plan.summaryText]);
    expect(await hashTree(dir)).toEqual(before);
  }, 120_000);

  it('the healthy sample: a key with numbers only', async () => {
    const r = await validateJson(path.join(SAMPLES, 'dqlite-healthy'));
    expect(r.startable).toBe(true);
    expect(r.summaryText?.texts).toBeUndefined();
    for (const v of Object.values(r.summaryText?.params ?? {})) expect(typeof v === 'number' || /^[-\d.]+$/.test(v), String(v)).toBe(true);
    expect(r.summary).toBe(fill(r.summaryText!, 'en'));
    expect(fill(r.summaryText!, 'zh-CN')).toMatch(/^dqlite 可以启动/);
  }, 120_000);
});
