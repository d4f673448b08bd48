/**
 * Texts found wrong on a walk through the UI (test/e2e/qa-walk.test.ts has the
 * ones that need a browser): each case says what the operator saw.
 */
import { describe, expect, it } from 'vitest';
import { translate } from '../../shared/i18n';

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
