/**
 * known_hosts behaviour checked against OpenSSH's own tools: ssh-keygen
 * prints the fingerprints, hashes entries (-H) and finds hosts (-F); our
 * parser must agree with it.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KnownHostsFile,
  checkHostKey,
  fingerprintSha256,
  hostLookupName,
  parseKnownHosts,
  patternListMatches,
  wildcardMatch,
} from '../../electron/services/ssh/known-hosts';
import { generateKey, makeTempDir, toolAvailable, type KeyPair } from '../helpers/sshd';

const run = promisify(execFile);
const haveKeygen = toolAvailable('/usr/bin/ssh-keygen');

function blob(k: KeyPair): Buffer {
  return Buffer.from(k.publicLine.split(/\s+/)[1], 'base64');
}

describe.skipIf(!haveKeygen)('known_hosts', () => {
  let dir: string;
  let a: KeyPair; // ed25519
  let b: KeyPair; // another ed25519 (the "rebuilt node")
  let r: KeyPair; // rsa

  beforeAll(async () => {
    dir = await makeTempDir('lifeboat-kh-');
    a = await generateKey(dir, 'a', { type: 'ed25519' });
    b = await generateKey(dir, 'b', { type: 'ed25519' });
    r = await generateKey(dir, 'r', { type: 'rsa' });
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('prints SHA256 fingerprints exactly like ssh-keygen -lf', () => {
    for (const k of [a, b, r]) expect(fingerprintSha256(blob(k))).toBe(k.fingerprint);
  });

  it('uses [host]:port for non-default ports', () => {
    expect(hostLookupName('Node1.Example', 22)).toBe('node1.example');
    expect(hostLookupName('10.0.0.5', 2222)).toBe('[10.0.0.5]:2222');
  });

  it('matches wildcards and negation like OpenSSH', () => {
    expect(wildcardMatch('node1.k8s.lan', '*.k8s.lan')).toBe(true);
    expect(wildcardMatch('node1.k8s.lan', 'node?.k8s.lan')).toBe(true);
    expect(wildcardMatch('node12.k8s.lan', 'node?.k8s.lan')).toBe(false);
    expect(wildcardMatch('a'.repeat(5000), '*a*a*a*a*a*a*a*b')).toBe(false); // no blow-up
    expect(patternListMatches('node1.k8s.lan', ['*.k8s.lan', '!node1.k8s.lan'])).toBe(false);
    expect(patternListMatches('node2.k8s.lan', ['*.k8s.lan', '!node1.k8s.lan'])).toBe(true);
    expect(patternListMatches('[10.0.0.5]:2222', ['[10.0.0.5]:2222', 'other'])).toBe(true);
  });

  it('agrees with ssh-keygen -F on hashed entries (ssh-keygen -H)', async () => {
    const file = path.join(dir, 'kh-hashed');
    const alg = a.publicLine.split(' ')[0];
    const key64 = a.publicLine.split(' ')[1];
    await fs.writeFile(file, `node1.k8s.lan ${alg} ${key64}\n[10.1.2.3]:2222 ${alg} ${key64}\n`);
    await run('ssh-keygen', ['-H', '-f', file]);
    const text = await fs.readFile(file, 'utf8');
    expect(text).toMatch(/^\|1\|/m);
    expect(text).not.toContain('node1.k8s.lan');
    const parsed = parseKnownHosts(text);
    expect(parsed.problems).toEqual([]);
    for (const [host, port] of [
      ['node1.k8s.lan', 22],
      ['10.1.2.3', 2222],
    ] as const) {
      const found = await run('ssh-keygen', ['-F', hostLookupName(host, port), '-f', file]).then(
        () => true,
        () => false,
      );
      expect(found).toBe(true);
      expect(checkHostKey(parsed, host, port, blob(a)).kind).toBe('known');
    }
    const notFound = await run('ssh-keygen', ['-F', 'node2.k8s.lan', '-f', file]).then(
      () => true,
      () => false,
    );
    expect(notFound).toBe(false);
    expect(checkHostKey(parsed, 'node2.k8s.lan', 22, blob(a)).kind).toBe('unknown');
    // The same host on another port is a different entry.
    expect(checkHostKey(parsed, '10.1.2.3', 22, blob(a)).kind).toBe('unknown');
  });

  it('gives known / changed / unknown-other-type / revoked / cert-authority verdicts', () => {
    const [algA, kA] = a.publicLine.split(' ');
    const [algB, kB] = b.publicLine.split(' ');
    const text = [
      '# comment',
      `node1,node1.k8s.lan ${algA} ${kA}`,
      `@revoked * ${algB} ${kB}`,
      `@cert-authority *.ca.lan ${algA} ${kA}`,
      'garbage line',
      `broken ${algA} not!base64`,
    ].join('\n');
    const parsed = parseKnownHosts(text);
    expect(parsed.entries).toHaveLength(3);
    expect(parsed.problems.map((p) => p.line)).toEqual([5, 6]);

    const known = checkHostKey(parsed, 'node1', 22, blob(a));
    expect(known).toMatchObject({ kind: 'known', line: 2 });

    const revoked = checkHostKey(parsed, 'node1', 22, blob(b));
    expect(revoked).toMatchObject({ kind: 'revoked', line: 3, fingerprint: b.fingerprint });

    const changed = checkHostKey(parseKnownHosts(`node1 ${algA} ${kA}`), 'node1', 22, blob(b));
    expect(changed.kind).toBe('changed');
    if (changed.kind === 'changed') expect(changed.known).toEqual([{ line: 1, keyType: 'ssh-ed25519', fingerprint: a.fingerprint }]);

    const otherType = checkHostKey(parsed, 'node1', 22, blob(r));
    expect(otherType.kind).toBe('unknown');
    if (otherType.kind === 'unknown') expect(otherType.notes.join()).toMatch(/other types.*ssh-ed25519/);

    const ca = checkHostKey(parsed, 'x.ca.lan', 22, blob(r));
    expect(ca.kind).toBe('unknown');
    if (ca.kind === 'unknown') expect(ca.notes).toContain('certificate authority keys not supported yet');
  });

  it('adds entries (plain and hashed) that ssh-keygen -F can find', async () => {
    for (const hash of [false, true]) {
      const file = path.join(dir, `kh-add-${hash}`);
      await fs.writeFile(file, '# keep me\nunrelated ssh-ed25519 ' + b.publicLine.split(' ')[1]); // no trailing newline
      const kh = new KnownHostsFile(file, { hashNewEntries: hash });
      await kh.add('10.9.9.9', 2201, blob(a));
      const text = await fs.readFile(file, 'utf8');
      expect(text.startsWith('# keep me\nunrelated ssh-ed25519 ')).toBe(true);
      const { stdout } = await run('ssh-keygen', ['-F', '[10.9.9.9]:2201', '-f', file]);
      expect(stdout).toContain(a.publicLine.split(' ')[1]);
      expect((await kh.check('10.9.9.9', 2201, blob(a))).kind).toBe('known');
      // A changed key must not be addable through the "unknown" path.
      await expect(kh.add('10.9.9.9', 2201, blob(b))).rejects.toThrow(/changed/);
    }
  });

  it('replaces a changed key only with the approved fingerprint, and logs it', async () => {
    const file = path.join(dir, 'kh-replace');
    const audit = path.join(dir, 'audit.jsonl');
    const [algA, kA] = a.publicLine.split(' ');
    await fs.writeFile(file, `other ${algA} ${kA}\n[node1]:2222 ${algA} ${kA}\n*.lan,[node1]:2222 ${algA} ${kA}\n`);
    const kh = new KnownHostsFile(file, { auditLogPath: audit });
    expect((await kh.check('node1', 2222, blob(b))).kind).toBe('changed');
    await expect(kh.replace('node1', 2222, blob(b), { approvedFingerprint: a.fingerprint, reason: 'rebuilt' })).rejects.toThrow(/does not match/);
    await expect(kh.replace('node1', 2222, blob(b), { approvedFingerprint: b.fingerprint, reason: ' ' })).rejects.toThrow(/reason/);
    const rec = await kh.replace('node1', 2222, blob(b), { approvedFingerprint: b.fingerprint, reason: 'node rebuilt' });
    expect(rec.removedLines).toEqual([2]);
    expect(rec.keptSharedLines).toEqual([3]);
    expect(rec.oldFingerprints).toEqual([a.fingerprint, a.fingerprint]);
    expect((await kh.check('node1', 2222, blob(b))).kind).toBe('known');
    expect((await kh.check('other', 22, blob(a))).kind).toBe('known');
    const log = (await fs.readFile(audit, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { newFingerprint: string; reason: string });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ newFingerprint: b.fingerprint, reason: 'node rebuilt' });
  });
});
