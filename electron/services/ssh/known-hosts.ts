/**
 * OpenSSH `known_hosts` handling: parse, look up, add, replace. Follows
 * sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" and OpenSSH's lookup rules:
 * - a host on a non-default port is looked up as `[host]:port`;
 * - host fields are comma lists of patterns with `*`, `?` and `!negation`,
 *   or one hashed name `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`;
 * - a matching key means OK even if other lines for the host disagree;
 *   a line of the same key type with a different key means CHANGED;
 *   lines of other types only make the key UNKNOWN (OpenSSH says "keys of
 *   different type are already known for this host");
 * - `@revoked` lines refuse their key; `@cert-authority` lines are
 *   recognised but we cannot verify host certificates yet.
 *
 * The file is always given as a path: tests never touch the user's own file.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { HostKeyVerdict, KnownKeyRef } from '../../../shared/contract/ssh';
import { SshTextError } from './network-error';
import { makeDirs } from '../make-dirs';

export type KnownHostMarker = 'revoked' | 'cert-authority' | null;

export interface KnownHostEntry {
  /** 1-based line number in the file. */
  line: number;
  marker: KnownHostMarker;
  /** Plain patterns (comma list split), or null when the name is hashed. */
  patterns: string[] | null;
  hashed: { salt: Buffer; hash: Buffer } | null;
  keyType: string;
  /** The raw public key blob (base64-decoded). */
  key: Buffer;
  comment: string;
}

export interface KnownHostsProblem {
  line: number;
  message: string;
}

export interface ParsedKnownHosts {
  entries: KnownHostEntry[];
  problems: KnownHostsProblem[];
}

/** `SHA256:<base64 without padding>`, exactly as `ssh-keygen -lf` prints it. */
export function fingerprintSha256(keyBlob: Uint8Array): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type stored at the start of an SSH public key blob (string field). */
export function keyTypeOfBlob(keyBlob: Uint8Array): string | null {
  if (keyBlob.length < 4) return null;
  const len = ((keyBlob[0] << 24) | (keyBlob[1] << 16) | (keyBlob[2] << 8) | keyBlob[3]) >>> 0;
  if (len === 0 || len > 64 || 4 + len > keyBlob.length) return null;
  const type = Buffer.from(keyBlob.subarray(4, 4 + len)).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : null;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function hostLookupName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/**
 * OpenSSH-style wildcard match (`*` any run, `?` one char), without regular
 * expressions so hostile patterns cannot blow up.
 */
export function wildcardMatch(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      t++;
      p++;
    } else if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starT = t;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * A comma list of patterns matches when a positive pattern matches and no
 * negated one does (negation wins, as in OpenSSH match_hostname).
 */
export function patternListMatches(name: string, patterns: readonly string[]): boolean {
  let positive = false;
  const n = name.toLowerCase();
  for (const raw of patterns) {
    const neg = raw.startsWith('!');
    const pat = (neg ? raw.slice(1) : raw).toLowerCase();
    if (!wildcardMatch(n, pat)) continue;
    if (neg) return false;
    positive = true;
  }
  return positive;
}

export function hashHostName(name: string, salt: Buffer): Buffer {
  return createHmac('sha1', salt).update(name).digest();
}

export function formatHashedName(name: string, salt: Buffer = randomBytes(20)): string {
  return `|1|${salt.toString('base64')}|${hashHostName(name, salt).toString('base64')}`;
}

function parseHashed(field: string): { salt: Buffer; hash: Buffer } | null {
  const parts = field.split('|');
  // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '1') return null;
  const salt = Buffer.from(parts[2], 'base64');
  const hash = Buffer.from(parts[3], 'base64');
  if (salt.length !== 20 || hash.length !== 20) return null;
  return { salt, hash };
}

export function entryMatchesName(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const h = hashHostName(name, entry.hashed.salt);
    return timingSafeEqual(h, entry.hashed.hash);
  }
  return entry.patterns !== null && patternListMatches(name, entry.patterns);
}

/**
 * Bounds for a known_hosts file. Real ones hold a line per host (a few hundred
 * bytes each); 16 MiB is tens of thousands of hosts. A longer line is a
 * problem on that line (OpenSSH would not match it either), never parsed.
 */
export const KNOWN_HOSTS_MAX_BYTES = 16 * 1024 * 1024;
export const KNOWN_HOSTS_MAX_LINE = 64 * 1024;

