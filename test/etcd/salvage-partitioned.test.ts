/**
 * Salvage in passes by key hash (issue 7, "same passes, bounded memory"): past its key-state budget a salvage
 * reads the WAL's keys first, replays the WAL over them once, then every other key in parts. It must write the
 * same snapshot.db bytes and the same report as a salvage that holds every key: a db with history, tombstones,
 * leases (one gone), a compaction marker, and a WAL with held entries (one the db lost) and entries above the
 * consistent index: puts and deletes of db keys, a range delete, txns comparing keys they do not write (one key,
 * a range, a value, a lease), a lease revoke of keys the WAL never names, a put keeping the db's value and lease.
 */
import { describe, expect, it } from 'vitest';
import { memorySource } from '../../shared/bytes/byte-source';
import type { SalvageReport } from '../../shared/contract/etcd-repair';
import type { Progress } from '../../shared/contract/progress';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, encodeLease, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import type { InternalRequest } from '../../shared/formats/etcd/internal-request';
import { KeyIndex } from '../../shared/formats/etcd/key-index';
import { salvageEtcd, type ReplayEntry, type WalEntryStream } from '../../shared/formats/etcd/salvage';
import { zeroFirstBranch } from '../helpers/etcd-damage';

const te = new TextEncoder();
const EMPTY = new Uint8Array(0);

const KEYS = 20_000;
const secret = (i: number) => `/registry/secrets/ns-${i % 13}/s-${String(i).padStart(6, '0')}`;
const event = (i: number) => `/registry/events/default/e-${String(i).padStart(5, '0')}`;
/** Leases 1..5 are in the lease bucket; 6 is not (its keys are written without it). */
const leaseOf = (i: number) => BigInt(1 + (i % 6));

interface Built {
  db: Uint8Array;
  /** The db's consistent index. */
  ci: number;
  /** Its newest value of each live key (the held WAL entries write these again). */
  values: Map<string, string>;
}

/** Key names whose db record has a flipped last byte (bit rot: bbolt keeps no checksum), and the name as written. */
const SETTINGS = '/registry/configmaps/default/settings';
const SETTINGS_ROT = '/registry/configmaps/default/settingQ';
const GONE = '/registry/configmaps/default/gone';
const GONE_ROT = '/registry/configmaps/default/gonQ';

/**
 * ~20,000 secrets (a third rewritten, a seventh deleted, some put again) and 600 events with leases; `rotNames`: then
 * the held entries' writes, a put of SETTINGS and of GONE (deleted next) among them, each of those two records with
 * the name's last byte flipped.
 */
