/**
 * What real etcd 3.4 prints, read by the log view: its default logger (capnslog, what a systemd etcd 3.4 writes to
 * the journal unless `--logger=zap` is set) says "starting" differently from 3.5's JSON, and the db failures that
 * stop it before the freepages walk (both meta pages refused; a read past the end of a truncated db, SIGBUS) each
 * get a signature of their own with the path and the error etcd printed, not only "a Go program panicked".
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeLogText } from '../../shared/logs';
import { suggestPlaybooks } from '../../shared/guided/playbooks';
import { requireEtcd, spawnEtcd, tempDir, tryStartEtcd, waitHealthy, writeKeys } from '../helpers/etcd';

const haveEtcd = requireEtcd();
let root = '';
let golden = '';
let host = { host: '', clientPort: 0, peerPort: 0 };

beforeAll(async () => {
  if (!haveEtcd) return;
  root = await tempDir('etcd-logs');
  golden = `${root}/golden`;
  const node = await spawnEtcd({ dataDir: golden });
  try {
    expect(await waitHealthy(node), node.output()).toBe(true);
    await writeKeys(node, 50, 1, 100);
  } finally {
    await node.stop();
  }
  host = { host: node.endpoint.host, clientPort: node.endpoint.clientPort, peerPort: node.endpoint.peerPort };
}, 60_000);
afterAll(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
});

/** A copy of the golden data dir with its db changed by `damage`. */
async function damagedCopy(name: string, damage: (db: Buffer) => Buffer): Promise<string> {
  const dir = `${root}/${name}`;
  await fs.cp(golden, dir, { recursive: true });
  const db = `${dir}/member/snap/db`;
  await fs.writeFile(db, damage(await fs.readFile(db)));
  return dir;
}

const PAGE = 4096;

