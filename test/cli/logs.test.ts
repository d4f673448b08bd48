/**
 * `lifeboat logs`: the field reports' own log files give the failure story an
 * operator needs at the console, in cause-to-effect order.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import * as path from 'node:path';
import { FIELD_REPORTS } from '../helpers/field-reports';
import { ensureBuilt } from './fixtures';

const BIN = path.join(__dirname, '..', '..', 'bin', 'lifeboat.cjs');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: FIELD_REPORTS, encoding: 'utf8' });

describe('lifeboat logs', () => {
  beforeAll(async () => {
    await ensureBuilt();
  });

  it('tells the kubeadm story: etcd bbolt panic, then the apiserver, then CrashLoopBackOff (kubelet in local time)', () => {
    const r = run(['logs', 'kubeadm-etcd-bbolt-panic.log=etcd', 'kubeadm-apiserver.log=apiserver', 'kubeadm-kubelet-journal.log=kubelet@+08:00']);
    expect(r.status).toBe(1);
    const story = r.stdout.slice(r.stdout.indexOf('What probably happened'), r.stdout.indexOf('Failure signatures'));
    const steps = story.split('\n').filter((l) => /^\s+\d+\. /.test(l));
    expect(steps[0]).toContain('etcd crashed reading its database (bbolt)');
    expect(steps[1]).toContain('API server cannot reach etcd at 127.0.0.1:2379');
    expect(steps[2]).toContain('crash-looping');
    // With the kubelet's zone given, no clock-skew note.
    expect(r.stdout).not.toMatch(/away from the other sources/);
  });

  it('names the broken dqlite segment, batch and byte offset from the MicroK8s journal, as JSON', () => {
    const r = run(['logs', 'microk8s-k8s-dqlite-journal.log', '--json']);
    expect(r.status).toBe(1);
    const a = JSON.parse(r.stdout) as { matches: { signatureId: string; fields: Record<string, string> }[] };
    const m = a.matches.find((x) => x.signatureId === 'dqlite.closed-segment-batch');
    expect(m?.fields).toMatchObject({ segment: '0000000014232389-0000000014232597', batch: '394', offset: '8384000' });
  });

  it('exits 0 on a log with nothing known, and 2 on bad usage', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-logs-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const quiet = path.join(dir, 'quiet.log');
    writeFileSync(quiet, 'Mar 13 12:00:00 node systemd[1]: Started Session 1 of user root.\n');
    const r = run(['logs', quiet]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('No known failure signature matched.');
    expect(run(['logs']).status).toBe(2);
    expect(run(['logs', 'kubeadm-apiserver.log', '--zone', 'Mars/Olympus']).status).toBe(2);
  });
});
