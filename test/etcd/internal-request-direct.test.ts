/**
 * The direct reader of `decodeInternalRequest` against the field-list decoder
 * it stands in for (`decodeInternalRequestFromFields`): the same answer for
 * every request kind, for the odd shapes etcd never writes (repeated fields,
 * a field of the wrong wire type, 10-byte varints with stray high bits,
 * nesting past the limit) and for thousands of mutated requests, so salvage
 * and the record listing see exactly what they saw before.
 */
import { describe, expect, it } from 'vitest';
import { bf, vf } from '../helpers/protobuf-writer';
import { decodeInternalRequest, decodeInternalRequestFromFields, encodePutRequest } from '../../shared/formats/etcd/internal-request';

const str = (s: string) => Array.from(new TextEncoder().encode(s));
const header = (id: bigint) => bf(100, vf(1, id));

const put = (key: string, value: string, lease = 0n) => [...bf(1, str(key)), ...bf(2, str(value)), ...(lease ? vf(3, lease) : [])];
const compare = (key: string, target: number, n: bigint) => [...vf(1, 0), ...vf(2, target), ...bf(3, str(key)), ...vf(4 + (target % 3), n)];
const requestOp = (member: number, body: number[]) => bf(member, body);
const txn = (depth: number): number[] => [
  ...bf(1, compare('/a', 2, 5n)),
  ...bf(1, [...compare('/b', 3, 0n), ...bf(7, str('v')), ...bf(64, [0])]),
  ...bf(2, requestOp(2, put('/a', 'x', 0x694d7a0n))),
  ...bf(2, requestOp(3, [...bf(1, str('/d/')), ...bf(2, str('/d0')), ...vf(3, 1)])),
  ...bf(3, requestOp(1, [...bf(1, str('/r')), ...bf(2, [0])])),
  ...(depth > 0 ? bf(3, requestOp(4, txn(depth - 1))) : []),
];

/** One of each kind etcd writes, plus shapes it does not. */
const requests: number[][] = [
  [...header(0xfedcba9876543210n), ...bf(4, put('/registry/pods/default/x', 'value'))],
  [...header(7n), ...bf(4, [...put('/a', '', -1n), ...vf(4, 1), ...vf(5, 1), ...vf(6, 1)])],
  [...header(8n), ...bf(5, [...bf(1, str('/a')), ...bf(2, [0]), ...vf(3, 1)])],
  [...header(9n), ...bf(3, [...bf(1, str('/a')), ...bf(2, str('/b'))])],
  [...header(10n), ...bf(6, txn(2))],
  [...header(10n), ...bf(6, txn(20))],
  [...header(11n), ...bf(7, [...vf(1, 2n ** 53n), ...vf(2, 1)])],
  [...header(11n), ...bf(7, vf(1, 123456))],
  [...header(11n), ...bf(7, vf(1, 2n ** 52n + 3n))],
  [...header(11n), ...bf(7, vf(1, 2n ** 53n - 1n))],
  [...header(12n), ...bf(8, [...vf(1, 60), ...vf(2, 0x694d7a0n)])],
  [...header(13n), ...bf(9, vf(1, -5n))],
  [...header(14n), ...bf(10, [...vf(1, 1), ...vf(2, 0x8e9e05c52164694dn), ...vf(3, 7)])],
  [...header(15n), ...bf(11, [...bf(1, [...vf(1, 5), ...vf(2, 30)]), ...bf(1, vf(1, 6))])],
  [...header(16n), ...bf(1001, [1, 2])],
  [...header(17n), ...vf(12, 3)],
  [...vf(1, 99), ...bf(4, put('/no-header', 'v'))],
  [...bf(100, []), ...vf(1, 98), ...bf(4, put('/empty-header', 'v'))],
  [...header(18n), ...bf(2, [...vf(1, 5), ...bf(2, str('PUT')), ...bf(3, str('/0/members/1/attributes')), ...bf(4, str('{}')), ...vf(9, 1n)])],
  [...vf(1, 5), ...bf(2, str('PUT')), ...bf(3, str('/0/version'))],
  // Repeated fields (the last wins), and a field of the wrong wire type.
  [...header(19n), ...bf(4, [...put('/first', 'a'), ...bf(1, str('/second')), ...vf(2, 1)])],
  [...header(20n), ...vf(4, 1), ...bf(5, bf(1, str('/del')))],
  [...header(21n), ...bf(100, []), ...bf(4, put('/k', 'v'))],
  // A 10-byte varint whose last byte has more than its one used bit.
  [...header(22n), ...bf(8, [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])],
  // Fixed-width fields and long tags (left to the field-list decoder).
  [...header(23n), 0x0d, 1, 2, 3, 4, ...bf(4, put('/fixed', 'v'))],
  [...header(24n), 0x80 | 0x22, 0x80, 0x00, 1, 0x41],
];

function sameAnswer(bytes: Uint8Array): void {
  expect(decodeInternalRequest(bytes)).toEqual(decodeInternalRequestFromFields(bytes));
}

/** A deterministic generator (xorshift), so a failure repeats. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

describe('decodeInternalRequest reads the bytes directly with the field-list answer', () => {
  it('every request kind and odd shape', () => {
    for (const r of requests) sameAnswer(Uint8Array.from(r));
    sameAnswer(encodePutRequest(0n, new Uint8Array(0), new Uint8Array(0)));
    expect(decodeInternalRequest(new Uint8Array(0))).toBeNull();
    expect(decodeInternalRequest(null)).toBeNull();
  });

  it('every prefix of each request', () => {
    for (const r of requests) for (let n = 1; n < r.length; n++) sameAnswer(Uint8Array.from(r.slice(0, n)));
  });

  it('mutated requests (flipped, inserted, removed bytes)', () => {
    const next = rng(0x5eed);
    const pick = (n: number) => Math.floor(next() * n);
    for (let round = 0; round < 20_000; round++) {
      const bytes = [...requests[pick(requests.length)]!];
      for (let m = 1 + pick(3); m > 0; m--) {
        const at = pick(bytes.length + 1);
        const what = pick(4);
        const byte = pick(4) === 0 ? [0x00, 0x7f, 0x80, 0xff][pick(4)]! : pick(256);
        if (what === 0 && at < bytes.length) bytes[at] = byte;
        else if (what === 1) bytes.splice(at, 0, byte);
        else if (what === 2 && at < bytes.length) bytes.splice(at, 1);
        else if (at < bytes.length) bytes[at]! ^= 1 << pick(8);
      }
      sameAnswer(Uint8Array.from(bytes));
    }
  });
});