/** Parse a known_hosts file. Bad lines become problems, never exceptions. */
export function parseKnownHosts(text: string): ParsedKnownHosts {
  const entries: KnownHostEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  if (text.length > KNOWN_HOSTS_MAX_BYTES) {
    // Refuse the whole file: trusting a prefix of it could miss a @revoked line further down.
    return { entries, problems: [{ line: 1, message: `known_hosts is larger than ${KNOWN_HOSTS_MAX_BYTES} bytes; refusing to read it` }] };
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    if (lines[i].length > KNOWN_HOSTS_MAX_LINE) {
      problems.push({ line: lineNo, message: `line is ${lines[i].length} characters long (limit ${KNOWN_HOSTS_MAX_LINE}); skipped` });
      continue;
    }
    const trimmed = lines[i].replace(/\r$/, '').trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/[ \t]+/);
    let marker: KnownHostMarker = null;
    if (fields[0].startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else {
        problems.push({ line: lineNo, message: `unknown marker ${m}` });
        continue;
      }
    }
    if (fields.length < 3) {
      problems.push({ line: lineNo, message: 'expected: hosts key-type base64-key [comment]' });
      continue;
    }
    const [hostField, keyType, b64, ...rest] = fields;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
      problems.push({ line: lineNo, message: 'key is not base64' });
      continue;
    }
    const key = Buffer.from(b64, 'base64');
    const blobType = keyTypeOfBlob(key);
    if (blobType !== keyType) {
      problems.push({ line: lineNo, message: `key blob type ${blobType ?? '?'} does not match ${keyType}` });
      continue;
    }
    let patterns: string[] | null = null;
    let hashed: { salt: Buffer; hash: Buffer } | null = null;
    if (hostField.startsWith('|')) {
      hashed = parseHashed(hostField);
      if (!hashed) {
        problems.push({ line: lineNo, message: 'malformed hashed host name' });
        continue;
      }
    } else {
      patterns = hostField.split(',').filter((p) => p.length > 0);
    }
    entries.push({ line: lineNo, marker, patterns, hashed, keyType, key, comment: rest.join(' ') });
  }
  return { entries, problems };
}

function ref(e: KnownHostEntry): KnownKeyRef {
  return { line: e.line, keyType: e.keyType, fingerprint: fingerprintSha256(e.key) };
}

/** OpenSSH's decision for `key` presented by host:port. */
export function checkHostKey(parsed: ParsedKnownHosts, host: string, port: number, keyBlob: Uint8Array): HostKeyVerdict {
  const name = hostLookupName(host, port);
  const key = Buffer.from(keyBlob);
  const keyType = keyTypeOfBlob(key) ?? 'unknown';
  const fingerprint = fingerprintSha256(key);
  const matching = parsed.entries.filter((e) => entryMatchesName(e, name));
  const base = { host, port, lookupName: name, keyType, fingerprint };

  const revoked = matching.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { ...base, kind: 'revoked', line: revoked.line };

  const plain = matching.filter((e) => e.marker === null);
  const same = plain.find((e) => e.key.equals(key));
  if (same) return { ...base, kind: 'known', line: same.line };

  const sameType = plain.filter((e) => e.keyType === keyType);
  if (sameType.length > 0) return { ...base, kind: 'changed', known: sameType.map(ref) };

  const notes: string[] = [];
  const others = plain.filter((e) => e.keyType !== keyType);
  if (others.length > 0) {
    notes.push(`keys of other types are already known for this host: ${[...new Set(others.map((e) => e.keyType))].join(', ')}`);
  }
  const cas = matching.filter((e) => e.marker === 'cert-authority');
  if (cas.length > 0) notes.push('certificate authority keys not supported yet');
  return { ...base, kind: 'unknown', notes, known: others.map(ref) };
}

/** Host key algorithms to ask for first: the types already known for this host (as OpenSSH does). */
export function preferredKeyTypes(parsed: ParsedKnownHosts, host: string, port: number): string[] {
  const name = hostLookupName(host, port);
  const out: string[] = [];
  for (const e of parsed.entries) {
    if (e.marker === null && entryMatchesName(e, name) && !out.includes(e.keyType)) out.push(e.keyType);
  }
  return out;
}

export interface ReplaceRecord {
  time: string;
  host: string;
  port: number;
  keyType: string;
  oldFingerprints: string[];
  newFingerprint: string;
  removedLines: number[];
  /** Wildcard/multi-host lines that also matched and were left in place. */
  keptSharedLines: number[];
  reason: string;
}

/**
 * A known_hosts file at an explicit path. Writes are atomic (temp file +
 * rename) and keep every unrelated line byte for byte.
 */
export class KnownHostsFile {
  constructor(
    readonly filePath: string,
    private readonly opts: { hashNewEntries?: boolean; auditLogPath?: string } = {},
  ) {}

