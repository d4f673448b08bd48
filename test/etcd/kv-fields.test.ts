/**
 * mvccpb.KeyValue with more fields than etcd writes (a mutated or hand-made record): etcd's gogo Unmarshal takes any
 * number of fields, the last of each known one winning and unknown ones skipped, so the general decoder, its fast
 * path and the exact emulation of etcd's error must all accept it alike (a fuzz seed found the general decoder
 * refusing past 64 fields while the fast path accepted).
 */
import { describe, expect, it } from 'vitest';
import {
  decodeKeyValue,
  decodeKeyValueFast,
  encodeKeyValue,
  gogoKeyValueError,
  gogoKeyValueErrorWithin,
  keyValueModRevisionAt,
  READS_PAST_READABLE,
} from '../../shared/formats/etcd/kv';

const te = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('KeyValue with many fields', () => {
  const base = encodeKeyValue({ key: te.encode('/registry/a'), createRevision: 5, modRevision: 9, version: 2, value: te.encode('v1'), lease: 7n });

  it('takes the last of each repeated field, skips unknown ones, and agrees with the fast path and with etcd', () => {
    const repeats: Uint8Array[] = [base];
    // 200 more fields: version again and again (varint 0x20 = field 4), unknown field 9 (varint), then a last value.
    for (let i = 0; i < 100; i++) repeats.push(Uint8Array.of(0x20, i + 1), Uint8Array.of(0x48, 1));
    repeats.push(encodeKeyValue({ key: te.encode('/registry/b'), createRevision: 0, modRevision: 0, version: 0, value: te.encode('v2'), lease: 0n }));
    const record = concat(repeats);
    const general = decodeKeyValue(record);
    const fast = decodeKeyValueFast(record);
    expect(general.ok).toBe(true);
    expect(fast).toEqual(general);
    if (!general.ok) return;
    expect(new TextDecoder().decode(general.kv.key)).toBe('/registry/b');
    expect(new TextDecoder().decode(general.kv.value)).toBe('v2');
    expect(general.kv.version).toBe(100);
    expect(general.kv.createRevision).toBe(5);
    expect(general.kv.lease).toBe(7n);
    expect(gogoKeyValueError(record)).toBeNull();
  });

  it('reads the mod_revision in place as the decoder does: the last of several, 0 when absent, -1 when not well formed', () => {
    const framed = concat([Uint8Array.of(1, 2, 3), base, Uint8Array.of(4)]);
    expect(keyValueModRevisionAt(framed, 3, 3 + base.length)).toBe(9);
    const big = encodeKeyValue({ key: te.encode('/k'), createRevision: 1, modRevision: 2 ** 40 + 849, version: 1, value: te.encode('v'), lease: 0n });
    expect(keyValueModRevisionAt(big, 0, big.length)).toBe(2 ** 40 + 849);
    // Field 3 again (tag 0x18, varint 1234): the last one counts.
    const again = concat([base, Uint8Array.of(0x18, 0xd2, 0x09)]);
    expect(keyValueModRevisionAt(again, 0, again.length)).toBe(1234);
    const decoded = decodeKeyValue(again);
    expect(decoded.ok && decoded.kv.modRevision).toBe(1234);
    const tombstone = encodeKeyValue({ key: te.encode('/k'), createRevision: 0, modRevision: 0, version: 0, value: new Uint8Array(0), lease: 0n });
    expect(keyValueModRevisionAt(tombstone, 0, tombstone.length)).toBe(0);
    // Cut short, or a field number the walk does not know (7): not well formed.
    expect(keyValueModRevisionAt(base, 0, base.length - 1)).toBe(-1);
    expect(keyValueModRevisionAt(concat([base, Uint8Array.of(0x38, 1)]), 0, base.length + 2)).toBe(-1);
  });

  it('still names the first field with a wrong wire type, and a truncated record, as before', () => {
    const wrong = concat([base, Uint8Array.of(0x11, 1, 2, 3, 4, 5, 6, 7, 8)]); // field 2 as fixed64: accepted (as before); field 1 as varint is not
    expect(decodeKeyValue(wrong).ok).toBe(true);
    const keyAsVarint = concat([base, Uint8Array.of(0x08, 1)]);
    expect(decodeKeyValue(keyAsVarint)).toEqual({ ok: false, error: 'mvccpb.KeyValue: field 1 has the wrong wire type', offset: 0 });
    const cut = decodeKeyValue(base.subarray(0, base.length - 1));
    expect(cut.ok).toBe(false);
    expect(decodeKeyValue(Uint8Array.of(0x20, 1))).toEqual({ ok: false, error: 'mvccpb.KeyValue: no key', offset: 0 });
  });
});

describe('a KeyValue whose size runs past the end of the file (gogoKeyValueErrorWithin)', () => {
  const record = encodeKeyValue({ key: te.encode('/registry/a'), createRevision: 5, modRevision: 9, version: 2, value: te.encode('v1'), lease: 0n });

  it("reads on into the next element's revision key and stops at its zero byte, as etcd 3.4 did on a real db", () => {
    const next = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0xa2, 0x5f, 0, 0, 0, 0, 0, 0, 0, 0);
    expect(gogoKeyValueErrorWithin(concat([record, next]), 1_845_493_995)).toBe('proto: KeyValue: illegal tag 0 (wire type 0)');
  });

  it('reads past what can be read when the record ends exactly there, or a key it copies runs past it', () => {
    expect(gogoKeyValueErrorWithin(record, record.length + 100)).toBe(READS_PAST_READABLE);
    // The key's length says 11 bytes; only 4 of them can be read.
    expect(gogoKeyValueErrorWithin(record.subarray(0, 6), record.length)).toBe(READS_PAST_READABLE);
  });

  it('skips an unknown field without reading it, and answers as over the whole record when it needs no more', () => {
    // Field 9, length-delimited, 50 bytes long: gogo steps over them without reading one.
    const unknown = concat([record, Uint8Array.of(0x4a, 50), new Uint8Array(50).fill(0xff)]);
    expect(gogoKeyValueErrorWithin(unknown.subarray(0, record.length + 2), unknown.length)).toBeNull();
    expect(gogoKeyValueError(unknown)).toBeNull();
    // A wrong wire type within the readable bytes: the same error as over all of them.
    const wrong = concat([record, Uint8Array.of(0x12, 1), new Uint8Array(30)]);
    expect(gogoKeyValueErrorWithin(wrong.subarray(0, record.length + 1), wrong.length)).toBe(gogoKeyValueError(wrong));
  });
});
