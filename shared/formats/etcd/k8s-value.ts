/**
 * What a Kubernetes value in etcd is, without the Kubernetes schemas:
 * - `k8s\0` + runtime.Unknown (apimachinery `runtime/generated.proto`):
 *   1 typeMeta {1 apiVersion, 2 kind}, 2 raw (the object), 3
 *   contentEncoding, 4 contentType. Field 1 of `raw` is the ObjectMeta of
 *   every top-level type (`meta/v1/generated.proto`): 1 name, 3 namespace,
 *   5 uid, 6 resourceVersion, 8 creationTimestamp {1 seconds, 2 nanos},
 *   11 labels / 12 annotations (map entries {1 key, 2 value}), 13
 *   ownerReferences {1 kind, 3 name, 4 uid, 5 apiVersion, 6 controller}.
 * - JSON (custom resources, CRDs): parsed, same fields from `metadata`.
 * - `k8s:enc:<provider>:v1:<key>:` (or `k8s:enc:kms:v2:<name>:`): encrypted, opaque.
 * Never throws; every repeated field is capped.
 */
import type { K8sValueSummary } from '../../contract/etcd';
import { allFields, bytesField, decodeMessage, i64Field, numField, stringField, type ProtoField } from '../protobuf/wire';

export const K8S_PROTOBUF_MAGIC = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);
const ENC_PREFIX = 'k8s:enc:';
/** Labels, annotations and owners kept per object. */
export const MAX_MAP_ENTRIES = 256;
/** JSON values larger than this are not parsed (etcd's request limit is 1.5 MiB). */
export const MAX_JSON_BYTES = 8 * 1024 * 1024;
const MAX_STRING = 4096;

const utf8 = new TextDecoder('utf-8', { fatal: false });

function startsWith(b: Uint8Array, prefix: Uint8Array): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

function short(s: string | undefined): string | undefined {
  return s === undefined ? undefined : s.length > MAX_STRING ? s.slice(0, MAX_STRING) + '…' : s;
}