  async read(): Promise<string> {
    try {
      // Bounded before reading: a host-key decision must not cost an unbounded allocation.
      const st = await fs.stat(this.filePath);
      if (st.size > KNOWN_HOSTS_MAX_BYTES) {
        throw new SshTextError('ssh.hostkey.error.knownHostsTooLarge', { bytes: st.size, max: KNOWN_HOSTS_MAX_BYTES });
      }
      return await fs.readFile(this.filePath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw e;
    }
  }

  async load(): Promise<ParsedKnownHosts> {
    return parseKnownHosts(await this.read());
  }

  async check(host: string, port: number, keyBlob: Uint8Array): Promise<HostKeyVerdict> {
    return checkHostKey(await this.load(), host, port, keyBlob);
  }

  formatLine(host: string, port: number, keyBlob: Uint8Array): string {
    const name = hostLookupName(host, port);
    const keyType = keyTypeOfBlob(keyBlob);
    if (!keyType) throw new Error('not an SSH public key blob');
    const hostField = this.opts.hashNewEntries ? formatHashedName(name) : name;
    return `${hostField} ${keyType} ${Buffer.from(keyBlob).toString('base64')}`;
  }

  /** Trust a new key (the "unknown" path, after the user saw the fingerprint). */
  async add(host: string, port: number, keyBlob: Uint8Array): Promise<void> {
    const text = await this.read();
    const verdict = checkHostKey(parseKnownHosts(text), host, port, keyBlob);
    if (verdict.kind === 'known') return;
    if (verdict.kind !== 'unknown') {
      throw new SshTextError(verdict.kind === 'revoked' ? 'ssh.hostkey.error.refuseAdd.revoked' : 'ssh.hostkey.error.refuseAdd.changed', {
        host: verdict.lookupName,
      });
    }
    const sep = text === '' || text.endsWith('\n') ? '' : '\n';
    await this.writeAtomic(text + sep + this.formatLine(host, port, keyBlob) + '\n');
  }

  /**
   * The explicit "host key changed, I know why" path. The caller passes the
   * fingerprint the user approved so a different key cannot slip in between
   * the prompt and the write. Lines naming exactly this host with a key of
   * the same type are removed; shared (wildcard / multi-host) lines are kept
   * and reported. Every replacement is appended to the audit log.
   */
  async replace(host: string, port: number, keyBlob: Uint8Array, approval: { approvedFingerprint: string; reason: string }): Promise<ReplaceRecord> {
    const fingerprint = fingerprintSha256(keyBlob);
    if (approval.approvedFingerprint !== fingerprint) {
      throw new SshTextError('ssh.hostkey.error.fingerprintMismatch', { approved: approval.approvedFingerprint, fingerprint });
    }
    if (!approval.reason.trim()) throw new SshTextError('ssh.hostkey.error.reasonRequired');
    const text = await this.read();
    const parsed = parseKnownHosts(text);
    const verdict = checkHostKey(parsed, host, port, keyBlob);
    if (verdict.kind === 'revoked') throw new SshTextError('ssh.hostkey.error.revoked', { fingerprint, host: verdict.lookupName });
    const name = hostLookupName(host, port);
    const keyType = verdict.keyType;
    const removed: number[] = [];
    const kept: number[] = [];
    const old: string[] = [];
    for (const e of parsed.entries) {
      if (e.marker !== null || e.keyType !== keyType || !entryMatchesName(e, name) || e.key.equals(Buffer.from(keyBlob))) continue;
      old.push(fingerprintSha256(e.key));
      const exact = e.hashed !== null || (e.patterns !== null && e.patterns.length === 1 && e.patterns[0].toLowerCase() === name);
      (exact ? removed : kept).push(e.line);
    }
    const lines = text.split('\n');
    const out = lines.filter((_, i) => !removed.includes(i + 1));
    let next = out.join('\n');
    if (next !== '' && !next.endsWith('\n')) next += '\n';
    if (verdict.kind !== 'known') next += this.formatLine(host, port, keyBlob) + '\n';
    await this.writeAtomic(next);
    const record: ReplaceRecord = {
      time: new Date().toISOString(),
      host,
      port,
      keyType,
      oldFingerprints: old,
      newFingerprint: fingerprint,
      removedLines: removed,
      keptSharedLines: kept,
      reason: approval.reason,
    };
    if (this.opts.auditLogPath) {
      await makeDirs(path.dirname(this.opts.auditLogPath));
      await fs.appendFile(this.opts.auditLogPath, JSON.stringify(record) + '\n', { mode: 0o600 });
    }
    return record;
  }

  private async writeAtomic(text: string): Promise<void> {
    await makeDirs(path.dirname(this.filePath), 0o700);
    let mode = 0o644;
    try {
      mode = (await fs.stat(this.filePath)).mode & 0o777;
    } catch {
      /* new file */
    }
    const tmp = `${this.filePath}.lifeboat-${process.pid}-${randomBytes(4).toString('hex')}`;
    await fs.writeFile(tmp, text, { mode });
    await fs.rename(tmp, this.filePath);
  }
}
