/**
 * JSON from a node within bounds (shared/text/bounded-json): depth and entry
 * counts are measured as JSON defines them (brackets inside strings do not
 * count), a refusal names the bound and the offset, and a text within the
 * bounds gives exactly what JSON.parse gives.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_JSON_BOUNDS, parseBoundedJson, scanJson } from '../../shared/text/bounded-json';
import { checkLines } from '../../shared/text/bounds';

describe('bounded JSON', () => {
  it("gives JSON.parse's value for an etcd member list within bounds", () => {
    const text =
      '{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437},"members":[{"ID":10276657743932975437,"name":"default","peerURLs":["http://localhost:2380"],"clientURLs":["http://localhost:2379"]}]}';
    expect(parseBoundedJson(text)).toEqual({ ok: true, value: JSON.parse(text) as unknown });
    expect(scanJson(text, DEFAULT_JSON_BOUNDS)).toEqual({ ok: true, value: { depth: 4, items: 11 } });
  });

  it('does not count brackets, commas or escaped quotes inside strings', () => {
    expect(scanJson('["[[[{{,,,\\"]]]", "x"]', DEFAULT_JSON_BOUNDS)).toEqual({ ok: true, value: { depth: 1, items: 2 } });
    expect(scanJson('[[], {}, [[]]]', DEFAULT_JSON_BOUNDS)).toEqual({ ok: true, value: { depth: 3, items: 4 } });
  });

  it('refuses depth, entries and size past the bounds with the offset', () => {
    expect(parseBoundedJson('['.repeat(100_000) + ']'.repeat(100_000))).toMatchObject({ ok: false, problem: 'too-deep', limit: 64, offset: 64 });
    expect(parseBoundedJson(`[${'1,'.repeat(10)}1]`, { maxItems: 10 })).toMatchObject({ ok: false, problem: 'too-many-items', limit: 10, offset: 20 });
    expect(parseBoundedJson('"x"'.padEnd(100, ' '), { maxBytes: 99 })).toMatchObject({ ok: false, problem: 'too-large', limit: 99 });
  });

  it('turns a syntax error into a refusal with its position', () => {
    expect(parseBoundedJson('[1')).toMatchObject({ ok: false, problem: 'syntax', offset: 2 });
    // V8's message for this one quotes the whole text: the refusal keeps only its own words.
    const r = parseBoundedJson('{"a": [1, 2,, 3], "secret": "s3cr3t"}');
    expect(r).toMatchObject({ ok: false, problem: 'syntax', detail: "is not valid JSON: Unexpected token ','" });
  });
});

describe('line bounds', () => {
  it('counts lines and refuses a long line or too many lines at its start', () => {
    expect(checkLines('a\nbb\n', { maxBytes: 100, maxLines: 10, maxLineLength: 10 })).toEqual({ ok: true, lines: 3 });
    expect(checkLines(`a\n${'x'.repeat(11)}\n`, { maxBytes: 100, maxLines: 10, maxLineLength: 10 })).toMatchObject({
      ok: false,
      problem: 'line-too-long',
      offset: 2,
      limit: 10,
    });
    expect(checkLines('\n'.repeat(10), { maxBytes: 100, maxLines: 10, maxLineLength: 10 })).toMatchObject({ ok: false, problem: 'too-many-lines', limit: 10 });
    expect(checkLines('x'.repeat(101), { maxBytes: 100, maxLines: 10, maxLineLength: 1000 })).toMatchObject({ ok: false, problem: 'too-large' });
  });
});