describe('etcd 3.4 logs', () => {
  it.skipIf(!haveEtcd)('two real starts on one data dir are two starts, each naming the data dir', async () => {
    const dataDir = `${root}/restarted`;
    let log = '';
    for (let i = 0; i < 2; i++) {
      // Before the second start, the dir as a copy or restore often leaves it: readable by others (etcd warns, runs).
      if (i === 1) await fs.chmod(dataDir, 0o755);
      const node = await spawnEtcd({ dataDir });
      try {
        expect(await waitHealthy(node), node.output()).toBe(true);
      } finally {
        await node.stop();
      }
      log += node.output();
    }
    // The default logger, not zap: this is the text the pattern is for.
    expect(log).toMatch(/ I \| embed: data dir = /);
    const analysis = analyzeLogText('etcd', log);
    expect(analysis.counts['etcd.server-starting']).toBe(2);
    const starts = analysis.matches.filter((m) => m.signatureId === 'etcd.server-starting');
    expect(starts.map((m) => m.fields.dataDir)).toEqual([dataDir, dataDir]);
    // The permission warning of the second start: told as what it is (a note, not why etcd would stop), once.
    expect(log).toContain('exist, but the permission is "drwxr-xr-x"');
    const permissive = analysis.matches.filter((m) => m.signatureId === 'etcd.data-dir-permissive');
    expect(permissive.map((m) => [m.severity, m.fields.path, m.fields.mode])).toEqual([['info', dataDir, 'drwxr-xr-x']]);
    expect(
      suggestPlaybooks(
        analysis.matches.map((m) => m.signatureId),
        null,
      ),
    ).toEqual([]);
  });

  // bbolt's meta page: the page header (16 bytes), then magic (4), version (4), ..., the checksum last.
  const cases: [string, string[], (db: Buffer) => Buffer, string][] = [
    ['both metas with a wrong magic (capnslog)', [], (db) => flip(db, [16, PAGE + 16]), 'invalid database'],
    ['both metas with a wrong magic (zap)', ['--logger=zap'], (db) => flip(db, [16, PAGE + 16]), 'invalid database'],
    ['both metas with a broken checksum', [], (db) => flip(db, [16 + 56, PAGE + 16 + 56]), 'checksum error'],
  ];
  it.skipIf(!haveEtcd).each(cases)('%s: "could not open its database" with the path and the error', async (name, extraArgs, damage, error) => {
    const dir = await damagedCopy(name.replace(/\W+/g, '-'), damage);
    const run = await tryStartEtcd({ dataDir: dir, ...host, extraArgs });
    expect(run.started).toBe(false);
    const analysis = analyzeLogText('etcd', run.output);
    // Once per crash: capnslog's panic repeats the line, and that repeat stays the Go panic's.
    expect(analysis.counts['etcd.bbolt-open-failed'], run.output).toBe(1);
    const m = analysis.matches.find((x) => x.signatureId === 'etcd.bbolt-open-failed')!;
    expect(m.fields).toEqual({ path: `${dir}/member/snap/db`, error });
    expect(analysis.story[0]?.signatureId).toBe('etcd.bbolt-open-failed');
    // The corrupt-db playbooks, not every etcd one.
    const seen = Object.keys(analysis.counts).filter((id) => analysis.counts[id]! > 0);
    expect(suggestPlaybooks(seen, 'etcd').map((p) => p.id)).toEqual(['kubeadm-etcd-db', 'etcd-systemd-restore']);
  });

  it.skipIf(!haveEtcd)('a WAL record that no longer decodes: its own signature, with etcd’s protobuf error', async () => {
    const dir = `${root}/wal-undecodable`;
    await fs.cp(golden, dir, { recursive: true });
    const wal = `${dir}/member/wal/${(await fs.readdir(`${dir}/member/wal`)).filter((n) => n.endsWith('.wal')).sort()[0]}`;
    // The first record's first payload byte (after its 8-byte length word) zeroed: protobuf field number 0.
    const bytes = await fs.readFile(wal);
    bytes[8] = 0;
    await fs.writeFile(wal, bytes);
    const run = await tryStartEtcd({ dataDir: dir, ...host });
    expect(run.started).toBe(false);
    expect(run.output).toContain('C | etcdmain: proto: Record: illegal tag 0 (wire type 0)');
    const analysis = analyzeLogText('etcd', run.output);
    expect(analysis.counts['etcd.wal-undecodable']).toBe(1);
    expect(analysis.story[0]).toMatchObject({ signatureId: 'etcd.wal-undecodable', fields: { detail: 'illegal tag 0 (wire type 0)' } });
    // The catch-all for fatal lines stays out where a signature says more.
    expect(analysis.counts['etcd.fatal'] ?? 0).toBe(0);
  });

  it.skipIf(!haveEtcd)('any other line etcd dies with (zap): "etcd stopped" with what the line says', async () => {
    const file = `${root}/a-file-not-a-dir-zap`;
    await fs.writeFile(file, 'x');
    const run = await tryStartEtcd({ dataDir: file, ...host, extraArgs: ['--logger=zap'] });
    expect(run.started).toBe(false);
    const analysis = analyzeLogText('etcd', run.output);
    expect(analysis.counts['etcd.fatal'], run.output).toBe(1);
    expect(analysis.story[0]).toMatchObject({
      signatureId: 'etcd.fatal',
      fields: { message: `failed to list data directory: readdirent ${file}: not a directory` },
    });
    // zap says why it could not list the dir: not a permission problem, so not told as one.
    expect(analysis.counts['etcd.data-dir-access'] ?? 0).toBe(0);
  });

  it.skipIf(!haveEtcd)('any other line etcd dies with (capnslog): "etcd stopped" with what the line says', async () => {
    // A --wal-dir under a file: nothing more specific says it.
    const file = `${root}/a-file-for-a-wal-dir`;
    await fs.writeFile(file, 'x');
    const run = await tryStartEtcd({ dataDir: `${root}/wal-under-a-file`, ...host, extraArgs: ['--wal-dir', `${file}/wal`] });
    expect(run.started).toBe(false);
    const analysis = analyzeLogText('etcd', run.output);
    expect(analysis.counts['etcd.fatal'], run.output).toBe(1);
    expect(analysis.story[0]).toMatchObject({
      signatureId: 'etcd.fatal',
      fields: { message: `create wal error: mkdir ${file}: not a directory` },
    });
  });

  it.skipIf(!haveEtcd).each([
    ['capnslog', []],
    ['zap', ['--logger=zap']],
  ])('a member with no data joining a cluster none of whose peers answers (%s): told once, leading to the member playbooks', async (_logger, extraArgs) => {
    const run = await tryStartEtcd({ dataDir: `${root}/joins-nobody-${extraArgs.length}`, ...host, clusterState: 'existing', extraArgs });
    expect(run.started).toBe(false);
    const analysis = analyzeLogText('etcd', run.output);
    expect(analysis.counts['etcd.join-no-peers'], run.output).toBe(1);
    expect(analysis.story[0]).toMatchObject({
      signatureId: 'etcd.join-no-peers',
      fields: { error: 'could not retrieve cluster information from the given URLs' },
    });
    expect(analysis.counts['etcd.fatal'] ?? 0).toBe(0);
    const seen = Object.keys(analysis.counts).filter((id) => analysis.counts[id]! > 0);
    expect(suggestPlaybooks(seen, 'etcd').map((p) => p.id)).toEqual(['etcd-member-lost', 'etcd-quorum-space']);
  });

  // A member set up from scratch whose flags disagree: etcd on an empty data dir, and etcdctl snapshot restore.
  const peer = () => `http://${host.host}:${host.peerPort}`;
  const bootstrapCases: [string, string[], () => { name: string; initialCluster: string }, Record<string, string>][] = [
    ['a name --initial-cluster does not list (capnslog)', [], () => ({ name: 'n2', initialCluster: `n1=${peer()}` }), { name: 'n2' }],
    ['a name --initial-cluster does not list (zap)', ['--logger=zap'], () => ({ name: 'n2', initialCluster: `n1=${peer()}` }), { name: 'n2' }],
    [
      'a peer URL --initial-cluster gives otherwise (capnslog)',
      [],
      () => ({ name: 'n1', initialCluster: 'n1=http://127.0.0.254:2380' }),
      { name: 'n1', clusterUrl: 'http://127.0.0.254:2380' },
    ],
    [
      'a peer URL --initial-cluster gives otherwise (zap)',
      ['--logger=zap'],
      () => ({ name: 'n1', initialCluster: 'n1=http://127.0.0.254:2380' }),
      { name: 'n1', clusterUrl: 'http://127.0.0.254:2380' },
    ],
  ];
  it.skipIf(!haveEtcd).each(bootstrapCases)(
    '%s: told as a member set up from scratch, in etcd and in etcdctl snapshot restore',
    async (name, extraArgs, flags, fields) => {
      const dir = `${root}/scratch-${name.replace(/\W+/g, '-')}`;
      const { name: member, initialCluster } = flags();
      const run = await tryStartEtcd({ dataDir: dir, ...host, name: member, initialCluster, extraArgs });
      expect(run.started).toBe(false);
      for (const output of [
        run.output,
        // etcdctl checks the same flags before it writes anything, and says it the same way.
        restoreOutput(['--name', member, '--initial-cluster', initialCluster, '--initial-advertise-peer-urls', peer(), '--data-dir', `${dir}-restored`]),
      ]) {
        const analysis = analyzeLogText('etcd', output);
        expect(analysis.counts['etcd.bootstrap-flags'], output).toBe(1);
        expect(analysis.matches.find((m) => m.signatureId === 'etcd.bootstrap-flags')!.fields).toMatchObject(fields);
        expect(analysis.counts['etcd.fatal'] ?? 0).toBe(0);
      }
    },
  );

  it.skipIf(!haveEtcd)('a data dir path that is a file (capnslog): told as a data dir etcd cannot read, never as damage', async () => {
    const file = `${root}/a-file-not-a-dir`;
    await fs.writeFile(file, 'x');
    const run = await tryStartEtcd({ dataDir: file, ...host });
    expect(run.output).toContain(`C | etcdmain: error listing data dir: ${file}`);
    const analysis = analyzeLogText('etcd', run.output);
    expect(analysis.story.map((m) => [m.signatureId, m.fields.path])).toEqual([['etcd.data-dir-unlisted', file]]);
  });

  it.skipIf(!haveEtcd)('a db truncated to half: a SIGBUS in bbolt, told as a read past the end of a mapped file', async () => {
    const dir = await damagedCopy('truncated', (db) => db.subarray(0, Math.floor(db.length / PAGE / 2) * PAGE));
    const run = await tryStartEtcd({ dataDir: dir, ...host });
    expect(run.started).toBe(false);
    expect(run.output).toContain('go.etcd.io/bbolt');
    const analysis = analyzeLogText('etcd', run.output);
    expect(analysis.counts['runtime.sigbus'], run.output).toBe(1);
    expect(analysis.matches.find((x) => x.signatureId === 'runtime.sigbus')!.fields.address).toMatch(/^0x[0-9a-f]+$/);
    expect(analysis.story.map((s) => s.signatureId)).toContain('runtime.sigbus');
  });
});

