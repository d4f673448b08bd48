/**
 * XXH32 (seed 0 by default), the checksum of the LZ4 frame format: header
 * checksum, block checksums and the content checksum. Streaming, so a caller
 * can hash gigabytes of decompressed data without holding it.
 */

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function readU32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

export class Xxh32 {
  private v1: number;
  private v2: number;
  private v3: number;
  private v4: number;
  private readonly seed: number;
  /** Bytes hashed so far (a double: exact up to 2^53). */
  private total = 0;
  /** Up to 15 bytes that did not fill a 16-byte stripe yet. */
  private readonly pending = new Uint8Array(16);
  private pendingLength = 0;

  constructor(seed = 0) {
    this.seed = seed >>> 0;
    this.v1 = (this.seed + P1 + P2) | 0;
    this.v2 = (this.seed + P2) | 0;
    this.v3 = this.seed | 0;
    this.v4 = (this.seed - P1) | 0;
  }

  update(data: Uint8Array, start = 0, end = data.length): this {
    let p = start;
    this.total += end - start;
    if (this.pendingLength > 0) {
      const take = Math.min(16 - this.pendingLength, end - p);
      for (let i = 0; i < take; i++) this.pending[this.pendingLength + i] = data[p + i];
      this.pendingLength += take;
      p += take;
      if (this.pendingLength < 16) return this;
      this.stripes(this.pending, 0, 16);
      this.pendingLength = 0;
    }
    const stripeEnd = p + ((end - p) & ~15);
    if (stripeEnd > p) this.stripes(data, p, stripeEnd);
    p = stripeEnd;
    for (let i = 0; p < end; i++, p++) this.pending[i] = data[p];
    this.pendingLength = end - stripeEnd;
    return this;
  }

  /** Consume whole 16-byte stripes in [start, end). Kept in one tight loop for speed. */
  private stripes(b: Uint8Array, start: number, end: number): void {
    let v1 = this.v1;
    let v2 = this.v2;
    let v3 = this.v3;
    let v4 = this.v4;
    for (let i = start; i < end; i += 16) {
      v1 = Math.imul(rotl((v1 + Math.imul(b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24), P2)) | 0, 13), P1);
      v2 = Math.imul(rotl((v2 + Math.imul(b[i + 4] | (b[i + 5] << 8) | (b[i + 6] << 16) | (b[i + 7] << 24), P2)) | 0, 13), P1);
      v3 = Math.imul(rotl((v3 + Math.imul(b[i + 8] | (b[i + 9] << 8) | (b[i + 10] << 16) | (b[i + 11] << 24), P2)) | 0, 13), P1);
      v4 = Math.imul(rotl((v4 + Math.imul(b[i + 12] | (b[i + 13] << 8) | (b[i + 14] << 16) | (b[i + 15] << 24), P2)) | 0, 13), P1);
    }
    this.v1 = v1;
    this.v2 = v2;
    this.v3 = v3;
    this.v4 = v4;
  }

  digest(): number {
    let h: number;
    if (this.total >= 16) {
      h = (rotl(this.v1, 1) + rotl(this.v2, 7) + rotl(this.v3, 12) + rotl(this.v4, 18)) | 0;
    } else {
      h = (this.seed + P5) | 0;
    }
    // The length term is the low 32 bits of the total length.
    h = (h + (this.total % 0x100000000)) | 0;
    let i = 0;
    const n = this.pendingLength;
    for (; i + 4 <= n; i += 4) {
      h = Math.imul(rotl((h + Math.imul(readU32(this.pending, i), P3)) | 0, 17), P4);
    }
    for (; i < n; i++) {
      h = Math.imul(rotl((h + Math.imul(this.pending[i], P5)) | 0, 11), P1);
    }
    h ^= h >>> 15;
    h = Math.imul(h, P2);
    h ^= h >>> 13;
    h = Math.imul(h, P3);
    h ^= h >>> 16;
    return h >>> 0;
  }
}

/** One-shot XXH32 of `data[start, end)`. */
export function xxh32(data: Uint8Array, seed = 0, start = 0, end = data.length): number {
  return new Xxh32(seed).update(data, start, end).digest();
}