/** RFC 3339 in UTC, seconds precision (metav1.Time's JSON form). */
export function rfc3339(seconds: bigint): string | undefined {
  const ms = Number(seconds) * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return undefined;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function protoMap(fields: readonly ProtoField[], no: number): Record<string, string> | undefined {
  const entries = allFields(fields, no);
  if (entries.length === 0) return undefined;
  const out: Record<string, string> = {};
  let n = 0;
  for (const e of entries) {
    if (e.wire !== 'bytes' || n >= MAX_MAP_ENTRIES) continue;
    const m = decodeMessage(e.value, 16);
    if (!m.ok) continue;
    const k = stringField(m.fields, 1) ?? '';
    Object.defineProperty(out, k, { value: short(stringField(m.fields, 2) ?? ''), enumerable: true, writable: true, configurable: true });
    n++;
  }
  return out;
}

/** ObjectMeta fields into `out`. */
function objectMeta(meta: Uint8Array, out: K8sValueSummary): void {
  const m = decodeMessage(meta, 8192);
  const f = m.fields;
  const set = <K extends 'name' | 'namespace' | 'uid' | 'resourceVersion'>(key: K, no: number) => {
    const v = short(stringField(f, no));
    if (v) out[key] = v;
  };
  set('name', 1);
  set('namespace', 3);
  set('uid', 5);
  set('resourceVersion', 6);
  const ts = bytesField(f, 8);
  if (ts) {
    const t = decodeMessage(ts, 8);
    const s = rfc3339(i64Field(t.fields, 1));
    if (s) out.creationTimestamp = s;
  }
  const labels = protoMap(f, 11);
  if (labels) out.labels = labels;
  const annotations = protoMap(f, 12);
  if (annotations) out.annotations = annotations;
  const owners = allFields(f, 13).slice(0, MAX_MAP_ENTRIES);
  if (owners.length) {
    out.ownerReferences = owners.flatMap((o) => {
      if (o.wire !== 'bytes') return [];
      const r = decodeMessage(o.value, 32).fields;
      const ref: NonNullable<K8sValueSummary['ownerReferences']>[number] = {
        apiVersion: short(stringField(r, 5)) ?? '',
        kind: short(stringField(r, 1)) ?? '',
        name: short(stringField(r, 3)) ?? '',
        uid: short(stringField(r, 4)) ?? '',
      };
      if (r.some((x) => x.no === 6)) ref.controller = numField(r, 6) !== 0;
      return [ref];
    });
  }
}

function fromProtobuf(bytes: Uint8Array): K8sValueSummary {
  const out: K8sValueSummary = { encoding: 'protobuf' };
  const unknown = decodeMessage(bytes.subarray(K8S_PROTOBUF_MAGIC.length), 16);
  const typeMeta = bytesField(unknown.fields, 1);
  if (typeMeta) {
    const tm = decodeMessage(typeMeta, 16).fields;
    const apiVersion = short(stringField(tm, 1));
    const kind = short(stringField(tm, 2));
    if (apiVersion) out.apiVersion = apiVersion;
    if (kind) out.kind = kind;
  }
  const raw = bytesField(unknown.fields, 2);
  if (raw) {
    const obj = decodeMessage(raw, 64);
    const meta = bytesField(obj.fields, 1);
    if (meta) objectMeta(meta, out);
  }
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? short(v) : undefined;
}

function strMap(v: unknown): Record<string, string> | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>).slice(0, MAX_MAP_ENTRIES)) {
    if (typeof x === 'string') Object.defineProperty(out, k, { value: short(x), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function fromJson(value: unknown): K8sValueSummary {
  const out: K8sValueSummary = { encoding: 'json' };
  if (!value || typeof value !== 'object' || Array.isArray(value)) return out;
  const o = value as Record<string, unknown>;
  const apiVersion = str(o.apiVersion);
  const kind = str(o.kind);
  if (apiVersion) out.apiVersion = apiVersion;
  if (kind) out.kind = kind;
  const md = o.metadata;
  if (!md || typeof md !== 'object' || Array.isArray(md)) return out;
  const m = md as Record<string, unknown>;
  for (const k of ['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp'] as const) {
    const v = str(m[k]);
    if (v) out[k] = v;
  }
  const labels = strMap(m.labels);
  if (labels) out.labels = labels;
  const annotations = strMap(m.annotations);
  if (annotations) out.annotations = annotations;
  if (Array.isArray(m.ownerReferences)) {
    out.ownerReferences = m.ownerReferences.slice(0, MAX_MAP_ENTRIES).flatMap((r: unknown) => {
      if (!r || typeof r !== 'object') return [];
      const x = r as Record<string, unknown>;
      const ref: NonNullable<K8sValueSummary['ownerReferences']>[number] = {
        apiVersion: str(x.apiVersion) ?? '',
        kind: str(x.kind) ?? '',
        name: str(x.name) ?? '',
        uid: str(x.uid) ?? '',
      };
      if (typeof x.controller === 'boolean') ref.controller = x.controller;
      return [ref];
    });
  }
  return out;
}

/** Leading JSON whitespace then `{`. */
function looksLikeJson(b: Uint8Array): boolean {
  for (let i = 0; i < b.length && i < 64; i++) {
    const c = b[i]!;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    return c === 0x7b;
  }
  return false;
}

export function parseJsonValue(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  if (bytes.length > MAX_JSON_BYTES || !looksLikeJson(bytes)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(utf8.decode(bytes)) as unknown };
  } catch {
    return { ok: false };
  }
}

function isText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
    if (c === 0x7f) return false;
  }
  return true;
}

/** Summarize one value stored under a Kubernetes key. Pure and total: any bytes give a summary. */
export function summarizeK8sValue(bytes: Uint8Array): K8sValueSummary {
  return readK8sValue(bytes).summary;
}

/**
 * The summary, and for a JSON value the parsed document too (`json`, else null): the export writes that document, and
 * parsing each value once instead of twice is a few percent of an export of every object.
 */
export function readK8sValue(bytes: Uint8Array): { summary: K8sValueSummary; json: { value: unknown } | null } {
  if (startsWith(bytes, K8S_PROTOBUF_MAGIC)) return { summary: fromProtobuf(bytes), json: null };
  const head = utf8.decode(bytes.subarray(0, 256));
  if (head.startsWith(ENC_PREFIX)) {
    // k8s:enc:<provider>:<version>:<key name>:<ciphertext>
    const parts = head.slice(ENC_PREFIX.length).split(':');
    return { summary: { encoding: 'encrypted', encryption: { provider: parts[0] ?? '', keyName: parts.length >= 4 ? (parts[2] ?? '') : '' } }, json: null };
  }
  const json = parseJsonValue(bytes);
  if (json.ok) return { summary: fromJson(json.value), json: { value: json.value } };
  return { summary: { encoding: isText(bytes) ? 'text' : 'binary' }, json: null };
}
