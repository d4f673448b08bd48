/**
 * The English detector of the zh-CN text tests: a sentence rendered in
 * Simplified Chinese may keep file names and paths, ids and hex, numbers and
 * units, commands and flags in backticks, product and field names (a short
 * list), and engine quotes (“…” that is etcd's or bbolt's own error text, or a
 * quote a template itself holds). Any other run of ASCII letters is English
 * of ours. Used by test/etcd/etcd-zh-text.test.ts and
 * test/etcd/etcd-repair-zh-text.test.ts.
 */
import type { RestorePlan } from '../../shared/contract/etcd-repair';
import type { LocalText } from '../../shared/contract/text';
import { hasMessage, MESSAGES, translateLocal } from '../../shared/i18n';

/** Words that may stay in a Chinese sentence: product, tool and on-disk field names as etcd and bbolt print them. */
export const ALLOWED_WORDS = new Set(
  [
    'etcd',
    'etcdctl',
    'etcdutl',
    'SSH',
    'SFTP',
    'sudo',
    'bbolt',
    'raft',
    'WAL',
    'snap',
    'dqlite',
    'JSON',
    'db',
    'meta',
    'txid',
    'freelist',
    'freepages',
    'HardState',
    'commit',
    'consistent',
    'index',
    'panic',
    'CRC',
    'SHA',
    'Lifeboat',
    'Kubernetes',
    'kind',
    'peer',
    'URL',
    'ID',
    'NOSPACE',
    'CORRUPT',
    'MiB',
    'GiB',
    'KiB',
    'SELinux',
    'TLS',
    'systemd',
    'kubelet',
    'kube-apiserver',
    'Pod',
    'v2',
    'YAML',
    // k3s's own datastore, told as what it is (finding engine.sqlite).
    'SQLite',
    'sqlite3',
    'k3s',
    'kine',
    // RKE2, k3s's sibling, named where its snapshots and reset are (finding etcd.k3s-bootstrap).
    'RKE2',
  ].map((w) => w.toLowerCase()),
);

/** Quoted literals of the zh templates (“…” with placeholders as wildcards): etcd's own texts the template quotes. */
export const TEMPLATE_QUOTES: RegExp[] = (() => {
  const out: RegExp[] = [];
  for (const template of Object.values(MESSAGES['zh-CN'])) {
    for (const m of template.matchAll(/“([^”]*)”/g)) {
      const body = m[1]!;
      if (/^\{[A-Za-z0-9_]+\}$/.test(body)) continue; // a bare placeholder: its value must be an engine text of the report
      const pattern = body
        .split(/\{[A-Za-z0-9_]+\}/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^”]{0,200}?');
      out.push(new RegExp(`^${pattern}$`));
    }
  }
  return out;
})();

/** Walk problems worded as bbolt's own check/panic prints them (tx_check.go): quotes, not our English. */
export const BBOLT_WORDED = new Set([
  'bbolt.multiple-references',
  'bbolt.invalid-type',
  'bbolt.out-of-bounds',
  'bbolt.header-id',
  'bbolt.key-order',
  'bbolt.unreachable-unfreed',
  'bbolt.freelist-invalid',
]);

/**
 * Params that carry the user's data, not words: names, ids, paths, URLs and addresses read from the input. They are
 * replaced by a neutral digit before the check (a member called "control-plane-1" is not English of ours).
 */
export const DATA_PARAMS = new Set([
  'name',
  'id',
  'url',
  'host',
  'addresses',
  'file',
  'db',
  'snap',
  'root',
  'dbName',
  'node',
  'members',
  'prev',
  'base',
  'dir',
  'member',
  'stored',
  'computed',
  // WAL record lines: keys, ranges, URLs and v2 paths from the log; the HTTP method of a v2 request.
  'key',
  'end',
  'urls',
  'path',
  'method',
  // Restore plans: the node's paths, unit, endpoint and cluster token.
  'manifest',
  'manifests',
  'parked',
  'unit',
  'aside',
  'dataDir',
  'src',
  'clusterToken',
  'endpoint',
  // Repair actions and loss reasons: where the originals are kept, the cluster id of a fresh WAL.
  'kept',
  'cluster',
]);

