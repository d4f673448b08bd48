/**
 * Repo-wide guard: no source file may weaken the Electron baseline, and IPC
 * handlers may only be registered through the sender-checking wrapper in
 * electron/security.ts. Runs over electron/, renderer/ and shared/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '..', '..');
const SCANNED_DIRS = ['electron', 'renderer', 'shared'];
const EXTENSIONS = new Set(['.ts', '.svelte', '.js', '.mjs', '.cjs']);
/** The one file allowed to call ipcMain.handle (inside handleFromApp). */
const IPC_WRAPPER_FILE = 'electron/security.ts';

interface Rule {
  id: string;
  pattern: RegExp;
  /** Files (repo-relative) where the pattern is allowed. */
  allowedIn?: string[];
}

const q = `["']?`; // property names may be quoted
const RULES: Rule[] = [
  { id: 'nodeIntegration: true', pattern: new RegExp(`${q}nodeIntegration\\w*${q}\\s*:\\s*true`) },
  { id: 'contextIsolation: false', pattern: new RegExp(`${q}contextIsolation${q}\\s*:\\s*false`) },
  { id: 'sandbox: false', pattern: new RegExp(`${q}sandbox${q}\\s*:\\s*false`) },
  { id: 'webSecurity: false', pattern: new RegExp(`${q}webSecurity${q}\\s*:\\s*false`) },
  { id: 'allowRunningInsecureContent: true', pattern: new RegExp(`${q}allowRunningInsecureContent${q}\\s*:\\s*true`) },
  { id: 'experimentalFeatures: true', pattern: new RegExp(`${q}experimentalFeatures${q}\\s*:\\s*true`) },
  { id: 'webviewTag: true', pattern: new RegExp(`${q}webviewTag${q}\\s*:\\s*true`) },
  { id: 'enableBlinkFeatures', pattern: /enableBlinkFeatures/ },
  { id: '<webview>', pattern: /<webview[\s>]/i },
  {
    id: 'ipcMain.on/handle outside the wrapper',
    pattern: /ipcMain\s*(\.\s*|\[\s*["'`])(on|once|handle|handleOnce|addListener)\b/,
    allowedIn: [IPC_WRAPPER_FILE],
  },
  { id: 'shell.openExternal', pattern: /\bopenExternal\s*\(/ },
  { id: 'app.commandLine insecure switch', pattern: /appendSwitch\s*\(\s*["'`](disable-web-security|ignore-certificate-errors|no-sandbox)/ },
];

export function scanText(rel: string, text: string): string[] {
  const problems: string[] = [];
  const lines = text.split('\n');
  for (const rule of RULES) {
    if (rule.allowedIn?.includes(rel)) continue;
    lines.forEach((line, i) => {
      if (rule.pattern.test(line)) problems.push(`${rel}:${i + 1}: ${rule.id}: ${line.trim()}`);
    });
  }
  return problems;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...sourceFiles(p));
    else if (EXTENSIONS.has(path.extname(name))) out.push(p);
  }
  return out;
}

describe('repo-wide Electron security scan', () => {
  it('finds the sources to scan (the scan is not vacuous)', () => {
    const files = SCANNED_DIRS.flatMap((d) => sourceFiles(path.join(REPO, d))).map((f) => path.relative(REPO, f));
    expect(files).toContain('electron/main.ts');
    expect(files).toContain('electron/preload.ts');
    expect(files).toContain(IPC_WRAPPER_FILE);
  });

  it('no source file weakens webPreferences or registers IPC outside the sender check', () => {
    const problems = SCANNED_DIRS.flatMap((d) => sourceFiles(path.join(REPO, d))).flatMap((file) => {
      const rel = path.relative(REPO, file).split(path.sep).join('/');
      return scanText(rel, readFileSync(file, 'utf8'));
    });
    expect(problems).toEqual([]);
  });

  it('the IPC wrapper itself is the only ipcMain.handle and checks the sender first', () => {
    const text = readFileSync(path.join(REPO, IPC_WRAPPER_FILE), 'utf8');
    const body = text.slice(text.indexOf('export function handleFromApp'));
    const handleAt = body.indexOf('ipcMain.handle(');
    const checkAt = body.indexOf('isAllowedSender(');
    const callAt = body.indexOf('return listener(');
    expect(handleAt).toBeGreaterThan(0);
    expect(checkAt).toBeGreaterThan(handleAt);
    expect(callAt).toBeGreaterThan(checkAt);
  });

  it.each([
    ['webPreferences: { nodeIntegration: true }', 'nodeIntegration: true'],
    ["{ 'contextIsolation': false }", 'contextIsolation: false'],
    ['sandbox:false,', 'sandbox: false'],
    ['webSecurity : false', 'webSecurity: false'],
    ['allowRunningInsecureContent: true', 'allowRunningInsecureContent: true'],
    ["enableBlinkFeatures: 'X'", 'enableBlinkFeatures'],
    ['webviewTag: true', 'webviewTag: true'],
    ["ipcMain.handle('x', fn)", 'ipcMain.on/handle outside the wrapper'],
    ["ipcMain.on('x', fn)", 'ipcMain.on/handle outside the wrapper'],
    ["ipcMain['handle']('x', fn)", 'ipcMain.on/handle outside the wrapper'],
    ['shell.openExternal(url)', 'shell.openExternal'],
  ])('the scanner flags %s', (snippet, rule) => {
    const problems = scanText('electron/example.ts', snippet);
    expect(problems.length).toBe(1);
    expect(problems[0]).toContain(rule);
  });

  it('the scanner accepts the safe settings', () => {
    const safe = 'nodeIntegration: false,\ncontextIsolation: true,\nsandbox: true,\nwebSecurity: true,\nhandleFromApp(ipcMain, IPC_CALL, fn)';
    expect(scanText('electron/example.ts', safe)).toEqual([]);
  });
});