/**
 * etcd run as its own user (as a unit with User=etcd runs it) on a data dir where root owns a part: what a restore, a
 * copy or a move run with sudo leaves. Each is told as a directory etcd may not open, with the path etcd named,
 * once per crash, never as a damaged db or WAL (the data is intact), and no playbook restores over it.
 */
describe.skipIf(!haveEtcd)('etcd 3.4 that may not open its own files', () => {
  const nobody = {
    uid: Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })),
    gid: Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' })),
  };
  let base = '';

  beforeAll(async () => {
    base = `${root}/as-nobody`;
    await fs.mkdir(base);
    // etcd's user must reach the copies: the temp root is 0700.
    await fs.chmod(root, 0o755);
    await fs.chmod(base, 0o755);
  });

  /** A copy of the golden dir owned by etcd's user, then `rootOwned` (relative paths) given back to root, mode 700. */
  async function copyOwned(name: string, rootOwned: string[]): Promise<string> {
    const dir = `${base}/${name}`;
    await fs.cp(golden, dir, { recursive: true });
    execFileSync('chown', ['-R', `${nobody.uid}:${nobody.gid}`, dir]);
    await fs.chmod(dir, 0o700);
    for (const p of rootOwned) execFileSync('chown', ['0:0', `${dir}/${p}`.replace(/\/$/, '')]);
    return dir;
  }

  const cases: [string, string[], string[], (dir: string, wal: string) => string, string][] = [
    ['the restored dir is root’s (capnslog)', [''], [], (d) => d, 'etcd.data-dir-unlisted'],
    ['the restored dir is root’s (zap)', [''], ['--logger=zap'], (d) => d, 'etcd.data-dir-access'],
    ['the db is root’s (capnslog)', ['member/snap/db'], [], (d) => `${d}/member/snap/db`, 'etcd.data-dir-access'],
    ['the db is root’s (zap)', ['member/snap/db'], ['--logger=zap'], (d) => `${d}/member/snap/db`, 'etcd.data-dir-access'],
    ['member/ is root’s (capnslog)', ['member'], [], (d) => `${d}/member/snap`, 'etcd.data-dir-access'],
    ['member/ is root’s (zap)', ['member'], ['--logger=zap'], (d) => `${d}/member/snap`, 'etcd.data-dir-access'],
    ['the WAL files are root’s (capnslog)', ['member/wal/WAL'], [], (d, wal) => `${d}/member/wal/${wal}`, 'etcd.data-dir-access'],
  ];
  it.each(cases)('%s', async (name, rootOwned, extraArgs, pathOf, signature) => {
    const dir = `${base}/${name.replace(/\W+/g, '-')}`;
    const wal = (await fs.readdir(`${golden}/member/wal`)).filter((n) => n.endsWith('.wal')).sort()[0]!;
    await copyOwned(
      dir.slice(base.length + 1),
      rootOwned.map((p) => p.replace(/WAL$/, wal)),
    );
    const run = await tryStartEtcd({ dataDir: dir, ...host, extraArgs, as: nobody });
    expect(run.started, run.output).toBe(false);
    const analysis = analyzeLogText('etcd', run.output);
    expect(analysis.counts[signature], run.output).toBe(1);
    expect(analysis.matches.find((m) => m.signatureId === signature)!.fields.path).toBe(pathOf(dir, wal));
    // Not damage: no db or WAL signature, and so no restore playbook offered for it.
    const seen = Object.keys(analysis.counts).filter((id) => analysis.counts[id]! > 0);
    expect(seen.filter((id) => /bbolt|wal-|snap-/.test(id))).toEqual([]);
    expect(suggestPlaybooks(seen, 'etcd').map((p) => p.id)).toEqual([]);
  });
});

/** What `etcdctl snapshot restore` prints with these flags (it checks them before reading the snapshot). */
function restoreOutput(flags: string[]): string {
  const r = spawnSync('etcdctl', ['snapshot', 'restore', `${root}/no-such-snapshot.db`, ...flags], {
    encoding: 'utf8',
    env: { ...process.env, ETCDCTL_API: '3' },
    timeout: 20_000,
  });
  return `${r.stdout}${r.stderr}`;
}

function flip(db: Buffer, offsets: number[]): Buffer {
  const out = Buffer.from(db);
  for (const o of offsets) out[o] = out[o]! ^ 0xff;
  return out;
}
