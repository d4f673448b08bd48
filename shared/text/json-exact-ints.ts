/**
 * JSON parsed with its integers exact. JSON.parse makes every number a double,
 * so an integer past 2^53 (an int64 field of a custom resource, say) comes out
 * rounded, and a YAML export of it would hold another number than etcd does.
 * Only a value that holds such a number is parsed again here: integers beyond
 * the safe range become bigints, everything else is what JSON.parse gives
 * (strings are decoded by JSON.parse itself, keys are own properties even
 * when named `__proto__`, the last of a repeated key wins).
 *
 * Iterative (no recursion, so no nesting overflows the stack) and linear;
 * null for text that is not one JSON value.
 */

/**
 * Whether `value` (from JSON.parse) holds an integer JSON.parse may have rounded (beyond ±2^53). A large double
 * written as a float (`1.5e300`) is such an integer too: parsed again for nothing, it stays the same double.
 */
export function holdsUnsafeInteger(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'number') {
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) return true;
    } else if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (typeof v === 'object' && v !== null) {
      for (const k in v) if (Object.hasOwn(v, k)) stack.push((v as Record<string, unknown>)[k]);
    }
  }
  return false;
}

type Container = { kind: 'array'; value: unknown[] } | { kind: 'object'; value: Record<string, unknown>; key: string | null };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** A JSON string token: quotes, escapes and any character but a quote, a backslash or a C0 control. */
// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const WHITESPACE = /[ \t\n\r]*/y;

/** `text` parsed as JSON with integers past ±2^53 as bigints; null when it is not exactly one JSON value. */
export function parseJsonExactIntegers(text: string): unknown {
  let at = 0;
  const skip = (): void => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.exec(text);
    at = WHITESPACE.lastIndex;
  };
  const token = (re: RegExp): string | null => {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return null;
    at = re.lastIndex;
    return m[0];
  };
  const stack: Container[] = [];
  let result: unknown;
  let done = false;
  /** Put a finished value where it belongs: into the open container, or as the result. */
  const place = (v: unknown): boolean => {
    const top = stack.at(-1);
    if (!top) {
      result = v;
      done = true;
      return true;
    }
    if (top.kind === 'array') top.value.push(v);
    else {
      if (top.key === null) return false;
      Object.defineProperty(top.value, top.key, { value: v, enumerable: true, writable: true, configurable: true });
      top.key = null;
    }
    return true;
  };

  skip();
  for (;;) {
    const top = stack.at(-1);
    // In an object, a key comes first: `"key" :`.
    if (top?.kind === 'object' && top.key === null) {
      const k = token(STRING);
      if (k === null) return null;
      top.key = JSON.parse(k) as string;
      skip();
      if (text[at] !== ':') return null;
      at++;
      skip();
    }
    const c = text[at];
    if (c === '{') {
      at++;
      stack.push({ kind: 'object', value: {}, key: null });
      skip();
      if (text[at] === '}') {
        at++;
        const o = stack.pop()!;
        if (!place(o.value)) return null;
      } else continue;
    } else if (c === '[') {
      at++;
      stack.push({ kind: 'array', value: [] });
      skip();
      if (text[at] === ']') {
        at++;
        const a = stack.pop()!;
        if (!place(a.value)) return null;
      } else continue;
    } else if (c === '"') {
      const s = token(STRING);
      if (s === null || !place(JSON.parse(s))) return null;
    } else if (c === 't' && text.startsWith('true', at)) {
      at += 4;
      place(true);
    } else if (c === 'f' && text.startsWith('false', at)) {
      at += 5;
      place(false);
    } else if (c === 'n' && text.startsWith('null', at)) {
      at += 4;
      place(null);
    } else {
      const n = token(NUMBER);
      if (n === null) return null;
      const isInteger = !/[.eE]/.test(n);
      const asNumber = Number(n);
      place(isInteger && !Number.isSafeInteger(asNumber) ? BigInt(n) : asNumber);
    }
    // After a value: `,` for the next one, or the closers of finished containers.
    for (;;) {
      skip();
      if (done) return at === text.length ? result : null;
      const open = stack.at(-1)!;
      const ch = text[at];
      if (ch === ',') {
        at++;
        skip();
        break;
      }
      if ((ch === ']' && open.kind === 'array') || (ch === '}' && open.kind === 'object' && open.key === null)) {
        at++;
        stack.pop();
        if (!place(open.value)) return null;
        continue;
      }
      return null;
    }
  }
}
