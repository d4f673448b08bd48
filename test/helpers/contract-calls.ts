/**
 * What the contract tests of the UI's offline runs (etcd repair and salvage,
 * the dqlite rebuild, the kine export) share: a call that must be refused,
 * and the files a run wrote compared with the ones the CLI's service wrote
 * from the same input.
 */
import { promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';

/** `call` must be refused: its error code and message. */
export async function refusal(call: Promise<unknown>): Promise<{ code?: string; message: string }> {
  const err = (await call.then(
    () => null,
    (e: unknown) => e,
  )) as (Error & { code?: string }) | null;
  expect(err, 'the call was refused').not.toBeNull();
  return { code: err!.code, message: err!.message };
}

/** Every file below `dir`, relative path -> bytes and mode. */
export async function filesOf(dir: string): Promise<Map<string, { bytes: Buffer; mode: number }>> {
  const out = new Map<string, { bytes: Buffer; mode: number }>();
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p, `${rel}${e.name}/`);
      else out.set(`${rel}${e.name}`, { bytes: await fs.readFile(p), mode: statSync(p).mode & 0o777 });
    }
  };
  await walk(dir, '');
  return out;
}

/** The same files below both folders, byte for byte and mode for mode. */
export async function expectSameFiles(ours: string, reference: string): Promise<void> {
  const [a, b] = [await filesOf(ours), await filesOf(reference)];
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, f] of a) {
    expect(f.bytes.equals(b.get(name)!.bytes), name).toBe(true);
    expect(f.mode, name).toBe(b.get(name)!.mode);
  }
}