async function buildDb(withConsistentIndex = true, rotNames: false | 'name' | 'name-and-revision' = false): Promise<Built> {
  const items: RevisionItem[] = [];
  const values = new Map<string, string>();
  let settingsRevision = 0;
  const created = new Map<string, number>();
  const versions = new Map<string, number>();
  let rev = 2;
  const put = (key: string, value: string, lease = 0n) => {
    const create = created.get(key) ?? rev;
    const version = (versions.get(key) ?? 0) + 1;
    created.set(key, create);
    versions.set(key, version);
    values.set(key, value);
    items.push({
      key: revisionKey(rev, 0),
      value: encodeKeyValue({ key: te.encode(key), createRevision: create, modRevision: rev, version, value: te.encode(value), lease }),
    });
    rev++;
  };
  const del = (key: string) => {
    created.delete(key);
    versions.delete(key);
    values.delete(key);
    items.push({
      key: revisionKey(rev, 0, true),
      value: encodeKeyValue({ key: te.encode(key), createRevision: 0, modRevision: rev, version: 0, value: EMPTY, lease: 0n }),
    });
    rev++;
  };
  for (let i = 0; i < KEYS; i++) put(secret(i), `v1-${i}`);
  for (let i = 0; i < 600; i++) put(event(i), `event ${i}`, leaseOf(i));
  for (let i = 0; i < KEYS; i += 3) put(secret(i), `v2-${i}-${'x'.repeat(i % 40)}`);
  for (let i = 1; i < KEYS; i += 7) del(secret(i));
  for (let i = 1; i < KEYS; i += 70) put(secret(i), `again-${i}`);
  // KeyValues in shapes etcd never writes but a decoder accepts: the key field twice (the last one counts: a pass
  // that took the first would judge the wrong key's hash), and the fields in reverse order.
  for (let i = 0; i < 40; i++) {
    const kv = (key: string) =>
      encodeKeyValue({ key: te.encode(key), createRevision: rev, modRevision: rev, version: 1, value: te.encode(`odd-${i}`), lease: 0n });
    const decoy = kv(`/registry/decoys/d-${i}`).subarray(0, 2 + `/registry/decoys/d-${i}`.length);
    const key = `/registry/odd/twice-${String(i).padStart(3, '0')}`;
    items.push({ key: revisionKey(rev, 0), value: new Uint8Array([...decoy, ...kv(key)]) });
    values.set(key, `odd-${i}`);
    rev++;
    const reversed = `/registry/odd/reversed-${String(i).padStart(3, '0')}`;
    const fields = kv(reversed);
    const keyField = fields.subarray(0, 2 + reversed.length);
    items.push({ key: revisionKey(rev - 1, 1), value: new Uint8Array([...fields.subarray(keyField.length), ...keyField]) });
    values.set(reversed, `odd-${i}`);
  }
  if (rotNames) {
    // The db's last revisions are the held entries' writes (`walOf`), as in a db etcd wrote.
    for (let i = 0; i < 9; i++) put(secret(3 * i), values.get(secret(3 * i))!);
    put(SETTINGS_ROT, 'mode=first');
    values.delete(SETTINGS_ROT);
    settingsRevision = rev - 1;
    put(GONE_ROT, 'soon deleted');
    values.delete(GONE_ROT);
    del(GONE);
  }
  const ci = 50_000;
  const sink = memorySink();
  await writeEtcdBackend(sink, {
    revisions: items,
    buckets: {
      meta: [
        ...(withConsistentIndex ? [[te.encode('consistent_index'), u64be(ci)] as [Uint8Array, Uint8Array]] : []),
        [te.encode('finishedCompactRev'), revisionKey(3, 0)],
      ],
      lease: [1n, 2n, 3n, 4n, 5n].map((id) => [u64be(id), encodeLease(id, 3600)] as [Uint8Array, Uint8Array]),
    },
  });
  const db = sink.bytes();
  if (rotNames === 'name-and-revision') {
    // Its revision key's highest bit flipped too, in its leaf: out of order with its neighbours, it reads far below
    // them (the leaf says the value's mod_revision).
    const key = revisionKey(settingsRevision, 0);
    const record = new Uint8Array([...key, 0x0a, SETTINGS_ROT.length, ...te.encode(SETTINGS_ROT)]);
    const at = Buffer.from(db).indexOf(record);
    expect(at).toBeGreaterThan(0);
    db.set(revisionKey(settingsRevision - 2 ** Math.floor(Math.log2(settingsRevision)), 0), at);
  }
  return { db, ci, values };
}

const put = (key: string, value: string, lease = 0n, keep: { value?: boolean; lease?: boolean } = {}): InternalRequest => ({
  kind: 'put',
  id: 0n,
  key: te.encode(key),
  value: te.encode(value),
  lease,
  prevKv: false,
  ignoreValue: keep.value ?? false,
  ignoreLease: keep.lease ?? false,
});
const del = (key: string, end?: string): InternalRequest => ({
  kind: 'delete-range',
  id: 0n,
  key: te.encode(key),
  rangeEnd: end ? te.encode(end) : EMPTY,
  prevKv: false,
});
type Compare = Extract<InternalRequest, { kind: 'txn' }>['compare'][number];
const cmp = (key: string, c: Omit<Compare, 'key' | 'rangeEnd'>, end?: string): Compare => ({
  key: te.encode(key),
  rangeEnd: end ? te.encode(end) : EMPTY,
  ...c,
});
const txn = (compare: Compare[], success: InternalRequest[], failure: InternalRequest[]): InternalRequest => ({
  kind: 'txn',
  id: 0n,
  compare,
  success,
  failure,
});

/**
 * The WAL up to entry ci: ten held entries (the db holds nine; one wrote a value the db lost), `moreHeld` before the
 * last of them, then entries above ci.
 */
