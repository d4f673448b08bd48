/**
 * Refusals the back end sends for what the user did are said in Simplified
 * Chinese too (ApiError.localized, catalog shared/i18n/api-errors.ts):
 * - every file of electron/services is read as source: a plain `new ApiError(` (English
 *   only) must say in a comment just above it that it is a contract
 *   violation ("Contract: ..."), which only a buggy client reaches; a new
 *   user-reachable refusal without a catalog sentence fails here;
 * - every apiError.* sentence is in both catalogs and its Chinese holds no
 *   English of ours (test/helpers/zh-english.ts);
 * - a real round trip through the SSH service's `ssh.profiles.save`: a
 *   300-character name, a name with a tab and other unusable fields are
 *   refused with the catalog sentence, its zh-CN rendering compared by value.
 */
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../electron/services/api-error';
import { SshService, type SshCallContext } from '../../electron/services/ssh/ssh-service';
import { hasMessage, MESSAGES, translate } from '../../shared/i18n';
import apiErrors from '../../shared/i18n/api-errors';
import { englishLeaks } from '../helpers/zh-english';

const ROOT = path.resolve(__dirname, '../..');

/** Every service file (api-error.ts itself builds the localized ones): a new file is checked as soon as it exists. */
const SERVICES = readdirSync(path.join(ROOT, 'electron/services'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts') && f !== 'api-error.ts')
  .map((f) => path.join('electron/services', f))
  .sort();

/** How many lines above a plain `new ApiError(` its "Contract:" comment may be. */
const CONTRACT_WINDOW = 8;

/** Plain `new ApiError(` sites of `file` that neither pass a catalog text on nor say they are a contract violation. */
function unmarkedPlainErrors(file: string): string[] {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const problems: string[] = [];
  lines.forEach((line, i) => {
    if (!line.includes('new ApiError(')) return;
    // Passing on an error that carries its own catalog text (a worker's, SudoError's).
    if (/new ApiError\([^;]*\.text\)/.test(line)) return;
    const above = lines.slice(Math.max(0, i - CONTRACT_WINDOW), i + 1);
    if (above.some((l) => /\/\/.*\bContract\b/.test(l))) return;
    problems.push(`${file}:${i + 1}: ${line.trim()}`);
  });
  return problems;
}

/** Catalog keys named literally by ApiError.localized in `file`. */
function literalKeys(file: string): string[] {
  const src = readFileSync(path.join(ROOT, file), 'utf8');
  return [...src.matchAll(/ApiError\.localized\(\s*'[a-z-]+',\s*'([A-Za-z0-9.-]+)'/g)].map((m) => m[1]!);
}

describe('back-end refusals in Chinese: the source', () => {
  it('every plain English ApiError of the services is marked as a contract violation', () => {
    expect(SERVICES.length).toBeGreaterThan(20);
    expect(SERVICES).toContain('electron/services/ssh/profiles.ts');
    expect(SERVICES.flatMap(unmarkedPlainErrors)).toEqual([]);
  });

  it('every key ApiError.localized names is in both catalogs', () => {
    const keys = SERVICES.flatMap(literalKeys);
    expect(keys.length).toBeGreaterThan(30);
    expect(keys.filter((k) => !hasMessage(k, 'en') || !hasMessage(k, 'zh-CN'))).toEqual([]);
  });

  it('every apiError sentence has Chinese without English of ours, whatever names or paths it is given', () => {
    const keys = Object.keys(apiErrors.en);
    expect(keys.length).toBeGreaterThan(50);
    const problems: string[] = [];
    for (const key of keys) {
      const template = MESSAGES['zh-CN'][key]!;
      // Every parameter is the user's data (a path, a name, a step title, an OS reason): a neutral digit.
      const params = Object.fromEntries([...template.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => [m[1]!, '0']));
      const zh = translate('zh-CN', key, params);
      // ssh-agent is the tool's name, as the SSH form's own Chinese label keeps it ("使用 ssh-agent").
      const leaks = englishLeaks(zh.replaceAll('ssh-agent', ' '), new Set());
      if (leaks.length > 0) problems.push(`${key}: [${leaks.join(', ')}] in ${zh}`);
      if (zh === translate('en', key, params)) problems.push(`${key}: not translated`);
    }
    expect(problems).toEqual([]);
  });
});

describe('back-end refusals in Chinese: saving a connection (ssh.profiles.save)', () => {
  let tmp: string;
  let ssh: SshService;
  const ctx: SshCallContext = { transport: 'electron', emit: () => undefined };
  const node = { host: 'cp1.example', port: 22, user: 'ops' };

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-profile-zh-'));
    ssh = new SshService({
      paths: {
        keysDir: path.join(tmp, 'ssh'),
        sshConfigPath: path.join(tmp, 'ssh', 'config'),
        knownHostsPath: path.join(tmp, 'known_hosts'),
        auditLogPath: path.join(tmp, 'audit.log'),
        recordingsDir: null,
        copiesRoot: path.join(tmp, 'copies'),
      },
      sessions: { profilesPath: path.join(tmp, 'profiles.json'), secretsPath: path.join(tmp, 'secrets.json') },
    });
  });
  afterAll(async () => {
    await ssh?.shutdown();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  async function refusal(params: { label: string; target: unknown }): Promise<ApiError> {
    const e = await ssh.handlers['ssh.profiles.save'](params as never, ctx).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }

  it('a 300-character name is refused with the catalog sentence, in English and in Chinese', async () => {
    const e = await refusal({ label: 'x'.repeat(300), target: node });
    expect(e.code).toBe('bad-params');
    expect(e.text).toEqual({ key: 'apiError.profile.label.tooLong', params: { max: 200 } });
    expect(e.message).toBe('The name is longer than 200 characters: shorten it, then save.');
    expect(translate('zh-CN', e.text!.key, e.text!.params)).toBe('名称最长 200 个字符，请缩短后再保存。');
    // Nothing was saved.
    expect(await ssh.handlers['ssh.profiles.list']({}, ctx)).toEqual([]);
  });

  it('a name with a tab, and the other fields a user can get wrong, are each said from the catalog', async () => {
    const cases: [{ label: string; target: unknown }, string, string][] = [
      [{ label: 'lab\tnode', target: node }, 'apiError.profile.label.characters', '名称中含有不允许的字符（制表符或换行），请删除后再保存。'],
      [
        { label: '', target: { ...node, host: 'my node' } },
        'apiError.profile.host.characters',
        '主机中含有不允许的字符（空格、制表符或换行），请删除后再保存。',
      ],
      [{ label: '', target: { ...node, user: '  ' } }, 'apiError.profile.user.required', '请填写用户：登录节点所用的用户名。'],
      [{ label: '', target: { ...node, port: 70000 } }, 'apiError.profile.port.range', '端口必须是 1 到 65535 之间的整数，请改正后再保存。'],
      [
        { label: '', target: { ...node, identityFiles: ['~/.ssh/id_ed25519', 'a\nb'] } },
        'apiError.profile.keyFile.characters',
        '第 2 个密钥文件的路径中含有不允许的字符（制表符或换行），请删除后再保存。',
      ],
      [
        { label: '', target: { ...node, jumps: [{ host: 'bastion', port: 0, user: 'jump' }] } },
        'apiError.profile.jump.port.range',
        '第 1 个跳板机：端口必须是 1 到 65535 之间的整数，请改正后再保存。',
      ],
      [
        { label: '', target: { ...node, jumps: [node, { host: '', user: 'jump' }] } },
        'apiError.profile.jump.host.required',
        '第 2 个跳板机：请填写主机，即跳板机的主机名或地址。',
      ],
      [
        { label: '', target: { ...node, jumps: Array.from({ length: 9 }, () => node) } },
        'apiError.profile.jumps.tooMany',
        '一条链最多 8 个跳板机，请缩短跳板机列表后再保存。',
      ],
    ];
    for (const [params, key, zh] of cases) {
      const e = await refusal(params);
      expect(e.text?.key, JSON.stringify(params)).toBe(key);
      expect(e.message).toBe(translate('en', key, e.text!.params));
      expect(translate('zh-CN', key, e.text!.params)).toBe(zh);
    }
  });

  it('a malformed request (only a buggy client sends one) stays an English contract error', async () => {
    const e = await refusal({ label: 'x', target: { ...node, useAgent: 'yes' } });
    expect(e.code).toBe('bad-params');
    expect(e.text).toBeUndefined();
    expect(e.message).toBe('useAgent must be true or false');
  });
});
