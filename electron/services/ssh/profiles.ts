/**
 * Saved connection profiles in `~/.lifeboat/profiles.json` (the directory
 * comes from `LIFEBOAT_HOME` when set): host, port, user, key file PATHS,
 * the jump chain, a label and the reconnect choice. Built field by field
 * from a whitelist, so nothing else a caller sends (a password, a
 * passphrase, a key) can ever be written; the file is owner-only (0600).
 */
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SshEndpoint, SshProfile, SshTarget } from '../../../shared/contract/ssh';
import { readSmallJson, writeOwnerOnlyFile } from '../secret-store';
import { ApiError } from '../api-error';

/** `LIFEBOAT_HOME`, else `~/.lifeboat`: profiles, remembered secrets. */
export function lifeboatHome(): string {
  return process.env.LIFEBOAT_HOME || path.join(os.homedir(), '.lifeboat');
}

export function profilesPath(): string {
  return path.join(lifeboatHome(), 'profiles.json');
}

const MAX_PROFILES = 500;
const MAX_JUMPS = 8;
const MAX_IDENTITY_FILES = 16;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function text(v: unknown, what: string, max: number, opts: { spaces?: boolean; optional?: boolean } = {}): string | undefined {
  if (v === undefined || v === null || v === '') {
    if (opts.optional) return undefined;
    throw new ApiError('bad-params', `${what} is required`);
  }
  if (typeof v !== 'string') throw new ApiError('bad-params', `${what} must be text`);
  const s = v.trim();
  if (s === '' && opts.optional) return undefined;
  if (s === '' || s.length > max) throw new ApiError('bad-params', `${what} must be 1 to ${max} characters`);
  if (CONTROL.test(s) || (!opts.spaces && /\s/.test(s))) throw new ApiError('bad-params', `${what} contains characters it cannot have`);
  return s;
}

function port(v: unknown, what: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) throw new ApiError('bad-params', `${what} must be a number from 1 to 65535`);
  return n;
}

function endpoint(v: unknown, what: string): SshEndpoint {
  if (typeof v !== 'object' || v === null) throw new ApiError('bad-params', `${what} must be an object`);
  const e = v as Record<string, unknown>;
  const out: SshEndpoint = {
    host: text(e.host, `${what} host`, 255)!,
    port: port(e.port ?? 22, `${what} port`),
    user: text(e.user, `${what} user`, 128)!,
  };
  if (e.identityFiles !== undefined) {
    if (!Array.isArray(e.identityFiles) || e.identityFiles.length > MAX_IDENTITY_FILES) {
      throw new ApiError('bad-params', `${what} identityFiles must be a list of at most ${MAX_IDENTITY_FILES} paths`);
    }
    const files = e.identityFiles.map((f, i) => text(f, `${what} key file ${i + 1}`, 4096, { spaces: true })!);
    if (files.length) out.identityFiles = files;
  }
  return out;
}

/** Only the fields a profile may hold, checked; anything else is dropped. */
export function cleanTarget(v: unknown): SshTarget {
  const base = endpoint(v, 'target');
  const t = v as Record<string, unknown>;
  const target: SshTarget = { ...base };
  const label = text(t.label, 'target label', 200, { spaces: true, optional: true });
  if (label) target.label = label;
  if (t.jumps !== undefined) {
    if (!Array.isArray(t.jumps) || t.jumps.length > MAX_JUMPS) throw new ApiError('bad-params', `jumps must be a list of at most ${MAX_JUMPS} hops`);
    const jumps = t.jumps.map((j, i) => endpoint(j, `jump ${i + 1}`));
    if (jumps.length) target.jumps = jumps;
  }
  if (t.useAgent !== undefined) {
    if (typeof t.useAgent !== 'boolean') throw new ApiError('bad-params', 'useAgent must be true or false');
    target.useAgent = t.useAgent;
  }
  if (t.autoReconnect !== undefined) {
    if (typeof t.autoReconnect !== 'boolean') throw new ApiError('bad-params', 'autoReconnect must be true or false');
    target.autoReconnect = t.autoReconnect;
  }
  return target;
}

function isProfile(x: unknown): x is SshProfile {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as Record<string, unknown>;
  if (typeof p.id !== 'string' || typeof p.label !== 'string' || typeof p.savedAt !== 'number') return false;
  try {
    cleanTarget(p.target);
    return true;
  } catch {
    return false;
  }
}

export class ProfileStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string = profilesPath()) {}

  /** Saved profiles, oldest first. A hand-broken entry is skipped, not fatal. */
  async list(): Promise<SshProfile[]> {
    const raw = await readSmallJson(this.file, 'the profiles file');
    if (raw === null) return [];
    const list = (raw as { profiles?: unknown }).profiles;
    if (!Array.isArray(list)) throw new Error(`the profiles file ${this.file} has no "profiles" list; fix or remove it`);
    return list.filter(isProfile).map((p) => ({ id: p.id, label: p.label, target: cleanTarget(p.target), savedAt: p.savedAt }));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(profiles: SshProfile[]): Promise<void> {
    await writeOwnerOnlyFile(this.file, JSON.stringify({ version: 1, profiles }, null, 2) + '\n');
  }

  /** Create (no id) or replace a profile. Only whitelisted, checked fields are stored. */
  save(input: { id?: unknown; label?: unknown; target?: unknown }): Promise<SshProfile> {
    return this.serial(async () => {
      const target = cleanTarget(input.target);
      const label = text(input.label, 'label', 200, { spaces: true, optional: true }) ?? target.label ?? `${target.user}@${target.host}`;
      const profiles = await this.list();
      let id: string;
      if (input.id === undefined || input.id === null || input.id === '') id = randomUUID();
      else if (typeof input.id === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(input.id)) id = input.id;
      else throw new ApiError('bad-params', 'a profile id is letters, digits and dashes');
      const profile: SshProfile = { id, label, target, savedAt: Date.now() };
      const i = profiles.findIndex((p) => p.id === id);
      if (i >= 0) profiles[i] = profile;
      else {
        if (profiles.length >= MAX_PROFILES) throw new ApiError('too-many', `at most ${MAX_PROFILES} profiles`);
        profiles.push(profile);
      }
      await this.write(profiles);
      return profile;
    });
  }

  delete(id: unknown): Promise<boolean> {
    return this.serial(async () => {
      if (typeof id !== 'string') return false;
      const profiles = await this.list();
      const keep = profiles.filter((p) => p.id !== id);
      if (keep.length === profiles.length) return false;
      await this.write(keep);
      return true;
    });
  }

  async get(id: string): Promise<SshProfile | null> {
    return (await this.list()).find((p) => p.id === id) ?? null;
  }
}
