/**
 * The playbooks' Chinese texts quote an engine's words with “ ”, as every other Chinese text does (ASCII quotes
 * between Chinese characters read as stray marks). Commands are not translated and keep their shell quoting.
 */
import { describe, expect, it } from 'vitest';
import { PLAYBOOKS } from '../../shared/guided/playbooks';

/** Every string under a 'zh-CN' key anywhere in `value`. */
function chineseTexts(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) chineseTexts(v, out);
  else if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) {
      if (k === 'zh-CN' && typeof v === 'string') out.push(v);
      else chineseTexts(v, out);
    }
  return out;
}

describe('guided playbooks in Chinese', () => {
  it('quote with “ ”, never with ASCII double quotes', () => {
    const texts = chineseTexts(PLAYBOOKS);
    expect(texts.length).toBeGreaterThan(50);
    expect(texts.filter((t) => t.includes('"'))).toEqual([]);
  });
});
