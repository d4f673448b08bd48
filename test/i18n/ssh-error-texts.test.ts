/**
 * SSH errors carry a catalog key and params, so the UI says them in its language: every key
 * an error can carry has an English and a Chinese text with the same placeholders, the
 * English message is exactly the English text, and the key travels on the wire.
 */
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../electron/services/core-handlers';
import { HostKeyRejectedError, SudoError } from '../../electron/services/ssh/connection';
import { ApiError } from '../../electron/services/api-error';
import { describeConnectError, NETWORK_ERROR_KEYS, SSH_TEXT_ERROR_KEYS, SshNetworkError, SshTextError } from '../../electron/services/ssh/network-error';
import { KnownHostsFile } from '../../electron/services/ssh/known-hosts';
import { englishLeaks } from '../helpers/zh-english';
import { copyOutError, CopyOutError } from '../../electron/services/ssh/copy-out';
import {
  AUTH_ERROR_KEYS,
  COPY_OUT_ERROR_KEYS,
  copyOutText,
  explainSftpError,
  explainSudoError,
  normaliseRemotePath,
  REMOTE_ERROR_KEYS,
  SUDO_SOURCE_ERROR_KEYS,
} from '../../electron/services/ssh/remote-errors';
import { parseSudoListing, SudoSourceError } from '../../electron/services/ssh/sudo-source';
import { CopyOutService } from '../../electron/services/ssh/copy-out-service';
import type { SshConnectionService } from '../../electron/services/ssh/connection-service';
import { MESSAGES, translate } from '../../shared/i18n';
import type { CallContext } from '../../electron/services/registry';

