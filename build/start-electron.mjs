#!/usr/bin/env node
// `npm start`: run the Electron shell on dist/main.cjs.
// Finds the Electron binary WITHOUT `require('electron')`: that would try to
// download it (Electron >= 42 fetches the binary lazily on first require).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const electronDir = path.join(root, 'node_modules', 'electron');

function findElectronBinary() {
  let relative = null;
  try {
    relative = readFileSync(path.join(electronDir, 'path.txt'), 'utf8').trim();
  } catch {
    // not installed
  }
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const p = path.join(override, relative || 'electron');
    return existsSync(p) ? p : null;
  }
  if (!relative) return null;
  const p = path.join(electronDir, 'dist', relative);
  return existsSync(p) ? p : null;
}

const binary = findElectronBinary();
if (!binary) {
  process.stderr.write(
    'Lifeboat: the Electron binary is not installed (offline install); on a connected machine run `npx install-electron` (or `node node_modules/electron/install.js`), or use the web UI now: `npm run start:web`\n',
  );
  process.exit(1);
}

const main = path.join(root, 'dist', 'main.cjs');
if (!existsSync(main)) {
  process.stderr.write('Lifeboat: dist/main.cjs is missing: run `npm run build` first\n');
  process.exit(1);
}

const child = spawn(binary, [main, ...process.argv.slice(2)], { stdio: 'inherit', windowsHide: false });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (err) => {
  process.stderr.write(`Lifeboat: could not start Electron (${binary}): ${err.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
