/**
 * The etcd validator's own findings (start-up model, layout, cross-checks)
 * on real etcd 3.4 data dirs, plus the pure cross-check and member
 * comparison rules on hand-made facts where no single real dir can show
 * them (a 3-member cluster, a torn tail past the commit).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BboltInfo, EtcdLayout, EtcdMember, EtcdSchemaInfo, SnapFileInfo, WalInfo } from '../../shared/contract/etcd';
import type { ValidationReport } from '../../shared/contract/report';
import { applyAddressCheck, crossCheck, normaliseAddresses, urlHost } from '../../shared/formats/etcd/cross-check';
import { compareMembers } from '../../shared/formats/etcd/members-compare';
import { encodeSnapFile } from '../../shared/formats/etcd/snap';
import { modelStartup } from '../../shared/formats/etcd/startup';
import { sayEtcd } from '../../shared/formats/etcd/say';
import { verdictOf as bannerOf } from '../../renderer/src/features/validation/verdict';
import { validateDirectory } from '../../shared/validate';
import { MESSAGES, translateLocal } from '../../shared/i18n';
import { localDirectory, openLocalTarget } from '../../electron/services/fs-source';
import { copyDir, hashTree, requireEtcd, tempDir } from '../helpers/etcd';
import { buildEtcdGoldens, ETCD_DAMAGE_CASES, dbPath, flipByte, snapFiles, walFiles, walFrames, type EtcdGoldens } from '../helpers/etcd-damage';
import { bareEtcdReport } from '../helpers/etcd-report';

const HAVE_ETCD = requireEtcd();

async function validatePath(dir: string): Promise<ValidationReport> {
  const src = localDirectory(dir);
  try {
    const before = await hashTree(dir);
    const r = await validateDirectory(src);
    expect(await hashTree(dir)).toBe(before);
    return r;
  } finally {
    await src.close();
  }
}

const codes = (r: ValidationReport) => r.findings.map((f) => f.code);
const find = (r: ValidationReport, code: string) => r.findings.filter((f) => f.code === code);

describe.skipIf(!HAVE_ETCD)('etcd validator on real data dirs', () => {
  let work = '';
  let g: EtcdGoldens;
  let n = 0;
  const copyOf = async (name: 'small' | 'snaps') => {
    const d = path.join(work, `c${n++}`);
    await copyDir(g.goldens[name]!.dir, d);
    return d;
  };

  beforeAll(async () => {
    work = await tempDir('etcd-validate');
    g = await buildEtcdGoldens(work, ['small', 'snaps']);
  }, 120_000);
  afterAll(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('startup.db-created: no db, no .snap: etcd creates one and replays the whole WAL (starts, nothing lost)', async () => {
    const d = await copyOf('small');
    await fs.rm(dbPath(d));
    const r = await validatePath(d);
    expect(r).toMatchObject({ engine: 'etcd', startable: true, dataLoss: false });
    expect(find(r, 'startup.db-created')).toEqual([expect.objectContaining({ severity: 'warning', file: 'member/snap/db' })]);
    expect(find(r, 'startup.db-created')[0]!.message).toContain('replaying the WAL from index 1');
    expect(r.etcd?.startup.replay).toEqual({ from: 1, to: r.etcd?.wal?.hardState?.commit });
    expect(r.etcd?.startup.selfRepairs).toEqual(['creates an empty db']);
  });

  it('startup.snap-db-missing: no db but .snap files: the panic, and the advice to replay the whole WAL', async () => {
    const d = await copyOf('snaps');
    await fs.rm(dbPath(d));
    const r = await validatePath(d);
    expect(r.startable).toBe(false);
    const f = find(r, 'startup.snap-db-missing');
    expect(f).toHaveLength(1);
    expect(f[0]!.engineError).toBe("recovering backend from snapshot error: failed to find database snapshot file (snap: snapshot file doesn't exist)");
    const newest = path.basename((await snapFiles(d)).at(-1)!);
    expect(f[0]!.params).toMatchObject({ ci: 0, dbName: `${newest.split('-')[1]!.replace('.snap', '')}.snap.db` });
    expect(r.summary).toContain('moving the .snap files');
    expect(codes(r)).not.toContain('startup.db-created');
  });

  it('snap.unreadable-skipped: a broken newest .snap is set aside and the one before it is loaded', async () => {
    const d = await copyOf('snaps');
    const snaps = await snapFiles(d);
    await fs.truncate(snaps.at(-1)!, 0);
    const r = await validatePath(d);
    expect(r.startable).toBe(true);
    const rel = (f: string) => `member/snap/${path.basename(f)}`;
    expect(find(r, 'snap.unreadable-skipped').map((f) => f.file)).toEqual([rel(snaps.at(-1)!)]);
    expect(r.etcd?.startup.chosenSnap).toBe(rel(snaps.at(-2)!));
    expect(r.etcd?.startup.selfRepairs).toEqual([`renames ${rel(snaps.at(-1)!)} to ${rel(snaps.at(-1)!)}.broken`]);
  });

  it('snap.orphan: a readable .snap that no WAL snapshot record names is not loaded', async () => {
    const d = await copyOf('snaps');
    const orphan = 'member/snap/0000000000000002-00000000000fffff.snap';
    await fs.writeFile(
      path.join(d, orphan),
      encodeSnapFile({
        data: new TextEncoder().encode('{}'),
        index: 0xfffff,
        term: 2,
        confState: { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
      }),
    );
    const r = await validatePath(d);
    expect(r.startable).toBe(true);
    expect(find(r, 'snap.orphan').map((f) => f.file)).toEqual([orphan]);
    expect(r.etcd?.startup.chosenSnap).toBe(`member/snap/${path.basename((await snapFiles(g.goldens.snaps!.dir)).at(-1)!)}`);
  });

  it('startup.no-wal: an empty wal directory starts a new member over the db', async () => {
    const d = await copyOf('small');
    for (const w of await walFiles(d)) await fs.rm(w);
    const r = await validatePath(d);
    expect(r.startable).toBe(true);
    expect(find(r, 'startup.no-wal')).toEqual([expect.objectContaining({ severity: 'warning', file: 'member/wal' })]);
  });

  it('startup.wal-repaired: a torn tail is truncated at its first byte, the file kept as .broken', async () => {
    const d = await copyOf('small');
    await ETCD_DAMAGE_CASES.find((c) => c.name === 'WAL: torn tail (last record zeroed)')!.damage(d);
    const w = (await walFiles(d))[0]!;
    const frames = await walFrames(g.goldens.small!.dir + '/member/wal/' + path.basename(w));
    const r = await validatePath(d);
    expect(r).toMatchObject({ startable: true, dataLoss: false });
    const f = find(r, 'startup.wal-repaired');
    expect(f).toEqual([expect.objectContaining({ file: `member/wal/${path.basename(w)}`, offset: frames.at(-1)!.offset })]);
    expect(r.summary).toContain('repairs this by itself');
  });

  it('startup.wal-ends-early: no db and a zero length word mid-WAL: the entries after it are lost, by index', async () => {
    const d = await copyOf('small');
    await ETCD_DAMAGE_CASES.find((c) => c.name === 'several: db missing and a zero length word in the middle of the WAL (keys lost)')!.damage(d);
    const r = await validatePath(d);
    expect(r).toMatchObject({ startable: true, dataLoss: true });
    const f = find(r, 'startup.wal-ends-early');
    expect(f).toHaveLength(1);
    const lastReadable = r.etcd!.wal!.lastIndex!;
    // The last entry the intact golden WAL holds (independent parser): everything after the cut up to it is lost.
    const goldenWal = path.join(g.goldens.small!.dir, 'member', 'wal', path.basename((await walFiles(d))[0]!));
    const goldenLast = Math.max(...(await walFrames(goldenWal)).map((x) => x.index ?? 0));
    expect(r.lost).toEqual([expect.objectContaining({ first: lastReadable + 1, last: goldenLast, coveredBySnapshot: false })]);
    expect(f[0]!.params).toMatchObject({ ci: 0, from: lastReadable + 1, last: r.lost[0]!.last });
    expect(r.etcd?.startup.selfRepairs.some((x) => x.startsWith('zero-fills member/wal/'))).toBe(true);
  });

  it('layout: a lone db (layout.db-only), a --wal-dir (layout.wal-only), a member dir without wal/ (layout.no-wal-dir), leftovers (layout.leftover)', async () => {
    const lone = path.join(work, 'lone');
    await fs.mkdir(lone);
    await fs.copyFile(dbPath(g.goldens.small!.dir), path.join(lone, 'db'));
    const db = await validatePath(lone);
    expect(db.etcd?.layout.input).toBe('db-file');
    expect(db.startable).toBe(true);
    expect(codes(db)).toContain('layout.db-only');
    expect(db.summary).toContain(`${g.goldens.small!.keys.size} live keys`);

    const walOnly = path.join(work, 'waldir');
    await copyDir(path.join(g.goldens.small!.dir, 'member', 'wal'), walOnly);
    const w = await validatePath(walOnly);
    expect(w.etcd?.layout.input).toBe('wal-dir');
    expect(codes(w)).toContain('layout.wal-only');

    const member = path.join(work, 'member-only-snap');
    await copyDir(path.join(g.goldens.small!.dir, 'member'), member);
    await fs.rm(path.join(member, 'wal'), { recursive: true });
    await fs.writeFile(path.join(member, 'snap', 'db.tmp'), 'x');
    const m = await validatePath(member);
    expect(m.etcd?.layout).toMatchObject({ input: 'member-dir', walDir: '', snapDir: 'snap', dbFile: 'snap/db' });
    expect(find(m, 'layout.no-wal-dir')).toHaveLength(1);
    expect(find(m, 'layout.leftover')).toEqual([
      expect.objectContaining({ severity: 'info', file: 'snap/db.tmp', params: expect.objectContaining({ kind: 'tmp' }) as unknown }),
    ]);
  });

  it("engine text of a db bbolt cannot open names the path as etcd would: a lone file as itself, not 'db/db'", async () => {
    const dir = path.join(work, 'both-metas');
    await fs.mkdir(dir);
    const file = path.join(dir, 'db');
    await fs.copyFile(dbPath(g.goldens.small!.dir), file);
    // Both metas' checksums: bbolt opens nothing (`checksum error`).
    await flipByte(file, 72);
    await flipByte(file, 4096 + 72);
    const fatal = (r: ValidationReport) => r.findings.find((f) => f.code === 'bbolt.open-error')?.engineError;
    // The file itself, as the CLI and Open file give it: a one-file directory named after it.
    const target = await openLocalTarget(file);
    try {
      const r = await validateDirectory(target);
      expect(r.etcd?.startup.fatalError).toBe('cannot open database at db (checksum error)');
      expect(fatal(r)).toBe('checksum error');
    } finally {
      await target.close();
    }
    // The directory holding it: the path under that directory.
    const inDir = await validatePath(dir);
    expect(inDir.etcd?.startup.fatalError).toBe('cannot open database at both-metas/db (checksum error)');
  });

  it('restore.db-broken: a snapshot.db whose hash matches but whose bbolt tree is damaged cannot be restored', async () => {
    const d = await copyOf('small');
    await ETCD_DAMAGE_CASES.find((c) => c.name === 'bbolt: a leaf page of the key bucket zeroed')!.damage(d);
    const bytes = await fs.readFile(dbPath(d));
    const dir = path.join(work, 'bad-snapshot');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'snapshot.db'), Buffer.concat([bytes, createHash('sha256').update(bytes).digest()]));
    const r = await validatePath(dir);
    expect(r.etcd?.layout.input).toBe('snapshot-db');
    expect(r.startable).toBe(false);
    expect(find(r, 'restore.db-broken')).toEqual([
      expect.objectContaining({ severity: 'error', engineError: 'freepages: failed to get all reachable pages (page 0: invalid type: unknown<00>)' }),
    ]);
  });

  it('narrative and summary have a Chinese template for every sentence', async () => {
    const d = await copyOf('snaps');
    const r = await validatePath(d);
    expect(r.summaryText?.key).toBe('etcd-verdict.summary.healthy');
    for (const t of [r.summaryText!, ...(r.etcd?.startup.narrativeText ?? [])]) expect(MESSAGES['zh-CN'][t.key], t.key).toMatch(/[\u4e00-\u9fff]/);
    expect(r.etcd?.startup.narrativeText?.length).toBe(r.etcd?.startup.narrative.length);
  });
});

// ---------------------------------------------------------------- pure rules on hand-made facts

const member = (id: string, name: string, host: string): EtcdMember => ({ id, name, peerURLs: [`https://${host}:2380`], clientURLs: [`https://${host}:2379`] });

function schemaWith(members: EtcdMember[], ci: number, extra: Partial<EtcdSchemaInfo> = {}): EtcdSchemaInfo {
  return {
    buckets: [],
    consistentIndex: ci,
    term: null,
    revision: ci,
    compactedRevision: null,
    liveKeys: 0,
    revisions: 0,
    tombstones: 0,
    members,
    removedMembers: [],
    alarms: [],
    leases: 0,
    clusterVersion: '3.4.0',
    quotaBytes: 2 ** 31,
    ...extra,
  };
}

function walWith(nodeId: string | null, last: number, commit: number, extra: Partial<WalInfo> = {}): WalInfo {
  return {
    dir: 'member/wal',
    files:
      last > 0
        ? [
            {
              file: 'member/wal/0000000000000000-0000000000000000.wal',
              seq: 0,
              nameIndex: 0,
              // As etcd leaves its last WAL file: preallocated to 64 MB, records then zeros.
              size: 64_000_000,
              records: 1,
              entries: last,
              firstEntryIndex: 1,
              lastEntryIndex: last,
              terms: [2, 2],
              validBytes: 4096,
              zeroTailBytes: 64_000_000 - 4096,
              status: 'ok',
              badOffset: null,
              findingCodes: [],
              role: 'read',
            },
          ]
        : [],
    nodeId,
    clusterId: 'c1',
    hardState: last > 0 ? { term: 2, vote: nodeId ?? '0', commit } : null,
    snapshots: [],
    firstIndex: last > 0 ? 1 : null,
    lastIndex: last > 0 ? last : null,
    lastTerm: last > 0 ? 2 : null,
    tornTail: null,
    confChanges: [],
    requestCounts: {},
    ...extra,
  };
}

const THREE = [member('aa', 'cp1', '172.18.0.7'), member('bb', 'cp2', '172.18.0.8'), member('cc', 'cp3', '172.18.0.9')];

describe('cross-checks', () => {
  it('cross.member-wal-empty: a member of three with an empty WAL: the tocommit panic it will hit, and why', () => {
    const r = crossCheck({ wal: walWith(null, 0, 0), snaps: [], schema: schemaWith(THREE, 4120), dbUsable: true, addresses: [] });
    const f = r.findings.filter((x) => x.code === 'cross.member-wal-empty');
    expect(f).toHaveLength(1);
    expect(f[0]!.engineError).toBe('tocommit(4120) is out of range [lastIndex(0)]. Was the raft log corrupted, truncated, or lost?');
    // No WAL, so no node ID: the sentence does not call all three members "Member aa / bb / cc", it lists them.
    expect(f[0]!.messageKey).toBe('finding.cross.member-wal-empty.unnamed.message');
    expect(f[0]!.message).toMatch(
      /^The WAL is empty or missing, so nothing here names the member this dir belonged to; the db lists cp1 \(aa\), cp2 \(bb\), cp3 \(cc\)\./,
    );
    expect(f[0]!.message).toContain('Remove that member (`etcdctl member remove <ID>`) and add it again with an empty data dir');
    expect(translateLocal('zh-CN', { key: f[0]!.messageKey!, params: f[0]!.params })).toContain('db 中登记的成员有 cp1 (aa), cp2 (bb), cp3 (cc)');
    // The banner does not say "would start and keep every entry" above it: the member panics when it rejoins.
    const report = { engine: 'etcd', startable: true, dataLoss: false, lost: [], findings: f } as unknown as ValidationReport;
    expect(bannerOf(report)).toMatchObject({ kind: 'starts-then-panics', tone: 'bad' });
    expect(MESSAGES['zh-CN']['validation.verdict.starts-then-panics']).toMatch(/panic/);
    // One member alone bootstraps itself: no such warning.
    expect(crossCheck({ wal: walWith(null, 0, 0), snaps: [], schema: schemaWith(THREE.slice(0, 1), 40), dbUsable: true, addresses: [] }).findings).toEqual([]);
  });

  it('cross.node-not-member: the WAL belongs to a member the db no longer lists', () => {
    const r = crossCheck({ wal: walWith('dd', 100, 100), snaps: [], schema: schemaWith(THREE, 100), dbUsable: true, addresses: [] });
    expect(r.crossCheck.nodeIsMember).toBe(false);
    expect(r.findings.map((x) => [x.code, x.severity])).toEqual([['cross.node-not-member', 'error']]);
    expect(r.findings[0]!.message).toContain('cp1 aa, cp2 bb, cp3 cc');
    expect(crossCheck({ wal: walWith('bb', 100, 100), snaps: [], schema: schemaWith(THREE, 100), dbUsable: true, addresses: [] }).crossCheck.nodeIsMember).toBe(
      true,
    );
  });

  it('cross.db-ahead-of-wal and cross.commit-behind-snap', () => {
    const snap: SnapFileInfo = {
      file: 'member/snap/0000000000000002-00000000000000c8.snap',
      term: 2,
      index: 200,
      size: 10,
      ok: true,
      error: null,
      voters: [],
      learners: [],
      members: [],
      matchesWal: false,
      chosen: false,
    };
    const r = crossCheck({ wal: walWith('aa', 150, 150), snaps: [snap], schema: schemaWith(THREE, 180), dbUsable: true, addresses: [] });
    expect(r.findings.map((x) => x.code).sort()).toEqual(['cross.commit-behind-snap', 'cross.db-ahead-of-wal']);
    expect(r.crossCheck).toMatchObject({ walLastIndex: 150, commit: 150, consistentIndex: 180, newestSnapIndex: 200 });
  });

  it('cross.stale-address: members at addresses the nodes no longer have (kind after a reboot), from the db and WAL conf changes', () => {
    const wal = walWith('aa', 10, 10, { confChanges: [{ index: 1, term: 1, type: 'add', nodeId: 'bb', name: 'cp2', peerURLs: ['https://172.18.0.8:2380'] }] });
    const r = crossCheck({ wal, snaps: [], schema: schemaWith(THREE.slice(0, 1), 10), dbUsable: true, addresses: ['172.18.0.7', '172.18.0.10:2380'] });
    expect(r.crossCheck.staleAddresses).toEqual([{ memberId: 'bb', name: 'cp2', url: 'https://172.18.0.8:2380' }]);
    expect(r.crossCheck.addressesGiven).toEqual(['172.18.0.7', '172.18.0.10']);
    expect(r.findings.find((x) => x.code === 'cross.stale-address')?.message).toContain('--force-new-cluster');
  });

  it('addresses: IPv6, ports, brackets and host names normalise; hosts come out of URLs without regex blow-up', () => {
    expect(normaliseAddresses([' [FE80::1]:2380 ', 'Node-A,10.0.0.1:2379', ''])).toEqual(['fe80::1', 'node-a', '10.0.0.1']);
    expect(urlHost('https://[fe80::1]:2380')).toBe('fe80::1');
    expect(urlHost('http://etcd-0.etcd:2380/x')).toBe('etcd-0.etcd');
    expect(urlHost('not a url')).toBeNull();
    expect(urlHost(`http://${'a'.repeat(100_000)}`)).toBeNull();
  });

  it('applyAddressCheck re-runs the address check of a finished report', () => {
    const report = bareEtcdReport('x', {
      layout: { input: 'data-dir', walDir: 'member/wal', snapDir: 'member/snap', dbFile: 'member/snap/db', leftovers: [] },
      wal: walWith('aa', 5, 5),
      snaps: [],
      bbolt: { openError: null } as BboltInfo,
      schema: schemaWith(THREE, 5),
      startup: { model: '3.4', chosenSnap: null, replay: null, fatalError: null, selfRepairs: [], narrative: [] },
      crossCheck: { walLastIndex: 5, commit: 5, consistentIndex: 5, newestSnapIndex: null, nodeIsMember: true, staleAddresses: [], addressesGiven: [] },
    });
    const healthy = sayEtcd('etcd-verdict.summary.healthy');
    report.summary = healthy.text;
    report.summaryText = healthy.local;
    const r = applyAddressCheck(report, ['172.18.0.7', '172.18.0.8']);
    expect(r.etcd?.crossCheck.staleAddresses.map((s) => s.memberId)).toEqual(['cc']);
    expect(r.findings.map((f) => f.code)).toEqual(['cross.stale-address']);
    // The verdict line no longer calls the member healthy above a warning that its peers cannot reach it, in either language.
    expect(r.summary).toBe(`etcd would start and no data is lost, but read this first: ${r.findings[0]!.message}`);
    expect(r.summary).toContain('registered with peer URL https://172.18.0.9:2380');
    expect(translateLocal('zh-CN', r.summaryText!)).toMatch(/^etcd 可以启动且不会丢失数据，但请先阅读：.*https:\/\/172\.18\.0\.9:2380/);
    const all = applyAddressCheck(
      r,
      THREE.map((m) => m.peerURLs[0]!.split('//')[1]!.split(':')[0]!),
    );
    expect(all.findings).toEqual([]);
    expect(all.summary).toBe(healthy.text);
    // A summary that already leads with something worse keeps it.
    const fails = sayEtcd('etcd-verdict.summary.fails', { error: 'x' }, { next: [sayEtcd('etcd-verdict.next.other')] });
    const failing = applyAddressCheck({ ...report, startable: false, summary: fails.text, summaryText: fails.local }, ['172.18.0.7']);
    expect(failing.summary).toBe(fails.text);
  });
});

describe('start-up model rules without a real dir', () => {
  const layout: EtcdLayout = { input: 'data-dir', walDir: 'member/wal', snapDir: 'member/snap', dbFile: 'member/snap/db', leftovers: [] };
  const bbolt = {
    file: 'member/snap/db',
    size: 8192,
    chosenMeta: 0,
    metas: [{ page: 0, txid: 5 }],
    openError: null,
    freepagesPanic: null,
    mvccRestoreError: null,
  } as unknown as BboltInfo;

  it('a db etcd cannot walk: the advice names the older meta when its tree is intact, else the rebuild from the leaves', () => {
    const wal = walWith('aa', 90, 100);
    const panic = 'freepages: failed to get all reachable pages (page 0: invalid type: meta)';
    const advice = (otherMetaTreeOk: boolean | null) =>
      modelStartup({
        root: 'x',
        layout,
        wal,
        walError: null,
        snaps: [],
        bbolt: { ...bbolt, freepagesPanic: panic, otherMetaTreeOk },
        schema: schemaWith(THREE, 80),
      });
    const revert = advice(true);
    expect(revert.startable).toBe(false);
    expect(revert.summary).toContain("the older meta page's tree is intact");
    expect(revert.summary).not.toContain('neither meta page');
    for (const rebuild of [advice(false), advice(null)]) {
      expect(rebuild.summary).toContain('neither meta page leads to an intact tree');
      expect(rebuild.summary).toContain('rebuilds the db from every readable leaf page plus the WAL');
    }
  });

  it('startup.wal-repair-loses: the last readable HardState committed past the tear, beyond the db', () => {
    const wal = walWith('aa', 90, 100, { tornTail: { file: 'member/wal/0000000000000000-0000000000000000.wal', offset: 4096 } });
    const v = modelStartup({
      root: 'x',
      layout,
      wal,
      walError: { kind: 'torn-tail', file: wal.tornTail!.file, offset: 4096, engineError: 'unexpected EOF', repairable: true },
      snaps: [],
      bbolt,
      schema: schemaWith(THREE, 80),
    });
    expect(v).toMatchObject({ startable: true, dataLoss: true });
    expect(v.findings.map((f) => f.code)).toEqual(['startup.wal-repaired', 'startup.wal-repair-loses']);
    expect(v.findings[1]!.params).toMatchObject({ from: 91, last: 100, ci: 80 });
    expect(v.summary).toContain('WAL entries 91..100 not in the db');
  });

  it('start-up order: a WAL that fails only when opened at the snapshot loses to the missing .snap.db panic, which comes first', () => {
    const snap: SnapFileInfo = {
      file: 'member/snap/0000000000000002-00000000000000c8.snap',
      term: 2,
      index: 200,
      size: 10,
      ok: true,
      error: null,
      voters: [],
      learners: [],
      members: [],
      matchesWal: true,
      chosen: true,
    };
    const wal = walWith('aa', 300, 300);
    const walError = {
      kind: 'other' as const,
      file: null,
      offset: null,
      engineError: 'wal: file not found',
      repairable: false,
      stage: 'open' as const,
      fatalText: 'open wal error: wal: file not found',
    };
    const first = modelStartup({ root: 'x', layout, wal, walError, snaps: [snap], bbolt, schema: schemaWith(THREE, 100) });
    expect(first.startup.fatalError).toBe("recovering backend from snapshot error: failed to find database snapshot file (snap: snapshot file doesn't exist)");
    const then = modelStartup({ root: 'x', layout, wal, walError, snaps: [snap], bbolt, schema: schemaWith(THREE, 250) });
    expect(then.startup.fatalError).toBe('open wal error: wal: file not found');
    const early = modelStartup({
      root: 'x',
      layout,
      wal,
      walError: { ...walError, stage: 'valid-snapshot-entries' as const, fatalText: 'walpb: crc mismatch' },
      snaps: [snap],
      bbolt,
      schema: schemaWith(THREE, 100),
    });
    expect(early.startup.fatalError).toBe('walpb: crc mismatch');
  });

  it('startup.replay-gap: purged WAL files and no .snap leave a hole between the db and the log', () => {
    const wal = walWith('aa', 500, 500, { firstIndex: 300 });
    const v = modelStartup({ root: 'x', layout, wal, walError: null, snaps: [], bbolt, schema: schemaWith(THREE, 120) });
    expect(v.findings.map((f) => f.code)).toEqual(['startup.replay-gap']);
    expect(v.findings[0]!.params).toMatchObject({ from: 121, to: 299 });
  });

  it('startup.wal-cut-short: a last WAL file shorter than etcd preallocates, ending mid-record, with no zero tail and no .broken copy', () => {
    const cut = (size: number, zeroTailBytes: number, leftovers: EtcdLayout['leftovers'] = [], status: 'torn' | 'ok' = 'torn') => {
      const wal = walWith('aa', 500, 500);
      wal.files[0] = { ...wal.files[0]!, size, validBytes: size - zeroTailBytes - (status === 'torn' ? 100 : 0), zeroTailBytes, status };
      return modelStartup({ root: 'x', layout: { ...layout, leftovers }, wal, walError: null, snaps: [], bbolt, schema: schemaWith(THREE, 480) });
    };
    const v = cut(100_000, 0);
    expect(v.findings.map((f) => f.code)).toEqual(['startup.wal-cut-short']);
    expect(v.findings[0]!.params).toMatchObject({ size: 100_000, segment: 64_000_000, last: 500, ci: 480 });
    expect(v.summary).toBe(
      'etcd would start, but member/wal/0000000000000000-0000000000000000.wal was cut short after etcd wrote it, not torn by a crash: what it held after entry 500 is gone, and whether committed writes were among it cannot be told from this directory (the db holds up to index 480). If this is a copy, copy the WAL again; otherwise compare with the other members or a backup before starting etcd.',
    );
    expect(v.dataLoss).toBe(false);
    // etcd's own repair leaves the file short and a .broken copy beside it; a zero tail is preallocation; a file past 64 MB
    // ran over it; a file that ends right after a record is a copy with its zero tail trimmed (Lifeboat's own samples).
    const broken = { file: 'member/wal/0000000000000000-0000000000000000.wal.broken', size: 64_000_000, kind: 'broken' as const };
    for (const ok of [cut(100_000, 0, [broken]), cut(100_000, 4096), cut(64_000_000, 0), cut(70_000_000, 0), cut(100_000, 0, [], 'ok')])
      expect(ok.findings.map((f) => f.code)).toEqual([]);
  });
});

describe('member comparison', () => {
  const rep = (root: string, startable: boolean, lastTerm: number, last: number, ci: number): ValidationReport =>
    bareEtcdReport(root, { wal: walWith('aa', last, last, { lastTerm }), schema: schemaWith(THREE, ci) } as ValidationReport['etcd'], startable);

  it('the higher last term wins over a longer log; a member that cannot start is never chosen', () => {
    const c = compareMembers([rep('a', true, 3, 100, 100), rep('b', true, 4, 90, 90), rep('c', false, 5, 200, 200)]);
    expect(c.keep).toBe('b');
    expect(c.rows.map((r) => r.newest)).toEqual([false, true, false]);
    expect(c.reason).toContain('highest last log term (4)');
  });

  it('equal logs: the higher applied index, then revision, decide; nobody can start: keep nothing', () => {
    const tie = compareMembers([rep('a', true, 3, 100, 90), rep('b', true, 3, 100, 95)]);
    expect(tie.keep).toBe('b');
    expect(tie.reason).toContain('highest revision (95)');
    expect(compareMembers([rep('a', false, 3, 100, 90), rep('b', false, 3, 100, 95)])).toMatchObject({ keep: null });
    expect(MESSAGES['zh-CN'][tie.reasonText!.key]).toMatch(/[\u4e00-\u9fff]/);
    expect(tie.reasonText).toEqual({ key: 'etcd-verdict.members.keep.revision', params: { root: 'b', value: 95 } });
  });
});
