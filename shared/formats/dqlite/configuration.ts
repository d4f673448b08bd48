/**
 * Raft configuration encoding (`raft:configuration.c`), used by RAFT_CHANGE
 * payloads and snapshot .meta files:
 *   u8 version = 1, u64 n, then per server: u64 id, NUL-terminated address,
 *   u8 role (raft.h: 0 RAFT_STANDBY, 1 RAFT_VOTER, 2 RAFT_SPARE); total padded to 8 bytes.
 * Note the order differs from go-dqlite's NodeRole in cluster.yaml (0 voter, 1 standby).
 * Ids are u64 and exceed 2^53 (go-dqlite's BootstrapID), so they are decimal strings.
 */
import type { RaftServer } from '../../contract/dqlite';
import { pad8, putU64, u64At } from './le';

export type ConfigurationResult = { ok: true; servers: RaftServer[] } | { ok: false; error: string; offset: number };

function roleName(code: number): RaftServer['role'] {
  if (code === 0) return 'standby';
  if (code === 1) return 'voter';
  if (code === 2) return 'spare';
  return `unknown(${code})`;
}

function roleCode(role: RaftServer['role']): number {
  if (role === 'standby') return 0;
  if (role === 'voter') return 1;
  if (role === 'spare') return 2;
  const m = /^unknown\((\d+)\)$/.exec(role);
  return m ? Number(m[1]) & 255 : 0;
}

/** Decode; a server count is bounded by the bytes present, never trusted for allocation. */
export function decodeConfiguration(b: Uint8Array): ConfigurationResult {
  if (b.length < 9) return { ok: false, error: `configuration has only ${b.length} bytes`, offset: 0 };
  if (b[0] !== 1) return { ok: false, error: `unknown configuration encoding version ${b[0]}`, offset: 0 };
  const n = u64At(b, 1);
  // Each server takes at least 10 bytes (id, empty address, role).
  if (n > BigInt(Math.floor((b.length - 9) / 10))) {
    return { ok: false, error: `configuration claims ${n} servers, more than ${b.length} bytes can hold`, offset: 1 };
  }
  const servers: RaftServer[] = [];
  let at = 9;
  const decoder = new TextDecoder();
  for (let i = 0; i < Number(n); i++) {
    if (at + 8 > b.length) return { ok: false, error: `server ${i + 1}: id runs past the end`, offset: at };
    const id = u64At(b, at).toString();
    at += 8;
    const nul = b.indexOf(0, at);
    if (nul < 0) return { ok: false, error: `server ${i + 1}: address is not NUL-terminated`, offset: at };
    const address = decoder.decode(b.subarray(at, nul));
    at = nul + 1;
    if (at >= b.length) return { ok: false, error: `server ${i + 1}: role runs past the end`, offset: at };
    servers.push({ id, address, role: roleName(b[at]) });
    at++;
  }
  return { ok: true, servers };
}

export function encodeConfiguration(servers: RaftServer[]): Uint8Array {
  const enc = new TextEncoder();
  const addrs = servers.map((s) => enc.encode(s.address));
  let size = 9;
  for (const a of addrs) size += 8 + a.length + 1 + 1;
  const out = new Uint8Array(pad8(size));
  out[0] = 1;
  putU64(out, 1, servers.length);
  let at = 9;
  servers.forEach((s, i) => {
    putU64(out, at, BigInt(s.id));
    at += 8;
    out.set(addrs[i], at);
    at += addrs[i].length + 1;
    out[at++] = roleCode(s.role);
  });
  return out;
}
