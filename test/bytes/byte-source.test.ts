import { describe, expect, it } from 'vitest';
import { memorySource } from '../../shared/bytes/byte-source';

describe('memorySource', () => {
  it('returns short reads only at the end of the source', async () => {
    const src = memorySource('x', new Uint8Array([1, 2, 3, 4]));
    expect([...(await src.read(1, 2))]).toEqual([2, 3]);
    expect([...(await src.read(3, 10))]).toEqual([4]);
    expect((await src.read(10, 10)).length).toBe(0);
  });
});
