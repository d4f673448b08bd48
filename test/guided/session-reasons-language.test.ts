/**
 * Why a step failed or how a wait ended is journalled in English with its
 * catalog key, so the checklist and an exported report say it in their own
 * language (a Chinese walk through report 5 showed "exit 1: the result is not
 * what this step expects" in the Chinese UI), and a confirmed risk is
 * reported in the report's language. A scripted node stands in for SSH.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionService, type SessionNode } from '../../electron/services/sessions/session-service';
import { SessionStore } from '../../electron/services/sessions/session-store';
import { copyValidateOutcome } from '../../electron/services/sessions/guided-handlers';
import { playbookById, systemdEtcdRestore } from '../../shared/guided/playbooks';
import { sessionHtml, sessionMarkdown } from '../../shared/guided/export';
import { translateLocal } from '../../shared/i18n';
import { tempDir } from '../helpers/etcd';

describe('guided step reasons in the UI language', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await tempDir('guided-reasons');
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('journals the English reason with its key; the report says it and the confirmed risk in Chinese', async () => {
    let checks = 0;
    const node: SessionNode = {
      host: 'root@n1:22',
      async run(command) {
        // The backup's tar prints its SHA-256 and size; the first trailer check fails, the second passes.
        if (command.includes('sha256sum') && command.includes('tar '))
          return { code: 0, stdout: `${'ab'.repeat(32)}  /var/backups/x.tar\n10240\n`, stderr: '', truncated: false };
        if (command.includes('hash-ok'))
          return ++checks === 1 ? { code: 1, stdout: '', stderr: '', truncated: false } : { code: 0, stdout: 'hash-ok\n', stderr: '', truncated: false };
        return { code: 0, stdout: '', stderr: '', truncated: false };
      },
    };
    const store = new SessionStore(path.join(tmp, 'guided'), playbookById);
    const service = new SessionService({ store, nodeFor: () => node, sleep: async () => undefined });
    const vars = {
      unit: 'etcd.service',
      envFile: '/etc/etcd.env',
      dataDir: '/var/lib/etcd',
      memberName: 'n1',
      backup: '/var/backups/kube_etcd/etcd-1/snapshot.db',
    };
    let s = await service.create({ playbookId: systemdEtcdRestore.id, connectionId: 'c', variables: vars, language: 'en' });
    const id = s.sessionId;
    for (const step of ['overview', 'unit-state', 'check-backup']) s = await service.run(id, step);
    expect(s.status['check-backup']).toBe('failed');
    const failed = s.events.filter((e) => e.type === 'step-finished' && e.stepId === 'check-backup').at(-1);
    expect(failed).toMatchObject({ reason: 'exit 1: the result is not what this step expects', local: { key: 'guided.reason.unexpected' } });
    expect(failed?.type === 'step-finished' && failed.local ? translateLocal('zh-CN', failed.local) : '').toBe('退出码 1：结果与此步骤的预期不符');

    // A failed check leads to "This backup does not restore"; the operator goes back and checks again.
    await service.back(id, 'check-backup');
    s = await service.run(id, 'check-backup');
    expect(s.status['check-backup']).toBe('passed');
    await service.prepareChange(id, 'stop-etcd');
    await service.run(id, 'stop-etcd', { confirm: { by: 'sre' } });
    s = await service.run(id, 'wait-stopped');
    const waited = s.events.filter((e) => e.type === 'step-finished' && e.stepId === 'wait-stopped').at(-1);
    expect(waited).toMatchObject({ reason: 'after 1 poll(s)', local: { key: 'guided.reason.afterPolls', params: { polls: 1 } } });

    const zh = sessionMarkdown(s, playbookById(systemdEtcdRestore.id), 'zh-CN');
    expect(zh).toContain('_退出码 1：结果与此步骤的预期不符_');
    const risk = systemdEtcdRestore.steps.find((x) => x.id === 'stop-etcd')!.risk!;
    expect(zh).toContain(risk['zh-CN']);
    expect(zh).not.toContain(risk.en);
    expect(zh).not.toContain('the result is not what this step expects');
    // English stays English.
    expect(sessionHtml(s, playbookById(systemdEtcdRestore.id), 'en')).toContain('exit 1: the result is not what this step expects');
    await store.close();
  });

  it("the page's copy-validate outcome keeps its catalog sentences through the API (known keys only)", () => {
    const o = copyValidateOutcome({
      ok: false,
      summary: 'The directory is being written (x). Stop the engine first, or copy anyway.',
      summaryText: { key: 'ssh.copyout.changing', params: { files: 'x', bad: { no: 1 } } },
      findings: [
        { severity: 'error', text: 'engine line', local: { key: 'guided.step.copyMismatch' } },
        { severity: 'error', text: 'other', local: { key: 'no.such.key' } },
      ],
    });
    expect(o.summaryText).toEqual({ key: 'ssh.copyout.changing', params: { files: 'x' } });
    expect(o.findings[0]).toEqual({ severity: 'error', text: 'engine line', local: { key: 'guided.step.copyMismatch' } });
    expect(o.findings[1]).toEqual({ severity: 'error', text: 'other' });
  });

  it("keeps the validator's explanation of a finding and its verdict as catalog sentences beside the engine's English line", async () => {
    const node: SessionNode = { host: 'root@n1:22', run: () => Promise.reject(new Error('nothing runs in this test')) };
    const store = new SessionStore(path.join(tmp, 'guided-copy'), playbookById);
    const service = new SessionService({ store, nodeFor: () => node });
    let s = await service.create({
      playbookId: 'microk8s-dqlite',
      connectionId: 'c',
      variables: { dataDir: '/var/snap/microk8s/current/var/kubernetes/backend' },
      language: 'en',
    });
    const local = { key: 'finding.segment.batch-checksum.message', params: { index: 231 } };
    const summaryText = { key: 'validation.summary.dqlite', params: { n: 1 } };
    s = await service.copyValidated(s.sessionId, 'copy-validate', {
      ok: true,
      summary: 'dqlite would refuse to start',
      summaryText,
      findings: [{ severity: 'error', text: '0000000000001025-0000000000001495@4173896 load closed segment: data checksum mismatch', local }],
    });
    expect(s.events.find((e) => e.type === 'finding')).toMatchObject({ text: expect.stringContaining('data checksum mismatch') as string, local });
    expect(s.events.find((e) => e.type === 'note')).toMatchObject({ text: 'dqlite would refuse to start', local: summaryText });

    // A refused copy: English in the journal, the reason in the UI's language from its catalog sentence.
    const other = await service.create({ playbookId: 'microk8s-dqlite', connectionId: 'c', variables: {}, language: 'zh-CN' });
    const changing = { key: 'ssh.copyout.changing', params: { files: 'member/snap/' } };
    const refused = await service.copyValidated(other.sessionId, 'copy-validate', {
      ok: false,
      summary: translateLocal('en', changing),
      summaryText: changing,
      findings: [],
    });
    const why = refused.events.filter((e) => e.type === 'step-finished').at(-1);
    expect(why).toMatchObject({
      status: 'failed',
      reason: 'The directory is being written (member/snap/). Stop the engine first, or copy anyway.',
      local: changing,
    });
    await store.close();
  });
});
