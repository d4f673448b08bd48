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

/**
 * Which field of the "Save connection" form a value came from: the node
 * itself, or hop `jump` (1-based) of its ProxyJump chain; `file` is the
 * 1-based key file. Refusals of what the user typed name it from the
 * catalogs (apiError.profile.*), so the SSH screen says them in zh-CN too.
 */
interface FieldAt {
  field: 'host' | 'user' | 'keyFile' | 'label';
  jump?: number;
  file?: number;
}

type Problem = 'required' | 'tooLong' | 'characters';

/** The catalog sentence for `problem` in the field at `at` (the keys are listed in shared/i18n/api-errors.ts). */
function refused(at: FieldAt, problem: Problem, max?: number): ApiError {
  const params: Record<string, number> = {};
  if (at.jump !== undefined) params.jump = at.jump;
  if (at.file !== undefined) params.file = at.file;
  if (max !== undefined) params.max = max;
  return ApiError.localized('bad-params', `apiError.profile.${at.jump !== undefined ? 'jump.' : ''}${at.field}.${problem}`, params);
}

/** The field in English, for the contract-violation messages (a value of the wrong type: only a buggy client sends one). */
function fieldName(at: FieldAt): string {
  const name = at.field === 'keyFile' ? `key file ${at.file ?? 1}` : at.field;
  return at.jump !== undefined ? `jump ${at.jump} ${name}` : name;
}

function text(v: unknown, at: FieldAt, max: number, opts: { spaces?: boolean; optional?: boolean } = {}): string | undefined {
  if (v === undefined || v === null || v === '') {
    if (opts.optional) return undefined;
    throw refused(at, 'required');
  }
  // Contract: the form always sends text.
  if (typeof v !== 'string') throw new ApiError('bad-params', `${fieldName(at)} must be text`);
  const s = v.trim();
  if (s === '' && opts.optional) return undefined;
  if (s === '') throw refused(at, 'required');
  if (s.length > max) throw refused(at, 'tooLong', max);
  if (CONTROL.test(s) || (!opts.spaces && /\s/.test(s))) throw refused(at, 'characters');
  return s;
}

function port(v: unknown, jump?: number): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw jump === undefined
      ? ApiError.localized('bad-params', 'apiError.profile.port.range')
      : ApiError.localized('bad-params', 'apiError.profile.jump.port.range', { jump });
  }
  return n;
}

function endpoint(v: unknown, jump?: number): SshEndpoint {
  // Contract: the form always sends an object per hop.
  if (typeof v !== 'object' || v === null) throw new ApiError('bad-params', `${jump === undefined ? 'target' : `jump ${jump}`} must be an object`);
  const e = v as Record<string, unknown>;
  const out: SshEndpoint = {
    host: text(e.host, { field: 'host', jump }, 255)!,
    port: port(e.port ?? 22, jump),
    user: text(e.user, { field: 'user', jump }, 128)!,
  };
  if (e.identityFiles !== undefined) {
    // Contract: a list (the form sends one); too long a list is the user's, said from the catalog.
    if (!Array.isArray(e.identityFiles))
      throw new ApiError('bad-params', `${jump === undefined ? 'target' : `jump ${jump}`} identityFiles must be a list of paths`);
    if (e.identityFiles.length > MAX_IDENTITY_FILES) throw ApiError.localized('bad-params', 'apiError.profile.keyFiles.tooMany', { max: MAX_IDENTITY_FILES });
    const files = e.identityFiles.map((f, i) => text(f, { field: 'keyFile', jump, file: i + 1 }, 4096, { spaces: true })!);
    if (files.length) out.identityFiles = files;
  }
  return out;
}

/** Only the fields a profile may hold, checked; anything else is dropped. */
export function cleanTarget(v: unknown): SshTarget {
  const base = endpoint(v);
  const t = v as Record<string, unknown>;
  const target: SshTarget = { ...base };
  const label = text(t.label, { field: 'label' }, 200, { spaces: true, optional: true });
  if (label) target.label = label;
  if (t.jumps !== undefined) {
    // Contract: a list; more hops than a chain may have is the user's.
    if (!Array.isArray(t.jumps)) throw new ApiError('bad-params', 'jumps must be a list of hops');
    if (t.jumps.length > MAX_JUMPS) throw ApiError.localized('bad-params', 'apiError.profile.jumps.tooMany', { max: MAX_JUMPS });
    const jumps = t.jumps.map((j, i) => endpoint(j, i + 1));
    if (jumps.length) target.jumps = jumps;
  }
  if (t.useAgent !== undefined) {
    // Contract: check boxes send booleans.
    if (typeof t.useAgent !== 'boolean') throw new ApiError('bad-params', 'useAgent must be true or false');
    target.useAgent = t.useAgent;
  }
  if (t.autoReconnect !== undefined) {
    // Contract: as useAgent.
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
      const label = text(input.label, { field: 'label' }, 200, { spaces: true, optional: true }) ?? target.label ?? `${target.user}@${target.host}`;
      const profiles = await this.list();
      let id: string;
      if (input.id === undefined || input.id === null || input.id === '') id = randomUUID();
      else if (typeof input.id === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(input.id)) id = input.id;
      // Contract: the id is one the back end made (randomUUID).
      else throw new ApiError('bad-params', 'a profile id is letters, digits and dashes');
      const profile: SshProfile = { id, label, target, savedAt: Date.now() };
      const i = profiles.findIndex((p) => p.id === id);
      if (i >= 0) profiles[i] = profile;
      else {
        if (profiles.length >= MAX_PROFILES) throw ApiError.localized('too-many', 'apiError.profile.tooMany', { max: MAX_PROFILES });
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