function walOf(b: Built, moreHeld: InternalRequest[] = [], singleKeysAbove = false): WalEntryStream {
  const held: InternalRequest[] = [];
  for (let i = 0; i < 9; i++) {
    const key = secret(3 * i);
    held.push(put(key, b.values.get(key)!));
  }
  held.push(...moreHeld);
  // The db's copy of this write was lost: its value comes from the WAL.
  held.push(put(secret(99), 'held-newer'));
  const above: InternalRequest[] = [
    put(secret(5), 'rewritten', 1n),
    put('/registry/new/a', 'new'),
    del(secret(10)),
    // A range delete: every key in it is resident.
    del('/registry/secrets/ns-3/s-000100', '/registry/secrets/ns-3/s-000400'),
    // Compares of keys the txn does not write.
    txn([cmp(secret(20), { target: 'mod', result: 'greater', number: 0n })], [put(secret(21), 'txn-ok')], [put(secret(22), 'txn-wrong')]),
    txn(
      [cmp(secret(30), { target: 'value', result: 'equal', value: te.encode('nope') })],
      [put(secret(31), 'wrong')],
      [del(secret(32)), put(secret(33), 'failure-branch')],
    ),
    txn([cmp(secret(40), { target: 'version', result: 'equal', number: 0n })], [put('/registry/new/b', 'wrong')], [put('/registry/new/b', 'b')]),
    // A range compare: every key of ns-5 has a version.
    txn(
      [cmp('/registry/secrets/ns-5/', { target: 'version', result: 'greater', number: 0n }, '/registry/secrets/ns-50')],
      [put('/registry/new/range', 'all-there')],
      [],
    ),
    txn([cmp(event(3), { target: 'lease', result: 'equal', number: 4n })], [put(event(4), 'lease-compare')], []),
    // Revokes of leases whose keys the WAL never names (lease 6 is unknown to the db: its keys are detached, not revoked).
    { kind: 'lease-revoke', id: 0n, leaseId: 2n },
    { kind: 'lease-grant', id: 0n, leaseId: 7n, ttl: 60 },
    put('/registry/new/c', 'leased', 7n),
    put(secret(50), 'ignored', 9n, { value: true, lease: true }),
    { kind: 'lease-revoke', id: 0n, leaseId: 5n },
    put(secret(60), 'last'),
  ];
  // Single keys only above (no range, no revoke): a pass then refuses most revisions by the key's hash in place.
  if (singleKeysAbove) above.splice(0, above.length, put(secret(5), 'rewritten'), put('/registry/new/a', 'new'), put(secret(60), 'last'));
  const entries: ReplayEntry[] = [...held, ...above].map((request, i) => ({ index: b.ci - held.length + 1 + i, term: 3, type: 'normal', request }));
  return async (onEntry) => {
    for (const e of entries) await onEntry(e);
  };
}

