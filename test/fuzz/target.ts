/**
 * The fuzz target interface. One file per format under test/fuzz/targets/,
 * listed in test/fuzz/targets/index.ts. To add a decoder (etcd WAL, snap,
 * bbolt page, Kubernetes values ...): write `targets/<name>.ts` exporting a
 * `FuzzTarget`, add it to the list, done; `npm run fuzz` and the fixed-seed
 * subset in test/fuzz/targets.test.ts pick it up.
 *
 *   export const walRecord: FuzzTarget<Uint8Array> = {
 *     name: 'etcd-wal',
 *     what: 'WAL segment decoder: no throw, every offset inside the file',
 *     corpus: () => ({ seeds: [readFileSync(...)] }),       // real files, once per process
 *     generate: (r, c) => mutateBytes(r, r.pick(c.seeds)),  // deterministic in r
 *     run: async (input) => { const out = await decodeWal(memorySource('w', input)); check(out.end <= input.length, ...) },
 *     files: (input) => ({ 'input.wal': input }),           // how a failing input is saved
 *   };
 *
 * Rules for `run`: throw (`check` below) when an invariant the user relies on
 * breaks (a finding offset outside its file, a value that is not plain data);
 * a refusal or finding on bad input is the expected outcome, not a failure.
 * Never catch everything: an exception escaping the code under test is what
 * the fuzzer is looking for. Keep state out of module scope (the runner calls
 * `corpus` once per process and `run` many times).
 */
import type { Rng } from './mutate';

export interface FuzzTarget<Input = unknown, Corpus = unknown> {
  /** `--format` name: lower-case, dashes. */
  name: string;
  /** One line: the code under test and what must hold. */
  what: string;
  /** Valid inputs to mutate (real files where there are some). Called once per process. */
  corpus(): Corpus | Promise<Corpus>;
  /** Input number i, from its own PRNG only (replayable from seed and index). */
  generate(r: Rng, corpus: Corpus): Input;
  /** The code under test on one input; throws when an invariant breaks. */
  run(input: Input, corpus: Corpus): void | Promise<void>;
  /** Remove what `corpus` made on disk (a work folder under the temp dir); the runner calls it when it is done. */
  dispose?(corpus: Corpus): void | Promise<void>;
  /** The input as files, for saving a failing or hanging one. */
  files(input: Input): Record<string, Uint8Array | string>;
  /** Size of an input in bytes or characters (for the slowest-input figure). */
  size(input: Input): number;
  /** Not run by default (the runner's own self-tests). */
  hidden?: boolean;
}

export class InvariantError extends Error {}

export function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new InvariantError(message);
}

/** Plain data (what the web transport and the CLI send as JSON), bigint allowed. */
export function checkPlain(value: unknown, what: string): void {
  try {
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch (e) {
    throw new InvariantError(`${what} is not plain data: ${(e as Error).message}`);
  }
}