const CJK = /[\u4e00-\u9fff]/;
const placeholders = (s: string) => [...s.matchAll(/\{([A-Za-z0-9_]+)/g)].map((m) => m[1]).sort();

function sysErr(code: string): Error {
  return Object.assign(new Error(`connect ${code} 10.1.2.3:2222`), { code });
}

describe('SSH error texts', () => {
  const keys = [...NETWORK_ERROR_KEYS, ...REMOTE_ERROR_KEYS, ...COPY_OUT_ERROR_KEYS, ...AUTH_ERROR_KEYS, ...SUDO_SOURCE_ERROR_KEYS, ...SSH_TEXT_ERROR_KEYS];

  it.each(keys)('%s has English and Chinese with the same placeholders', (key) => {
    const en = MESSAGES.en[key];
    const zh = MESSAGES['zh-CN'][key];
    expect(en).toMatch(/\w/);
    expect(zh).toMatch(CJK);
    expect(zh).not.toBe(en);
    expect(placeholders(zh)).toEqual(placeholders(en));
  });

  it('every ssh.error.* text in the catalog is one an error can carry (none forgotten in the lists)', () => {
    const inCatalog = Object.keys(MESSAGES.en).filter(
      (k) =>
        k.startsWith('ssh.error.') ||
        k.startsWith('ssh.copyout.error.') ||
        k.startsWith('ssh.sudo.error.') ||
        k.startsWith('ssh.hostkey.error.') ||
        k === 'ssh.hostkey.unknownRefused',
    );
    expect(inCatalog.sort()).toEqual([...keys].sort());
  });

  const where = { host: 'node-1.lab', port: 2222 };
  it.each([
    ['ECONNREFUSED', 'ssh.error.refused', where],
    ['ENOTFOUND', 'ssh.error.hostNotFound', where],
    ['EAI_AGAIN', 'ssh.error.dnsNoAnswer', where],
    ['ETIMEDOUT', 'ssh.error.timeout', where],
    ['EHOSTUNREACH', 'ssh.error.noRoute', where],
    ['ENETUNREACH', 'ssh.error.noRoute', where],
    ['ECONNRESET', 'ssh.error.closedEarly', where],
    ['EPIPE', 'ssh.error.closedEarly', where],
  ])('%s carries %s, its message the English text', (code, key, params) => {
    const e = describeConnectError(sysErr(code), where) as SshNetworkError;
    expect(e).toBeInstanceOf(SshNetworkError);
    expect(e.text).toEqual({ key, params });
    expect(e.message).toBe(translate('en', key, params));
    // The Chinese rendering names the same host and port.
    expect(translate('zh-CN', e.text.key, e.text.params)).toContain('node-1.lab');
  });

  it('a handshake timeout carries the wait in seconds', () => {
    const e = describeConnectError(
      Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' }),
      where,
      20_000,
    ) as SshNetworkError;
    expect(e.text).toEqual({ key: 'ssh.error.timeoutWithin', params: { host: 'node-1.lab', port: 2222, seconds: 20 } });
    expect(translate('zh-CN', e.text.key, e.text.params)).toBe(
      'node-1.lab:2222 在 20 秒内没有 SSH 应答。请检查地址和端口，以及本机与节点之间的防火墙或 VPN；仍在启动的节点稍后才会应答。',
    );
  });

  it('SFTP refusals and bad remote paths carry their texts', () => {
    const denied = explainSftpError({ code: 3 }, '/var/snap/microk8s/current/var/kubernetes/backend', 'ubuntu') as ApiError;
    expect(denied.code).toBe('permission-denied');
    expect(denied.text).toEqual({
      key: 'ssh.error.sftpPermissionDenied',
      params: { user: 'ubuntu', path: '/var/snap/microk8s/current/var/kubernetes/backend' },
    });
    expect(denied.message).toMatch(/^permission denied: ubuntu cannot read \/var\/snap\/microk8s\/current\/var\/kubernetes\/backend over SFTP/);
    const missing = explainSftpError({ code: 2 }, '/nope', 'ubuntu') as ApiError;
    expect([missing.code, missing.message, missing.text]).toEqual([
      'not-found',
      '/nope does not exist on the node',
      { key: 'ssh.error.notFound', params: { path: '/nope' } },
    ]);
    expect(() => normaliseRemotePath('relative/dir')).toThrow(
      expect.objectContaining({ code: 'bad-params', text: { key: 'ssh.error.pathRelative', params: { path: 'relative/dir' } } }) as Error,
    );
    expect(() => normaliseRemotePath('  ')).toThrow(expect.objectContaining({ code: 'bad-params', text: { key: 'ssh.error.pathEmpty' } }) as Error);
  });

  it('copy-out texts render the messages the copy-out code prints today, and carry key + params', () => {
    expect(copyOutText('ssh.copyout.error.shorter', { path: '/var/snap/microk8s/current/var/kubernetes/backend/open-3', at: 4096 })).toEqual({
      message: '/var/snap/microk8s/current/var/kubernetes/backend/open-3 is shorter than listed (EOF at 4096)',
      text: { key: 'ssh.copyout.error.shorter', params: { path: '/var/snap/microk8s/current/var/kubernetes/backend/open-3', at: 4096 } },
    });
    expect(copyOutText('ssh.copyout.error.interrupted', { file: 'open-3', done: 10, size: 8388608, error: 'read ECONNRESET' }).message).toBe(
      'copy of open-3 interrupted at 10/8388608 bytes: read ECONNRESET',
    );
    expect(copyOutText('ssh.copyout.error.cancelled')).toEqual({ message: 'cancelled', text: { key: 'ssh.copyout.error.cancelled' } });
    expect(translate('zh-CN', 'ssh.copyout.error.hashFailed', { code: 1, stderr: 'sha256sum: x: Permission denied' })).toBe(
      '节点上的 `sha256sum` 失败（退出码 1）：sha256sum: x: Permission denied',
    );
  });

  // The messages the copy-out code built by hand before it used the catalog: the CLI prints exactly these still.
  it.each([
    ['ssh.copyout.error.listingNoClock', { path: '/b' }, 'unexpected listing output for /b (no clock line)'],
    [
      'ssh.copyout.error.listingNotRecords',
      { path: '/b', bytes: 17, fields: 5 },
      'unexpected listing output for /b (17 bytes, not NUL-terminated records of 5 fields)',
    ],
    [
      'ssh.copyout.error.listingBadRecord',
      { path: '/b', field: 10, size: '"x"', mtime: '"1.5"', ctime: '"2"' },
      'unexpected listing record for /b at field 10: size "x", times "1.5" "2"',
    ],
    ['ssh.copyout.error.listingNoRoot', { path: '/b' }, 'the listing of /b did not include /b itself'],
    ['ssh.copyout.error.hashingFailed', { code: 'null', stderr: 'x' }, 'hashing on the node failed (exit null): x'],
    ['ssh.copyout.error.fileInterrupted', { file: 'open-1', error: 'EIO' }, 'copy of open-1 interrupted: EIO'],
    ['ssh.copyout.error.filesInterrupted', { count: 3, file: '0000001-0000009', error: 'EIO' }, 'copy of 3 files from 0000001-0000009 on interrupted: EIO'],
    ['ssh.copyout.error.readLostOf', { at: 4096, size: 8192, path: '/b/open-1' }, 'connection lost at 4096 of 8192 bytes of /b/open-1'],
    ['ssh.copyout.error.badName', { name: '"../x"', dir: '/b' }, 'refusing the remote file name "../x" in /b'],
    ['ssh.error.notFound', { path: '/b' }, '/b does not exist on the node'],
  ] as const)('%s renders the English copy-out printed before', (key, params, english) => {
    const e = copyOutError(key, params, true);
    expect(e).toBeInstanceOf(CopyOutError);
    expect([e.message, e.resumable, e.text]).toEqual([english, true, { key, params }]);
    expect(translate('zh-CN', key, params)).toMatch(CJK);
  });

  it('sudo refusals keep their English message and carry the text through explainSudoError', () => {
    const cases: [SudoError, string][] = [
      [
        new SudoError(translate('en', 'ssh.sudo.error.wrongPasswordOn', { host: 'n1' }), { key: 'ssh.sudo.error.wrongPasswordOn', params: { host: 'n1' } }),
        'sudo on n1: 3 incorrect password attempts',
      ],
      [
        new SudoError(translate('en', 'ssh.sudo.error.notInstalled'), { key: 'ssh.sudo.error.notInstalled' }),
        'sudo is not installed on the node, and the login user is not root: log in as root (root needs no sudo), or install sudo on the node',
      ],
    ];
    for (const [e, english] of cases) {
      expect(e.message).toBe(english);
      const api = explainSudoError(e) as ApiError;
      expect([api.code, api.message, api.text]).toEqual(['sudo-failed', english, e.text]);
    }
    expect(translate('en', 'ssh.sudo.error.refused', { user: 'ubuntu', host: 'n1', code: '1', stderr: 'not in sudoers' })).toBe(
      'sudo refused ubuntu on n1 (exit 1): not in sudoers',
    );
    expect(translate('zh-CN', 'ssh.sudo.error.wrongPasswordOn', { host: 'n1' })).toBe('n1 上的 sudo：密码连续 3 次错误');
  });

  it('the sudo byte source says what went wrong and what to do, in both languages, through explainSudoError', () => {
    // A listing that is not find's NUL-terminated records (a find that is not GNU find, or cut short).
    const notRecords = (() => {
      try {
        parseSudoListing(Buffer.from('0\0d\0'), '/var/lib/etcd');
      } catch (e) {
        return e;
      }
    })() as SudoSourceError;
    expect(notRecords).toBeInstanceOf(SudoSourceError);
    expect([notRecords.code, notRecords.text]).toEqual([
      'failed',
      { key: 'ssh.sudo.error.sourceListingNotRecords', params: { path: '/var/lib/etcd', bytes: 4 } },
    ]);
    expect(notRecords.message).toBe(
      "unexpected listing output for /var/lib/etcd (4 bytes, not NUL-terminated records of 6 fields). The node's find did not answer as GNU find does: copy the directory out and validate the copy instead.",
    );
    expect(translate('zh-CN', notRecords.text.key, notRecords.text.params)).toBe(
      '/var/lib/etcd 的文件列表输出异常（4 字节，不是以 NUL 结尾、每条 6 个字段的记录）。节点上的 `find` 的输出与 GNU `find` 不同：请改为把目录复制到本地后校验副本。',
    );
    const badName = (() => {
      try {
        parseSudoListing(Buffer.from('0\0d\x004096\x001.5\0etcd\0\x001\0f\x001\x001.5\0../x\0\0'), '/var/lib/etcd');
      } catch (e) {
        return e;
      }
    })() as SudoSourceError;
    expect(badName.text).toEqual({ key: 'ssh.sudo.error.sourceListingBadName', params: { path: '/var/lib/etcd', name: '"../x"' } });
    // The client error keeps the code and carries the text to the UI.
    const notDir = new SudoSourceError('not-a-directory', 'ssh.sudo.error.sourceNotDirectory', { path: '/var/lib/etcd/member/snap/db', kind: 'file' });
    const api = explainSudoError(notDir) as ApiError;
    expect([api.code, api.message, api.text]).toEqual([
      'not-a-directory',
      '/var/lib/etcd/member/snap/db is not a directory on the node (it is a file). Give the data directory itself.',
      { key: 'ssh.sudo.error.sourceNotDirectory', params: { path: '/var/lib/etcd/member/snap/db', kind: 'file' } },
    ]);
    expect(translate('zh-CN', api.text!.key, api.text!.params)).toBe('/var/lib/etcd/member/snap/db 在节点上不是目录（而是 file）。请指定数据目录本身。');
    const lost = new SudoSourceError('failed', 'ssh.sudo.error.sourceReadLost', { file: 'open-3', offset: 1048576 });
    expect(lost.message).toBe('reading open-3 at byte 1048576 as root did not finish (the connection was lost). Reconnect, then validate again.');
    expect(translate('zh-CN', lost.text.key, lost.text.params)).toBe(
      '以 root 身份从第 1048576 字节起读取 open-3 未能完成（连接已断开）。请重新连接，然后再次校验。',
    );
  });

  it("the copy-out service's job errors carry texts (unknown or unfinished job)", () => {
    // `output` only looks at the jobs it holds: no connection is needed to ask about one.
    const service = new CopyOutService({} as SshConnectionService, () => ({ copiesRoot: '/tmp/lifeboat-copies' }) as never);
    const ctx = {} as Parameters<CopyOutService['output']>[1];
    const unknown = (() => {
      try {
        service.output('job-1', ctx);
      } catch (e) {
        return e;
      }
    })() as ApiError;
    expect([unknown.code, unknown.text]).toEqual(['unknown-copy', { key: 'ssh.copyout.error.unknownJob', params: { jobId: 'job-1' } }]);
    expect(unknown.message).toBe(
      'there is no copy-out job job-1 for this window (it belongs to another window, or was forgotten). Copy the directory out again.',
    );
    expect(translate('zh-CN', unknown.text!.key, unknown.text!.params)).toBe('此窗口中没有复制任务 job-1（它属于另一个窗口，或已被遗忘）。请重新复制该目录。');
    expect(translate('zh-CN', 'ssh.copyout.error.notFinished')).toBe('该复制任务尚未完成。请等待其完成（若被中断则先续传），然后再校验副本。');
    expect(translate('zh-CN', 'ssh.copyout.error.destRelative', { path: 'copies' })).toBe(
      '目标 copies 不是绝对路径。请填写副本要存放的文件夹的完整路径（例如 /home/you/lifeboat-copies）。',
    );
  });

  it('a refused host key carries the UI text, its English message keeps every detail', () => {
    const base = { host: '10.0.0.7', port: 22, lookupName: '10.0.0.7', keyType: 'ssh-ed25519', fingerprint: 'SHA256:new' };
    const changed = new HostKeyRejectedError(
      { ...base, kind: 'changed', known: [{ line: 3, keyType: 'ssh-ed25519', fingerprint: 'SHA256:old' }] },
      Buffer.alloc(0),
    );
    expect(changed.text).toEqual({ key: 'ssh.hostkey.changed.body', params: { host: '10.0.0.7', keyType: 'ssh-ed25519', fingerprint: 'SHA256:new' } });
    expect(changed.message).toContain('SHA256:old (line 3)');
    expect(translate('zh-CN', changed.text!.key, changed.text!.params)).toContain('10.0.0.7 现在提供的是 ssh-ed25519 SHA256:new');
    const revoked = new HostKeyRejectedError({ ...base, kind: 'revoked', line: 4 }, Buffer.alloc(0));
    expect(revoked.text).toEqual({ key: 'ssh.hostkey.revoked', params: { host: '10.0.0.7' } });
    const unknown = new HostKeyRejectedError({ ...base, kind: 'unknown', notes: [], known: [] }, Buffer.alloc(0));
    expect(unknown.message).toBe('the host key ssh-ed25519 SHA256:new of 10.0.0.7 is not known and was not accepted');
    expect(unknown.text).toEqual({ key: 'ssh.hostkey.unknownRefused', params: { host: '10.0.0.7', keyType: 'ssh-ed25519', fingerprint: 'SHA256:new' } });
    expect(translate('zh-CN', unknown.text!.key, unknown.text!.params)).toContain('10.0.0.7 的主机密钥（ssh-ed25519 SHA256:new）未知且未被信任');
  });

  it('the wire carries the key and params beside the English message (ApiError and SshNetworkError)', async () => {
    const ctx = {} as CallContext;
    const refused = describeConnectError(sysErr('ECONNREFUSED'), where) as SshNetworkError;
    const handlers = {
      'ssh.connect': () => Promise.reject(refused),
      'ssh.list': () => Promise.reject(ApiError.localized('not-found', 'ssh.error.notFound', { path: '/x' })),
    } as unknown as Parameters<typeof dispatch>[0];
    expect(await dispatch(handlers, 1, 'ssh.connect', {}, ctx)).toEqual({
      type: 'error',
      id: 1,
      error: { message: translate('en', 'ssh.error.refused', where), code: 'internal', text: { key: 'ssh.error.refused', params: where } },
    });
    expect(await dispatch(handlers, 2, 'ssh.list', {}, ctx)).toEqual({
      type: 'error',
      id: 2,
      error: { message: '/x does not exist on the node', code: 'not-found', text: { key: 'ssh.error.notFound', params: { path: '/x' } } },
    });
  });
});

describe('SSH errors in Simplified Chinese have no English of ours', () => {
  /** Protocol, daemon, file and tool names an operator types or reads as they are. */
  const NAMES = new Set(['sshd', 'known_hosts', 'VPN', 'IP', 'DNS', 'root', 'GNU', 'NUL', 'Wi-Fi', 'MaxStartups', 'MaxAuthTries', 'fail2ban']);

  it('every error sentence an SSH error can carry, its placeholders filled', () => {
    const leaks: string[] = [];
    const keys = Object.keys(MESSAGES['zh-CN']).filter((k) => /^ssh\.(?:error|sudo\.error|copyout\.error|hostkey)\./.test(k));
    expect(keys.length).toBeGreaterThan(40);
    for (const key of keys) {
      // Placeholders are the node's names, paths and numbers, or (`error`, `stderr`) its own words.
      const zh = MESSAGES['zh-CN'][key]!.replace(/\{[A-Za-z0-9_]+\}/g, '0');
      const found = englishLeaks(zh, new Set(['0'])).filter((w) => !NAMES.has(w));
      if (found.length > 0) leaks.push(`${key}: [${found.join(', ')}] in "${zh}"`);
    }
    expect(leaks).toEqual([]);
  });

  it('a refused replace of a host key, an unknown connection and a lost sudo check carry their sentence; the English is as before', async () => {
    const file = new KnownHostsFile('/nonexistent/known_hosts');
    const blob = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl', 'base64');
    const e = await file.replace('node-1', 22, blob, { approvedFingerprint: 'SHA256:other', reason: 'rebuilt' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SshTextError);
    expect((e as SshTextError).message).toMatch(/^approved fingerprint SHA256:other does not match the key SHA256:/);
    expect(translate('zh-CN', (e as SshTextError).text.key, (e as SshTextError).text.params)).toMatch(/^确认过的指纹 SHA256:other 与该密钥 SHA256:\S+ 不符$/);
    const lost = new SshTextError('ssh.sudo.error.checkLost', { host: 'node-1' });
    expect(lost.message).toBe('sudo check on node-1 did not finish (connection lost)');
    expect(new SshTextError('ssh.error.connectFailed', { target: 'root@node-1:22', error: 'Unsupported key format' }).message).toBe(
      'ssh root@node-1:22: Unsupported key format',
    );
  });
});
