/**
 * A tiny protobuf writer for hand-built test messages, independent of the encoders under test
 * (shared/formats/etcd): varints, varint fields and length-delimited fields as plain byte arrays.
 */
export function varint(v: bigint | number): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

/** Field `no` as a varint. */
export const vf = (no: number, v: bigint | number): number[] => [...varint(no << 3), ...varint(v)];

/** Field `no` as length-delimited bytes. */
export const bf = (no: number, b: number[] | Uint8Array): number[] => [...varint((no << 3) | 2), ...varint(b.length), ...b];
