/**
 * The packaged app's hardening lives in build/electron-builder.yml (fuses,
 * asar). Packaging needs the network, so check the configuration itself:
 * every key must be one electron-builder knows (a typo silently disables a
 * fuse) and the security-relevant values must stay as designed.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const REPO = path.resolve(__dirname, '..', '..');

interface SchemaNode {
  properties?: Record<string, unknown>;
  definitions?: Record<string, SchemaNode>;
}

const config = parse(readFileSync(path.join(REPO, 'build', 'electron-builder.yml'), 'utf8')) as Record<string, unknown> & {
  electronFuses: Record<string, boolean>;
  files: string[];
  asarUnpack: string[];
  extraResources: { from: string; to: string }[];
  linux: { target: string[] };
  mac: { target: string };
  win: { target: string };
};
const schema = JSON.parse(readFileSync(path.join(REPO, 'node_modules', 'app-builder-lib', 'scheme.json'), 'utf8')) as SchemaNode;

function unknownKeys(obj: object, node: SchemaNode | undefined): string[] {
  const known = node?.properties ?? {};
  return Object.keys(obj).filter((k) => !(k in known));
}

describe('electron-builder configuration', () => {
  it('uses only keys electron-builder knows', () => {
    const defs = schema.definitions ?? {};
    expect(unknownKeys(config, schema)).toEqual([]);
    expect(unknownKeys(config.electronFuses, defs.FuseOptionsV1)).toEqual([]);
    expect(unknownKeys(config.linux, defs.LinuxConfiguration)).toEqual([]);
    expect(unknownKeys(config.mac, defs.MacConfiguration)).toEqual([]);
    expect(unknownKeys(config.win, defs.WindowsConfiguration)).toEqual([]);
  });

  it('sets the hardening fuses', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      grantFileProtocolExtraPrivileges: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      enableCookieEncryption: true,
    });
  });

  it('packs dist into asar, unpacks native modules and the worker, ships samples as resources', () => {
    expect(config.asar).toBe(true);
    expect(config.files).toContain('dist/**');
    expect(config.asarUnpack).toEqual(expect.arrayContaining(['**/*.node', 'dist/validation-worker.cjs']));
    expect(config.extraResources).toEqual([expect.objectContaining({ from: 'resources/samples', to: 'samples' })]);
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toBe('dmg');
    expect(config.win.target).toBe('nsis');
  });

  it('points main at the bundled main process', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { main: string };
    expect(pkg.main).toBe('dist/main.cjs');
  });
});
