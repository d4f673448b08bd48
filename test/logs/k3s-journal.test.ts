/**
 * k3s and RKE2 run etcd inside their server process, so etcd's lines reach the operator through the server's
 * journal (the Logs panel's "k3s server journal" preset): `journalctl -o short-iso` puts its own time, host and
 * `k3s[PID]:` before each of etcd's JSON lines. The field report's bbolt panic read that way is told as it is read
 * from etcd itself: the same failure signatures with the same fields, in the same second (the journal's
 * `short-iso` stamp has whole seconds; etcd's own, milliseconds).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeLogText } from '../../shared/logs/analyze';
import { FIELD_REPORTS } from '../helpers/field-reports';

describe("etcd's lines in a k3s server journal", () => {
  it('match the signatures etcd’s own log matches, with the same fields, in the same second', () => {
    const raw = readFileSync(path.join(FIELD_REPORTS, 'kubeadm-etcd-bbolt-panic.log'), 'utf8');
    const journal = raw
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => `2024-03-13T04:35:41+0000 cp1 k3s[1234]: ${l}`)
      .join('\n');
    const own = analyzeLogText('etcd', raw);
    const k3s = analyzeLogText('k3s', journal);
    const seen = (a: ReturnType<typeof analyzeLogText>) => a.matches.map((m) => [m.signatureId, Math.floor((m.time ?? 0) / 1000), m.fields] as const);
    expect(seen(own).map(([id]) => id)).toContain('etcd.bbolt-freepages');
    expect(seen(k3s)).toEqual(seen(own));
  });
});
