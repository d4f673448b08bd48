/**
 * The object export's files (etcd's `salvage --out` and kine's): where a
 * key's object goes (`DIR/<resource>/<namespace>/<name>.yaml`), the document
 * written for each value encoding, and the writes: one file per object, named in the order the
 * objects come (`name.yaml`, then `name~2.yaml` for a clash), a name claimed
 * by an exclusive create (`wx`), never overwriting and never checked apart
 * from the create.
 *
 * Synchronous on purpose: each file is an open, a write and a close of a few
 * KB, and through promises each of those cost ~40 µs of this thread's CPU in
 * hand-offs to libuv's pool (200,000 files: ~25 s), more than the kernel's
 * own work; written here directly, the thread pays only the system calls. The
 * export runs in a worker thread in the app (and in the CLI's only thread), so
 * nothing else waits on it.
 */
import { closeSync, fchmodSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import type { K8sValueSummary } from '../../shared/contract/etcd';
import { readK8sValue } from '../../shared/formats/etcd/k8s-value';
import { holdsUnsafeInteger, parseJsonExactIntegers } from '../../shared/text/json-exact-ints';
import { emitYamlDocument } from '../../shared/text/yaml-emit';

/**
 * Create the first free `name.ext`, `name~2.ext`, ... in `dir` with `text` (mode set also past the umask); throws the
 * file system's error (the export stops there).
 */
export function writeObjectFile(dir: string, name: string, ext: string, text: string, mode: number): void {
  for (let n = 1; ; n++) {
    const file = path.join(dir, n === 1 ? `${name}.${ext}` : `${name}~${n}.${ext}`);
    let fd: number;
    try {
      fd = openSync(file, 'wx', mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    try {
      // The umask (or a default ACL) may have taken bits off a 0644 file's create mode: set exactly what was asked.
      if ((fstatSync(fd).mode & 0o7777) !== mode) fchmodSync(fd, mode);
      const bytes = Buffer.from(text, 'utf8');
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
    } finally {
      closeSync(fd);
    }
    return;
  }
}

const SAFE_NAME = /[^A-Za-z0-9._:@+=,-]/g;

export function safeSegment(s: string): string {
  const t = s.replace(SAFE_NAME, '_').slice(0, 200);
  return t === '' || t === '.' || t === '..' ? `_${t}` : t;
}

/** `/registry/<resource...>/[<ns>/]<name>` -> resource, namespace (`_cluster` when none), name. */
export function objectPath(key: string, namespace: string | undefined): { resource: string; namespace: string; name: string } {
  const parts = key.split('/').filter((p) => p !== '');
  if (parts.length < 3 || (parts[0] !== 'registry' && !parts[0]!.endsWith('.io'))) {
    return { resource: '_other', namespace: '_cluster', name: key };
  }
  const name = parts[parts.length - 1]!;
  const rest = parts.slice(1, -1);
  if (namespace && rest.length >= 2 && rest[rest.length - 1] === namespace) {
    return { resource: rest.slice(0, -1).join('/'), namespace, name };
  }
  // Without decoded metadata: an API group has a dot (`apps` aside, which k8s stores as /registry/deployments/...),
  // a resource never does: /registry/<resource>/<ns>/<name>, /registry/<group>/<plural>/<ns>/<name>.
  const resourceParts = rest[0]!.includes('.') ? 2 : 1;
  const resource = rest.slice(0, resourceParts).join('/');
  const ns = rest.slice(resourceParts);
  return { resource, namespace: ns.length === 1 ? ns[0]! : ns.length === 0 ? '_cluster' : ns.join('/'), name };
}

/** What an export wrote, by count. */
export interface ObjectFileCounts {
  objects: number;
  /** Secrets and encrypted values (written with mode 0600). */
  secrets: number;
  /** Files by resource. */
  resources: Record<string, number>;
}

/**
 * Writes one object file per key into `outDir`: JSON values as they are (YAML: the same document, integers
 * past 2^53 exact); protobuf values as their decoded metadata plus the raw value (base64) so nothing is lost;
 * encrypted and other values as the raw value; secrets and encrypted values with mode 0600. `lifeboat` makes
 * each document's `lifeboat:` block (where the value came from) from the value's encoding and whether it is
 * secret. Counts go into `counts`.
 */
export class ObjectFileWriter {
  private readonly made = new Set<string>();

  constructor(
    private readonly outDir: string,
    private readonly format: 'yaml' | 'json',
    private readonly counts: ObjectFileCounts,
  ) {}

  write(key: string, value: Uint8Array, lifeboatOf: (encoding: K8sValueSummary['encoding'], secret: boolean) => Record<string, unknown>): void {
    const format = this.format;
    const { summary, json } = readK8sValue(value);
    const where = objectPath(key, summary.namespace);
    const secret = summary.encoding === 'encrypted' || where.resource === 'secrets' || where.resource.endsWith('/secrets');
    const ext = format === 'json' ? 'json' : 'yaml';
    const dir = path.join(this.outDir, ...where.resource.split('/').map(safeSegment), safeSegment(where.namespace));
    if (!this.made.has(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.made.add(dir);
    }
    const lifeboat = lifeboatOf(summary.encoding, secret);
    const raw = (): string => Buffer.from(value).toString('base64');
    let doc: unknown;
    if (summary.encoding === 'json') {
      doc = json ? json.value : { lifeboat: { ...lifeboat, rawValueBase64: raw() } };
      // JSON.parse rounds integers past 2^53 (an int64 field of a custom resource): YAML gets the exact ones.
      if (json && format === 'yaml' && holdsUnsafeInteger(json.value)) doc = parseJsonExactIntegers(Buffer.from(value).toString('utf8')) ?? doc;
    } else if (summary.encoding === 'protobuf') {
      doc = {
        apiVersion: summary.apiVersion,
        kind: summary.kind,
        metadata: {
          name: summary.name,
          namespace: summary.namespace,
          uid: summary.uid,
          creationTimestamp: summary.creationTimestamp,
          labels: summary.labels,
          annotations: summary.annotations,
          ownerReferences: summary.ownerReferences,
        },
        lifeboat: {
          ...lifeboat,
          note: 'protobuf value: metadata decoded, the whole object is rawValueBase64 (k8s protobuf, "k8s\\0" + runtime.Unknown)',
          rawValueBase64: raw(),
        },
      };
    } else if (summary.encoding === 'encrypted') {
      doc = {
        lifeboat: { ...lifeboat, encrypted: true, provider: summary.encryption?.provider, keyName: summary.encryption?.keyName, rawValueBase64: raw() },
      };
    } else {
      doc = {
        lifeboat: { ...lifeboat, ...(summary.encoding === 'text' ? { text: Buffer.from(value).toString('utf8') } : {}), rawValueBase64: raw() },
      };
    }
    // JSON values stay exactly as stored in .json output; YAML is the same document.
    const text =
      format === 'json'
        ? summary.encoding === 'json' && (doc as object) !== null
          ? Buffer.from(value).toString('utf8')
          : JSON.stringify(doc, null, 2)
        : (emitYamlDocument(doc) ??
          // Nested past the writer's bound (a JSON value can nest thousands deep): its raw bytes, as for bad JSON.
          emitYamlDocument({ lifeboat: { ...lifeboat, note: 'nested too deep for YAML', rawValueBase64: raw() } })!);
    writeObjectFile(dir, safeSegment(where.name), ext, text, secret ? 0o600 : 0o644);
    this.counts.objects++;
    if (secret) this.counts.secrets++;
    this.counts.resources[where.resource] = (this.counts.resources[where.resource] ?? 0) + 1;
  }
}
