/**
 * The export's YAML writer: whatever it writes must read back as the same data in YAML 1.2 and in YAML 1.1 (what
 * kubectl's go-yaml reads), for Kubernetes-shaped objects and for random data drawn from the characters and words
 * that trip YAML up; and where every string is plain-safe its layout is the one the `yaml` package writes.
 */
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { emitYamlDocument, MAX_EMIT_DEPTH } from '../../shared/text/yaml-emit';
import { uniform as rng } from '../fuzz/mutate';

function readBack(text: string, version: '1.1' | '1.2'): unknown {
  return parse(text, { version, uniqueKeys: true, strict: true, prettyErrors: false });
}

function expectRoundTrip(value: unknown): void {
  const text = emitYamlDocument(value);
  expect(text).not.toBeNull();
  const want: unknown = JSON.parse(JSON.stringify(value));
  expect(readBack(text!, '1.2'), text!).toEqual(want);
  expect(readBack(text!, '1.1'), text!).toEqual(want);
}

const TRICKY_WORDS = [
  'yes',
  'No',
  'ON',
  'off',
  'y',
  'N',
  'true',
  'False',
  'null',
  'Null',
  '~',
  '',
  ' ',
  '-',
  '- a',
  '? x',
  ': y',
  'a: b',
  'a #b',
  '#c',
  '&a',
  '*a',
  '!tag',
  '|',
  '>',
  '%YAML',
  '---',
  '...',
  '@x',
  '`x',
  '0x1F',
  '0o17',
  '017',
  '1_000',
  '1:20',
  '+1',
  '-1',
  '.5',
  '1e3',
  '1.',
  '.inf',
  '-.Inf',
  '.NaN',
  '2023-11-15T04:43:31Z',
  '2001-12-14',
  '<<',
  '=',
  '[a]',
  '{a}',
  'a,b',
  "it's",
  '"q"',
  '\\',
  'tab\there',
  'line\nbreak',
  'ends\n',
  'two\n\n',
  '\nlead',
  ' lead',
  'trail ',
  'x\r\ny',
  '\u0000',
  '\u0007',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\ufeff',
  '\ud800',
  'é中文🙂',
  'a  b',
  '/registry/pods/x',
  'nginx:1.25',
  'app.kubernetes.io/name',
  'QUJD+/==',
  'a\n  b\n',
  'a\n\tb',
  'a\n   \n b',
  'a\n ',
  'k8s\u0000',
];
const ALPHABET = [
  'a',
  'Z',
  '0',
  '9',
  ' ',
  '\n',
  '\t',
  ':',
  '#',
  '-',
  '?',
  '"',
  "'",
  '\\',
  '/',
  '.',
  ',',
  '[',
  '{',
  '&',
  '*',
  '!',
  '|',
  '>',
  '%',
  '@',
  '`',
  '\r',
  '\u0085',
  '\u00e9',
  '中',
  '🙂',
];

function randomString(r: () => number): string {
  if (r() < 0.4) return TRICKY_WORDS[Math.floor(r() * TRICKY_WORDS.length)]!;
  const n = Math.floor(r() * 12);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)]!;
  return s;
}

function randomValue(r: () => number, depth: number): unknown {
  const pick = r();
  if (depth > 4 || pick < 0.45) {
    const s = r();
    if (s < 0.6) return randomString(r);
    if (s < 0.7) return Math.floor(r() * 2e6) - 1e6;
    if (s < 0.75) return (r() - 0.5) * 1e6;
    if (s < 0.85) return r() < 0.5;
    return null;
  }
  if (pick < 0.7) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) o[randomString(r)] = randomValue(r, depth + 1);
  return o;
}

describe('emitYamlDocument', () => {
  it('reads back as the same data in YAML 1.2 and 1.1 for every tricky string, as a value and as a key', () => {
    for (const w of TRICKY_WORDS) {
      expectRoundTrip({ [w]: w });
      expectRoundTrip([w, { k: [w] }, [[w]]]);
      expectRoundTrip(w);
    }
  });

  it('reads back random nested data (fixed seeds, and one fresh seed named on failure)', () => {
    const fresh = Math.floor(Math.random() * 2 ** 31);
    for (const seed of [1, 2, 3, 42, 20261203, fresh]) {
      const r = rng(seed);
      for (let i = 0; i < 400; i++) {
        const value = randomValue(r, 0);
        const text = emitYamlDocument(value)!;
        const want: unknown = JSON.parse(JSON.stringify(value));
        expect(readBack(text, '1.2'), `seed ${seed} #${i}\n${text}`).toEqual(want);
        expect(readBack(text, '1.1'), `seed ${seed} #${i}\n${text}`).toEqual(want);
      }
    }
  });

  it('lays a plain Kubernetes object out as the yaml package does, with quotes only where a reading could differ', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'web-0',
        namespace: 'default',
        labels: { app: 'web', 'pod-template-hash': '1080' },
        annotations: {},
        creationTimestamp: '2023-11-15T04:43:31Z',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', controller: true }],
        finalizers: [],
      },
      spec: {
        containers: [{ name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80 }], args: ['-c', 'echo hi'] }],
        nested: [[1, 2], []],
        empty: null,
      },
    };
    expect(emitYamlDocument(pod)).toBe(
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata:',
        '  name: web-0',
        '  namespace: default',
        '  labels:',
        '    app: web',
        '    pod-template-hash: "1080"',
        '  annotations: {}',
        '  creationTimestamp: "2023-11-15T04:43:31Z"',
        '  ownerReferences:',
        '    - apiVersion: apps/v1',
        '      kind: StatefulSet',
        '      name: web',
        '      controller: true',
        '  finalizers: []',
        'spec:',
        '  containers:',
        '    - name: web',
        '      image: "nginx:1.25"',
        '      ports:',
        '        - containerPort: 80',
        '      args:',
        '        - "-c"',
        '        - echo hi',
        '  nested:',
        '    - - 1',
        '      - 2',
        '    - []',
        '  empty: null',
        '',
      ].join('\n'),
    );
    // Where every string is plain-safe for both versions, the text is exactly the yaml package's.
    const plain = { ...pod, metadata: { ...pod.metadata, creationTimestamp: 'today', labels: { app: 'web' } }, spec: { ...pod.spec } };
    plain.spec.containers = [{ ...pod.spec.containers[0]!, image: 'nginx', args: ['echo hi'] }];
    expect(emitYamlDocument(plain)).toBe(stringify(plain, { aliasDuplicateObjects: false, lineWidth: 0 }));
  });

  it('writes multi-line text as a literal block when that reads back exactly, and leaves out undefined members', () => {
    const script = '#!/bin/sh\nset -e\n  echo "a: b" # not a comment\n\nexit 0\n';
    expect(emitYamlDocument({ data: { 'run.sh': script, gone: undefined } })).toBe(
      'data:\n  run.sh: |\n    #!/bin/sh\n    set -e\n      echo "a: b" # not a comment\n\n    exit 0\n',
    );
    expectRoundTrip({ data: { 'run.sh': script } });
    expect(emitYamlDocument(['a\nb'])).toBe('- |-\n  a\n  b\n');
  });

  it('refuses nesting deeper than its bound instead of overflowing the stack', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < MAX_EMIT_DEPTH + 5; i++) deep = [deep];
    expect(emitYamlDocument(deep)).toBeNull();
    let ok: unknown = 'x';
    for (let i = 0; i < 200; i++) ok = { a: ok };
    expectRoundTrip(ok);
  });
});
