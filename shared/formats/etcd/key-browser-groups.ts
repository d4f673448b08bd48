/**
 * The key browser's groups: a key's Kubernetes resource and namespace, from
 * its text (`keyGroup`) or from its bytes without making a string
 * (`keyGroupSpan`), which the index uses per key: only where the group
 * changes from one sorted key to the next is a string made. Both give the
 * same group: '/' is one byte in UTF-8 (never inside a multi-byte character,
 * and an invalid sequence ends at it), so splitting the bytes at '/' and
 * decoding each part is decoding the key and splitting it at '/'.
 */

/** Resource and namespace of a key: `/registry/<resource>/[<ns>/]<name>`, CRs `/registry/<group>/<plural>/…`. */
export function keyGroup(key: string): { resource: string; namespace: string | null } {
  if (!key.startsWith('/registry/')) {
    const first = key.split('/').filter(Boolean)[0];
    return { resource: first ? `(${first})` : '(other)', namespace: null };
  }
  const parts = key.slice('/registry/'.length).split('/');
  let resource = parts[0] ?? '';
  let rest = parts.slice(1);
  if (resource.includes('.') && rest.length > 0) {
    resource = `${resource}/${rest[0]}`;
    rest = rest.slice(1);
  } else if (resource === 'services' && (rest[0] === 'specs' || rest[0] === 'endpoints')) {
    resource = `services/${rest[0]}`;
    rest = rest.slice(1);
  }
  return { resource, namespace: rest.length >= 2 ? rest[0]! : null };
}

const SLASH = 0x2f;
const DOT = 0x2e;
const REGISTRY = new TextEncoder().encode('/registry/');
const SERVICES = new TextEncoder().encode('services');
const SPECS = new TextEncoder().encode('specs');
const ENDPOINTS = new TextEncoder().encode('endpoints');

/**
 * Where a key's group is in its bytes (`bytes[start, end)`): `registry`
 * false: the resource is `(<bytes[resourceStart, resourceEnd)>)`, or
 * `(other)` when that is empty; true: the resource is those bytes as they
 * are. The namespace is `bytes[nsStart, nsEnd)`, none when nsStart < 0.
 */
export interface KeyGroupSpan {
  registry: boolean;
  resourceStart: number;
  resourceEnd: number;
  nsStart: number;
  nsEnd: number;
}

function slashFrom(b: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (b[i] === SLASH) return i;
  return -1;
}

function equalsAt(b: Uint8Array, from: number, to: number, word: Uint8Array): boolean {
  if (to - from !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (b[from + i] !== word[i]) return false;
  return true;
}

/** The group of the key `b[start, end)`, written into `out` (the same as `keyGroup` of its text). */
export function keyGroupSpan(b: Uint8Array, start: number, end: number, out: KeyGroupSpan): void {
  out.nsStart = -1;
  out.nsEnd = -1;
  let registry = end - start >= REGISTRY.length;
  for (let i = 0; registry && i < REGISTRY.length; i++) if (b[start + i] !== REGISTRY[i]) registry = false;
  out.registry = registry;
  if (!registry) {
    // The first part between slashes that is not empty.
    let s = start;
    while (s < end && b[s] === SLASH) s++;
    const e = s < end ? slashFrom(b, s, end) : -1;
    out.resourceStart = s;
    out.resourceEnd = e < 0 ? end : e;
    return;
  }
  // parts = the bytes after /registry/ split at '/'; resource = parts[0], rest = the parts after it.
  const from = start + REGISTRY.length;
  out.resourceStart = from;
  let partEnd = slashFrom(b, from, end);
  if (partEnd < 0) {
    out.resourceEnd = end;
    return;
  }
  let hasDot = false;
  for (let i = from; i < partEnd; i++) if (b[i] === DOT) hasDot = true;
  const nextEnd = slashFrom(b, partEnd + 1, end);
  const second = { s: partEnd + 1, e: nextEnd < 0 ? end : nextEnd };
  if (hasDot || (equalsAt(b, from, partEnd, SERVICES) && (equalsAt(b, second.s, second.e, SPECS) || equalsAt(b, second.s, second.e, ENDPOINTS)))) {
    // Two parts make the resource (rest.length > 0 holds: there is a slash after parts[0]).
    partEnd = second.e;
    if (nextEnd < 0) {
      out.resourceEnd = end;
      return;
    }
  }
  out.resourceEnd = partEnd;
  /** Where the parts after the resource start. */
  const restStart = partEnd + 1;
  // namespace = rest[0] when rest has two parts or more (a slash after it).
  const nsEnd = slashFrom(b, restStart, end);
  if (nsEnd >= 0) {
    out.nsStart = restStart;
    out.nsEnd = nsEnd;
  }
}
