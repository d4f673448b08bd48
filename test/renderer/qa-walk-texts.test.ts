/**
 * Texts found wrong on a walk through the UI (test/e2e/qa-walk.test.ts has the
 * ones that need a browser): each case says what the operator saw.
 */
import { describe, expect, it } from 'vitest';
import { translate, type MessageParams } from '../../shared/i18n';
import { progressText } from '../../renderer/src/features/etcd-repair/model';

describe('permission denied on the node, for a normal login and for root', () => {
  // The back end cannot tell a root login apart here: one sentence must fit both.
  const keys = ['ssh.error.sftpPermissionDenied', 'ssh.copyout.error.readDenied'] as const;

  it.each(keys)('%s: "Use sudo" is offered to a login that is not root, and root is told why sudo will not help', (key) => {
    const en = translate('en', key, { user: 'root', path: '/var/lib/etcd' });
    expect(en).toMatch(/^permission denied: root cannot read \/var\/lib\/etcd/);
    // Not a bare order to tick sudo (root already reads as root) ...
    expect(en).not.toMatch(/\. Tick "Use sudo"/);
    expect(en).toMatch(/If that user is not root, tick "Use sudo"/);
    // ... and what refuses root instead.
    expect(en).toMatch(/If the login is root already, sudo will not help: .*root_squash.*SELinux/);
    const zh = translate('zh-CN', key, { user: 'root', path: '/var/lib/etcd' });
    expect(zh).toMatch(/^权限被拒绝：root /);
    expect(zh).toContain('登录用户不是 root 时，勾选“使用 sudo”');
    expect(zh).toContain('如果登录用户已经是 root，sudo 也无济于事');
    expect(zh).not.toContain('而非 root');
  });
});

describe('the repair panel names each phase the back end reports', () => {
  const tr = (locale: 'en' | 'zh-CN') => (key: string, params?: MessageParams) => translate(locale, key, params);
  const bytes = (n: number): string => `${n} B`;

  it('opening the input and writing the new db are said, not a bare "Working"', () => {
    const opening = { phase: 'export: opening the input', bytesDone: 0, bytesTotal: 0, currentFile: null };
    expect(progressText(opening, tr('en'), bytes)).toBe('Reading the input');
    expect(progressText(opening, tr('zh-CN'), bytes)).toBe('正在读取输入');
    const writing = { phase: 'salvage: writing the new db', bytesDone: 1024, bytesTotal: 4096, currentFile: null };
    expect(progressText(writing, tr('en'), bytes)).toBe('Writing the new db · 1024 B / 4096 B');
    expect(progressText(writing, tr('zh-CN'), bytes)).toBe('正在写新的 db · 1024 B / 4096 B');
    // bbolt-db.ts reports its page reads as 'bbolt'.
    expect(progressText({ phase: 'bbolt', bytesDone: 1, bytesTotal: 2, currentFile: 'member/snap/db' }, tr('en'), bytes)).toBe('Reading pages · 1 B / 2 B');
  });
});

describe('a WAL loss with no readable db', () => {
  it('does not say "index none"', () => {
    expect(translate('en', 'etcd-loss.held.none')).toBe('there is no readable db to fall back on');
    expect(translate('en', 'etcd-loss.held.none')).not.toContain('index none');
    expect(translate('zh-CN', 'etcd-loss.held.none')).toBe('没有可读的 db 可作后备');
  });
});

describe('hints name the header button as the header shows it', () => {
  it.each(['en', 'zh-CN'] as const)('%s', (locale) => {
    const button = translate(locale, 'ssh.workspace.title');
    expect(translate(locale, 'guided.startHint')).toContain(button);
    expect(translate(locale, 'etcdRepairUi.needsBackend')).toContain(`“${button}”`);
    // Inside Nodes (SSH) the hint points at the form on screen, not at the button that opened it.
    expect(translate(locale, 'guided.connectFirstHere')).toContain(`“${translate(locale, 'ssh.connect.title')}”`);
    expect(translate(locale, 'guided.connectFirstHere')).not.toContain(button);
  });
});

describe('Chinese quotes an engine’s words with “ ”, as the etcd texts do', () => {
  it.each(['dqlite.summary.fails', 'finding.listing.empty-segment.message', 'finding.listing.block-aligned-closed.message'])('%s', (key) => {
    const zh = translate('zh-CN', key, { error: 'entries count in preamble is zero', plan: '', file: 'f', blocks: 2 });
    expect(zh).toMatch(/“[a-z][^”]*”/);
    expect(zh).not.toContain('"');
  });
});

describe('English counts agree in number', () => {
  it.each([
    ['ssh.node.listingLead', /^1 entry, placed/, /^3 entries, placed/],
    ['listing.view.lead', /^1 file, placed/, /^3 files, placed/],
    ['ssh.copy.differ', /^1 file differs from/, /^3 files differ from/],
    ['segmentMap.tip.findings', /^1 finding$/, /^3 findings$/],
    ['etcdUi.pages.scale', /^1 page per square$/, /^3 pages per square$/],
  ])('%s', (key, one, many) => {
    expect(translate('en', key, { n: 1 })).toMatch(one);
    expect(translate('en', key, { n: 3 })).toMatch(many);
  });
});

describe('the logs summary line', () => {
  it('capitalises each of its three labels alike', () => {
    expect(translate('en', 'logs.view.summary', { sources: 3, records: 21, matches: 14 })).toBe('Sources: 3 · Records: 21 · Recognised failure lines: 14');
  });
});