/** A salvage into memory; `parts`: the distinct part passes, `starts`: every part pass started (a split part starts again). */
async function salvage(
  db: Uint8Array,
  wal: WalEntryStream | null,
  keyStateBudget: number | null,
  outputKind: 'snapshot-db' | 'member-db' = 'snapshot-db',
): Promise<{ out: Uint8Array; report: SalvageReport; parts: string[]; starts: string[] }> {
  const sink = memorySink();
  const phases = new Set<string>();
  const starts: string[] = [];
  const isPart = (phase: string) => /\(part \d+ of \d+/.test(phase);
  const report = await salvageEtcd({ db: memorySource('db', db), dbFile: 'db', wal }, sink, {
    outputKind,
    output: 'out',
    keyStateBudget,
    onProgress: (p: Progress) => {
      phases.add(p.phase);
      if (p.bytesDone === 0 && isPart(p.phase)) starts.push(p.phase);
    },
  });
  return { out: sink.bytes(), report, parts: [...phases].filter(isPart), starts };
}

/** The report without what a salvage in passes does differently by design: time taken and bytes read. */
function comparable(r: SalvageReport): Omit<SalvageReport, 'elapsedMs' | 'bytesRead'> {
  const { elapsedMs: _elapsed, bytesRead: _read, ...rest } = r;
  return rest;
}

describe('salvage in passes by key hash', () => {
  it('writes the same snapshot.db and report as a salvage holding every key', async () => {
    const b = await buildDb();
    const whole = await salvage(b.db, walOf(b), null);
    const parted = await salvage(b.db, walOf(b), 500_000);
    expect(whole.parts).toEqual([]);
    expect(parted.parts.length).toBeGreaterThanOrEqual(4);
    expect(parted.parts.length).toBeLessThanOrEqual(8);
    // The WAL did its work: keys from it, deletes, a detached lease, a revoke.
    const r = whole.report;
    expect(r.sources.wal).toBeGreaterThan(5);
    expect(r.leases.detachedKeys).toBeGreaterThan(0);
    expect(r.walReplay?.applied).toBeGreaterThan(10);
    const listed = new Map(r.keys.map((k) => [k.key, k]));
    expect(listed.get(secret(21))?.source).toBe('wal');
    expect(listed.has(secret(22))).toBe(false);
    expect(listed.has(secret(32))).toBe(false);
    expect(listed.get('/registry/new/range')?.source).toBe('wal');
    expect(listed.get(event(4))?.source).toBe('wal');
    expect(listed.has(event(1 + 6 * 10))).toBe(false); // lease 2, revoked
    expect(listed.has(event(5))).toBe(true); // lease 6, detached
    // The odd KeyValues are read as a decoder reads them (never the decoy's key).
    expect(listed.get('/registry/odd/twice-007')?.valueSize).toBe(5);
    expect(listed.get('/registry/odd/reversed-007')?.valueSize).toBe(5);
    expect([...listed.keys()].filter((k) => k.startsWith('/registry/decoys/'))).toEqual([]);
    expect(comparable(parted.report)).toEqual(comparable(r));
    expect(Buffer.compare(parted.out, whole.out)).toBe(0);
  });

  it('the same with a branch page zeroed (orphaned leaves, lost revisions) and with a budget just over the keys', async () => {
    const b = await buildDb();
    const db = zeroFirstBranch(b.db);
    const whole = await salvage(db, walOf(b), null);
    expect(whole.report.sources['orphaned-leaf'] + whole.report.lost.length).toBeGreaterThan(0);
    for (const budget of [250_000, 1_500_000]) {
      const parted = await salvage(db, walOf(b), budget);
      expect(parted.parts.length).toBeGreaterThanOrEqual(2);
      expect(comparable(parted.report)).toEqual(comparable(whole.report));
      expect(Buffer.compare(parted.out, whole.out)).toBe(0);
    }
  });

  it('the same when the db lost its consistent index (every WAL entry reconciled with the leaves)', async () => {
    const b = await buildDb(false);
    const whole = await salvage(b.db, walOf(b), null);
    const parted = await salvage(b.db, walOf(b), 500_000);
    expect(whole.report.sourceConsistentIndex).toBeNull();
    expect(parted.parts.length).toBeGreaterThanOrEqual(2);
    expect(comparable(parted.report)).toEqual(comparable(whole.report));
    expect(Buffer.compare(parted.out, whole.out)).toBe(0);
  });

  it('splits a part that passes the budget after all (keys bunched at the end of the db), same output; a member db too', async () => {
    // 200 keys rewritten 100 times fill the first half of the db, 20,000 distinct keys the second: the first scan's
    // fill when it passes the budget underestimates the rest.
    const items: RevisionItem[] = [];
    let rev = 2;
    const add = (key: string, value: string, create: number, version: number) =>
      items.push({
        key: revisionKey(rev, 0),
        value: encodeKeyValue({ key: te.encode(key), createRevision: create, modRevision: rev++, version, value: te.encode(value), lease: 0n }),
      });
    for (let v = 1; v <= 100; v++)
      for (let i = 0; i < 200; i++) add(`/registry/leases/kube-node-lease/node-${String(i).padStart(4, '0')}`, `hb-${v}`, 2 + i, v);
    for (let i = 0; i < KEYS; i++) add(secret(i), `v-${i}`, rev, 1);
    const sink = memorySink();
    await writeEtcdBackend(sink, { revisions: items, buckets: { meta: [[te.encode('consistent_index'), u64be(rev)]] } });
    const db = sink.bytes();
    for (const kind of ['snapshot-db', 'member-db'] as const) {
      const whole = await salvage(db, null, null, kind);
      const parted = await salvage(db, null, 360_000, kind);
      const last = /part (\d+) of (\d+)/.exec(parted.starts.at(-1) ?? '');
      expect(last?.[1]).toBe(last?.[2]);
      // More passes started than parts finished: some were split.
      expect(parted.starts.length).toBeGreaterThan(Number(last?.[2]));
      expect(comparable(parted.report)).toEqual(comparable(whole.report));
      expect(Buffer.compare(parted.out, whole.out)).toBe(0);
    }
  });

  it.each([
    { rot: 'name', above: 'ranges and revokes' },
    { rot: 'name', above: 'single keys' },
    { rot: 'name-and-revision', above: 'single keys' },
  ] as const)(
    'leaves out a key name with a flipped byte as a salvage holding every key does, though the WAL never names it ($rot; WAL above: $above)',
    async ({ rot, above }) => {
      // The held entries put SETTINGS (the db lost that record's true name) and GONE (deleted since): the db's records
      // of those revisions name SETTINGS_ROT and GONE_ROT, keys nobody wrote. A pass must hold them for the replay.
      // With single keys only, a pass refuses revisions by hash and revision in place: SETTINGS_ROT's damaged
      // revision key reads far below the held span.
      const b = await buildDb(true, rot);
      const wal = () => walOf(b, [put(SETTINGS, 'mode=first'), put(GONE, 'soon deleted'), del(GONE)], above === 'single keys');
      const whole = await salvage(b.db, wal(), null);
      const named = (r: SalvageReport) =>
        r.findings.filter((f) => f.code === 'salvage.damaged-key-name').map((f) => [f.params!.bad, f.params!.good, f.messageKey?.includes('.older.') ?? false]);
      expect(named(whole.report)).toEqual([
        [SETTINGS_ROT, SETTINGS, false],
        [GONE_ROT, GONE, true],
      ]);
      const listed = new Map(whole.report.keys.map((k) => [k.key, k.source]));
      expect([listed.get(SETTINGS), listed.has(SETTINGS_ROT), listed.has(GONE), listed.has(GONE_ROT)]).toEqual(['wal', false, false, false]);
      const revisionKeyDamage = whole.report.findings.filter((f) => f.code === 'salvage.damaged-page' && f.messageKey?.includes('.revision-key.'));
      expect(revisionKeyDamage.length).toBe(rot === 'name' ? 0 : 1);
      for (const budget of [250_000, 500_000]) {
        const parted = await salvage(b.db, wal(), budget);
        expect(parted.parts.length).toBeGreaterThanOrEqual(2);
        expect(named(parted.report)).toEqual(named(whole.report));
        expect(comparable(parted.report)).toEqual(comparable(whole.report));
        expect(Buffer.compare(parted.out, whole.out)).toBe(0);
      }
    },
  );

  it('under the budget: one pass, as before', async () => {
    const b = await buildDb();
    const whole = await salvage(b.db, walOf(b), null);
    const roomy = await salvage(b.db, walOf(b), 64 * 1024 * 1024);
    expect(roomy.parts).toEqual([]);
    expect(roomy.report.bytesRead).toBe(whole.report.bytesRead);
    expect(Buffer.compare(roomy.out, whole.out)).toBe(0);
  });
});

describe('a cleared key index (one for pass after pass)', () => {
  it('holds nothing, then the next keys exactly, reusing its arena', () => {
    const index = new KeyIndex();
    const long = new Uint8Array((1 << 20) + 5).fill(7);
    for (let i = 0; i < 50_000; i++) index.add(te.encode(`/first/${i}`));
    index.add(long);
    const before = index.bytes;
    index.clear();
    expect(index.size).toBe(0);
    expect(index.keyBytes).toBe(0);
    expect(index.find(te.encode('/first/1'))).toBe(-1);
    expect(index.find(long)).toBe(-1);
    const keys = Array.from({ length: 40_000 }, (_, i) => te.encode(`/second/${String(i * 7).padStart(9, '0')}`));
    keys.forEach((k, i) => expect(index.add(k)).toBe(i));
    expect(index.find(te.encode('/first/1'))).toBe(-1);
    let wrong = 0;
    keys.forEach((k, i) => {
      if (index.find(k) !== i || Buffer.compare(index.key(i), k) !== 0) wrong++;
    });
    expect(wrong).toBe(0);
    // The long key's own chunk went; nothing new was allocated for the shorter keys.
    expect(index.bytes).toBeLessThanOrEqual(before - long.length);
  });
});
