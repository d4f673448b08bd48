/**
 * Targets that misbehave on purpose, for the runner's own tests
 * (test/fuzz/runner.test.ts): input 3 hangs synchronously, allocates without
 * bound, or throws. Hidden: `npm run fuzz` never runs them unless named.
 */
import { type FuzzTarget } from '../target';

function selftest(name: string, what: string, bad: () => void): FuzzTarget<number, null> {
  return {
    name,
    what,
    hidden: true,
    corpus: () => null,
    generate: (r) => r.int(1000),
    run: (n) => {
      if (n === -1) return;
      bad();
    },
    files: (n) => ({ 'input.txt': String(n) }),
    size: () => 1,
  };
}

let calls = 0;
const third = (f: () => void) => () => {
  calls++;
  if (calls === 3) f();
};

export const selftestHang = selftest(
  'selftest-hang',
  'hangs synchronously on the third input',
  third(() => {
    for (;;) {
      /* a synchronous hang: the event loop never runs again */
    }
  }),
);

export const selftestOom = selftest(
  'selftest-oom',
  'allocates without bound on the third input',
  third(() => {
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array<number>(1 << 20).fill(1));
  }),
);

export const selftestThrow = selftest(
  'selftest-throw',
  'throws on the third input',
  third(() => {
    throw new TypeError('boom from the self-test target');
  }),
);
