/**
 * The renderer's run router (renderer/src/lib/run-router.ts), which every
 * panel that starts a back-end run uses: events that arrive before the start
 * call returns its id are kept and handed on in order once the id is known,
 * only for that run; later events of another run are dropped.
 */
import { describe, expect, it } from 'vitest';
import { RunRouter } from '../../renderer/src/lib/run-router';

describe('RunRouter', () => {
  it('keeps early events for the run started, in order, and drops another run’s', () => {
    const seen: string[] = [];
    const r = new RunRouter();
    r.route('a', () => seen.push('a:progress'));
    r.route('b', () => seen.push('b:progress'));
    r.route('a', () => seen.push('a:done'));
    expect(seen).toEqual([]);
    r.started('a');
    expect(seen).toEqual(['a:progress', 'a:done']);
    r.route('b', () => seen.push('b:late'));
    r.route('a', () => seen.push('a:late'));
    expect(seen).toEqual(['a:progress', 'a:done', 'a:late']);
  });
});