export function neutral(l: LocalText): LocalText {
  const params = l.params ? Object.fromEntries(Object.entries(l.params).map(([k, v]) => [k, DATA_PARAMS.has(k) ? '0' : v])) : undefined;
  const texts = l.texts ? Object.fromEntries(Object.entries(l.texts).map(([k, list]) => [k, list.map(neutral)])) : undefined;
  return { key: l.key, ...(params ? { params } : {}), ...(texts ? { texts } : {}) };
}

/** Runs of ASCII letters in `text` that are not allowed in a Chinese sentence (empty: no English leaked). */
export function englishLeaks(text: string, engine: ReadonlySet<string>): string[] {
  let rest = text.replace(/“([^”]*)”/g, (whole, body: string) => (engine.has(body) || TEMPLATE_QUOTES.some((re) => re.test(body)) ? ' ' : body));
  rest = rest
    .replace(/`[^`]*`/g, ' ') // commands
    .replace(/(?:^|\s|[（(，：；、])--[a-z][a-z0-9-]*(?:=[a-z]+)?/g, ' ') // flags
    .replace(/[\w.-]*(?:\/[\w.%<>-]*)+/g, ' ') // paths: member/snap/db, /var/lib/etcd
    .replace(/[\w%<>-]*\.(?:wal|snap|db|tmp|broken|meta)\b(?:\.(?:db|broken))?/g, ' ') // file names and extensions
    .replace(/\b0x[0-9a-f]+\b/gi, ' ')
    .replace(/\b[0-9a-f]{16}\b/g, ' ') // member and cluster ids
    .replace(/\bSHA-256\b/g, ' ');
  const leaks: string[] = [];
  for (const m of rest.matchAll(/[A-Za-z][A-Za-z0-9_-]*/g)) {
    const word = m[0];
    if (/^[0-9a-f]+$/i.test(word) && /\d/.test(word)) continue; // hex
    if (ALLOWED_WORDS.has(word.toLowerCase())) continue;
    leaks.push(word);
  }
  return leaks;
}

/** Every catalog key of a sentence and of the sentences nested in it is known in zh-CN. */
export function allKeysKnown(l: LocalText): boolean {
  return hasMessage(l.key, 'zh-CN') && Object.values(l.texts ?? {}).every((list) => list.every(allKeysKnown));
}

/** Every step of a restore plan (title, explanation, risk) and every problem in zh-CN. */
export function planLeaks(plan: RestorePlan, engine: ReadonlySet<string> = new Set()): string[] {
  const leaks: string[] = [];
  if (plan.problems.length > 0 && plan.problemTexts?.length !== plan.problems.length) leaks.push(`not translatable: problems: ${plan.problems.join(' | ')}`);
  plan.problemTexts?.forEach((l, i) => {
    const found = englishLeaks(translateLocal('zh-CN', neutral(l)), engine);
    if (found.length > 0) leaks.push(`problem ${i}: [${found.join(', ')}] in "${translateLocal('zh-CN', l)}"`);
    if (translateLocal('en', l) !== plan.problems[i]) leaks.push(`problem ${i}: the English differs from its template: ${plan.problems[i]}`);
  });
  plan.steps.forEach((s, i) => {
    const parts: [string, LocalText | undefined, string][] = [
      [`step ${i} title`, s.titleText, s.kind],
      [`step ${i} explanation`, s.explanationText, s.explanation],
    ];
    if (s.risk !== '') parts.push([`step ${i} risk`, s.riskLocal, s.risk]);
    for (const [where, l, english] of parts) {
      if (!l || !allKeysKnown(l)) {
        leaks.push(`not translatable: ${where}: ${english}`);
        continue;
      }
      const found = englishLeaks(translateLocal('zh-CN', neutral(l)), engine);
      if (found.length > 0) leaks.push(`${where}: [${found.join(', ')}] in "${translateLocal('zh-CN', l)}"`);
    }
  });
  return leaks;
}
