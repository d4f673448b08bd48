/**
 * A backup of the data dir handed over as an archive (tar, gzip, bzip2, xz,
 * zstd, zip, made here by the real tools) is no datastore, but the verdict
 * says what it is and how to extract it, and the command it gives, run in a
 * new folder, yields the data dir, which then validates as etcd. A file that
 * is no archive is still "not a datastore". Inputs are hashed before and
 * after.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalTarget } from '../../electron/services/fs-source';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend } from '../../shared/formats/etcd/etcd-db-write';
import { translate, translateLocal } from '../../shared/i18n/index';
import { EtcdInputError, salvageToSnapshotDb } from '../../electron/services/etcd-repair';
import { validateDirectory } from '../../shared/validate';
import { tempDir } from '../helpers/etcd';
import { CLI, ensureBuilt, runCli, runCommand } from '../cli/fixtures';

const TOOLS = ['tar', 'gzip', 'bzip2', 'xz', 'zstd', 'zip', 'unzip', 'sqlite3'];
const missing = TOOLS.filter((t) => !['/usr/bin', '/bin'].some((d) => existsSync(path.join(d, t))));
if (missing.length > 0 && process.env.CI === 'true')
  throw new Error(`CI=true but ${missing.join(', ')} missing: apt-get install xz-utils zstd bzip2 zip sqlite3`);

let root = '';
const te = new TextEncoder();

const sha = async (file: string) =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');

/** As the validation worker runs it: the input's folder given, so that the commands a finding names are absolute. */
async function validate(p: string) {
  const src = await openLocalTarget(p);
  try {
    return await validateDirectory(src, { inputDir: src.isFile ? path.dirname(src.path) : src.path });
  } finally {
    await src.close();
  }
}

beforeAll(async () => {
  root = await tempDir('archive-input');
  // A member dir's db, as tar would find it under /var/lib/etcd.
  const sink = memorySink();
  await writeEtcdBackend(sink, {
    revisions: [
      {
        key: revisionKey(2, 0),
        value: encodeKeyValue({ key: te.encode('/registry/pods/a'), createRevision: 2, modRevision: 2, version: 1, value: te.encode('v'), lease: 0n }),
      },
    ],
    buckets: { meta: [[te.encode('consistent_index'), u64be(3)]] },
  });
  await fs.mkdir(path.join(root, 'etcd', 'member', 'snap'), { recursive: true });
  await fs.writeFile(path.join(root, 'etcd', 'member', 'snap', 'db'), sink.bytes());
});
afterAll(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
});

describe('an archive handed over instead of a data dir', () => {
  const made: [string, string, string[]][] = [
    ['gzip', 'etcd-backup.tgz', ['tar', '-czf']],
    ['bzip2', 'etcd-backup.tar.bz2', ['tar', '-cjf']],
    ['xz', 'etcd-backup.tar.xz', ['tar', '-cJf']],
    ['zstd', 'etcd-backup.tar.zst', ['tar', '--zstd', '-cf']],
    ['tar', 'etcd-backup.tar', ['tar', '-cf']],
    ['zip', 'etcd-backup.zip', ['zip', '-qr']],
  ];
  it.skipIf(missing.length > 0).each(made)('%s: told as an archive, with the command that extracts the data dir', async (kind, name, make) => {
    const dir = path.join(root, kind);
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, name);
    execFileSync(make[0]!, [...make.slice(1), file, 'etcd'], { cwd: root });
    const before = await sha(file);
    const report = await validate(file);
    expect(report.engine).toBe('unknown');
    expect(report.findings.map((f) => f.code)).toEqual(['engine.archive']);
    const f = report.findings[0]!;
    expect(f.params).toMatchObject({ file: name, kind });
    expect(report.summary).toContain(`is a ${kind} archive`);
    // The Chinese text of the same verdict names the file and the command.
    const zh = translateLocal('zh-CN', report.summaryText!);
    expect(zh).toContain(name);
    expect(zh).toContain(String(f.params!.command));
    // Run as given (it names the archive where it is), in a new folder: the data dir comes out, and validates as etcd.
    const out = path.join(dir, 'extracted');
    await fs.mkdir(out);
    expect(String(f.params!.command)).toContain(`'${file}'`);
    execFileSync('sh', ['-c', String(f.params!.command)], { cwd: out, stdio: 'ignore' });
    const inside = await validate(path.join(out, 'etcd', 'member', 'snap', 'db'));
    expect(inside.engine).toBe('etcd');
    expect(inside.etcd!.schema!.liveKeys).toBe(1);
    expect(await sha(file)).toBe(before);
  });

  it.skipIf(missing.length > 0)('salvage of an archive says to extract it, and writes nothing', async () => {
    const file = path.join(root, 'salvage-me.tgz');
    execFileSync('tar', ['-czf', file, 'etcd'], { cwd: root });
    const before = await sha(file);
    const outFile = path.join(root, 'salvaged.db');
    const err = await salvageToSnapshotDb(file, outFile).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EtcdInputError);
    const text = (err as EtcdInputError).text;
    expect(text).toMatchObject({ key: 'etcdRepairUi.input.archive', params: { kind: 'gzip', command: "tar -xzf 'salvage-me.tgz'" } });
    expect(translate('zh-CN', text.key, text.params)).toContain("tar -xzf 'salvage-me.tgz'");
    expect(existsSync(outFile)).toBe(false);
    expect(existsSync(`${outFile}.lifeboat-part`)).toBe(false);
    expect(await sha(file)).toBe(before);
  });

  // One file compressed on its own (`gzip snapshot.db` after `etcdctl snapshot save`): tar's command would fail on it.
  const compressed: [string, string, string, string, string][] = [
    // label, the file's name, the shell command that makes it from ./snapshot.db, the inner name told, kind
    ['gzip (name stored in the header)', 'snapshot.db.gz', 'gzip -k snapshot.db', 'snapshot.db', 'gzip'],
    ['gzip renamed (the stored name tells)', 'monday.gz', 'gzip -k snapshot.db && mv snapshot.db.gz monday.gz', 'snapshot.db', 'gzip'],
    ['gzip -n (no stored name: the file name tells)', 'db.gz', 'gzip -nc snapshot.db > db.gz', 'db', 'gzip'],
    ['bzip2', 'snapshot.db.bz2', 'bzip2 -k snapshot.db', 'snapshot.db', 'bzip2'],
    ['xz', 'snapshot.db.xz', 'xz -k snapshot.db', 'snapshot.db', 'xz'],
    ['zstd', 'snapshot.db.zst', 'zstd -q snapshot.db', 'snapshot.db', 'zstd'],
  ];
  it.skipIf(missing.length > 0).each(compressed)(
    '%s: told as one compressed file, and its two commands validate the copy',
    async (_label, name, make, inner, kind) => {
      const dir = path.join(root, `one-${name}`);
      await fs.mkdir(dir);
      await fs.copyFile(path.join(root, 'etcd', 'member', 'snap', 'db'), path.join(dir, 'snapshot.db'));
      execFileSync('sh', ['-c', make], { cwd: dir });
      const file = path.join(dir, name);
      const before = await sha(file);
      const report = await validate(file);
      expect(report.engine).toBe('unknown');
      expect(report.findings.map((f) => f.code)).toEqual(['engine.compressed']);
      // Its head was read to tell it: the report's "Read N bytes" says so (it said 0).
      expect(report.bytesRead).toBe(Math.min((await fs.stat(file)).size, 263));
      const params = report.findings[0]!.params!;
      expect(params).toEqual({
        file: name,
        kind,
        inner,
        command: `mkdir '${inner}-decompressed' && ${kind} -dc '${file}' > '${inner}-decompressed/${inner}'`,
        validate: `lifeboat validate '${inner}-decompressed/${inner}'`,
      });
      expect(report.summary).toBe(
        `${name} is ${inner} compressed with ${kind}, not a datastore itself. Decompress it into a new folder, keeping the original (${params.command}), then validate the copy (${params.validate}).`,
      );
      const zh = translateLocal('zh-CN', report.summaryText!);
      expect(zh).toContain(String(params.command));
      expect(zh).toContain(String(params.validate));
      // Both commands as given, from another folder: the copy comes out beside nothing else and validates as etcd.
      const work = path.join(dir, 'work');
      await fs.mkdir(work);
      execFileSync('sh', ['-c', String(params.command)], { cwd: work, stdio: 'ignore' });
      await ensureBuilt();
      const said = await runCommand('sh', ['-c', `lifeboat() { "${process.execPath}" "${CLI}" "$@"; }; ${String(params.validate)}`], work);
      expect(said.stdout).toContain('(engine: etcd)');
      expect(said.stdout).toContain('1 live keys');
      // Run twice, the first command stops at mkdir: the copy is never written over.
      expect(() => execFileSync('sh', ['-c', String(params.command)], { cwd: work, stdio: 'ignore' })).toThrow();
      expect(await sha(file)).toBe(before);
      // Salvage says the same instead of writing a snapshot.db from compressed bytes.
      const err = await salvageToSnapshotDb(file, path.join(dir, 'out.db')).then(
        () => null,
        (e: unknown) => e,
      );
      expect((err as EtcdInputError).text).toMatchObject({ key: 'etcdRepairUi.input.compressed', params: { kind, inner } });
      expect(existsSync(path.join(dir, 'out.db'))).toBe(false);
    },
  );

  it.skipIf(missing.length > 0)('a compressed tar under a name that does not say so is decompressed first, then told as the tar it is', async () => {
    const dir = path.join(root, 'tar-gz-no-name');
    await fs.mkdir(dir);
    const file = path.join(dir, 'backup.gz');
    execFileSync('tar', ['-czf', file, 'etcd'], { cwd: root });
    const report = await validate(file);
    expect(report.findings.map((f) => [f.code, f.params?.inner])).toEqual([['engine.compressed', 'backup']]);
    const work = path.join(dir, 'work');
    await fs.mkdir(work);
    execFileSync('sh', ['-c', String(report.findings[0]!.params!.command)], { cwd: work, stdio: 'ignore' });
    const copy = path.join(work, 'backup-decompressed', 'backup');
    expect((await validate(copy)).findings.map((f) => [f.code, f.params?.command])).toEqual([['engine.archive', `tar -xf '${copy}'`]]);
    // gzip of a .tar keeps the .tar name in its header, and a .tgz says it by its name: extracted in one step.
    execFileSync('sh', ['-c', `tar -cf backup.tar etcd && gzip -c backup.tar > '${path.join(dir, 'monday.gz')}' && rm backup.tar`], { cwd: root });
    expect((await validate(path.join(dir, 'monday.gz'))).findings.map((f) => [f.code, f.params?.command])).toEqual([
      ['engine.archive', `tar -xzf '${path.join(dir, 'monday.gz')}'`],
    ]);
  });

  it('a file of other bytes is still not a datastore', async () => {
    const file = path.join(root, 'notes.txt');
    await fs.writeFile(file, 'nothing to see\n'.repeat(100));
    const report = await validate(file);
    expect(report.engine).toBe('unknown');
    expect(report.findings.map((f) => f.code)).toEqual(['engine.unknown']);
  });
});

describe("k3s's SQLite state.db, named like etcd's files", () => {
  // kine's table, as k3s creates it, with one row: enough for a real SQLite file in WAL mode.
  const KINE =
    'PRAGMA journal_mode=WAL; CREATE TABLE kine (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, created INTEGER, deleted INTEGER, create_revision INTEGER, prev_revision INTEGER, lease INTEGER, value BLOB, old_value BLOB);' +
    " INSERT INTO kine (name, created, deleted, create_revision, prev_revision, lease, value) VALUES ('/registry/pods/default/a', 1, 0, 0, 0, 0, 'v');";

  it.skipIf(missing.length > 0)('told as SQLite with the command that checks it, not validated as a bbolt db; salvage refuses it', async () => {
    const dir = path.join(root, 'k3s-lone');
    await fs.mkdir(dir);
    const file = path.join(dir, 'state.db');
    execFileSync('sqlite3', [file, KINE]);
    const before = await sha(file);
    const report = await validate(file);
    expect(report.engine).toBe('unknown');
    expect(report.findings.map((f) => f.code)).toEqual(['engine.sqlite']);
    expect(report.findings[0]!.params).toEqual({
      file: 'state.db',
      command: `sqlite3 -readonly '${file}' 'PRAGMA integrity_check'`,
      salvage: `lifeboat salvage '${file}' --out DIR`,
    });
    expect(report.summary).toContain('state.db is a SQLite database');
    const zh = translateLocal('zh-CN', report.summaryText!);
    expect(zh).toContain('SQLite');
    expect(zh).toContain(`sqlite3 -readonly '${file}' 'PRAGMA integrity_check'`);
    // The command as given runs from any directory and says the file is sound; it never makes a file elsewhere.
    expect(execFileSync('sh', ['-c', String(report.findings[0]!.params!.command)], { cwd: root, encoding: 'utf8' }).trim()).toBe('ok');
    expect(existsSync(path.join(root, 'state.db'))).toBe(false);

    const outFile = path.join(root, 'from-sqlite.db');
    const err = await salvageToSnapshotDb(file, outFile).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EtcdInputError);
    expect((err as EtcdInputError).text.key).toBe('etcdRepairUi.input.sqlite');
    expect(existsSync(outFile)).toBe(false);
    expect(await sha(file)).toBe(before);
  });

  it.skipIf(missing.length > 0)("k3s's db folder (state.db beside its -wal and -shm) is told as SQLite too", async () => {
    const dir = path.join(root, 'k3s-dir');
    await fs.mkdir(dir);
    execFileSync('sqlite3', [path.join(dir, 'state.db'), KINE]);
    // The -wal and -shm files a running (or crashed) k3s keeps beside it: names only, their bytes are not read.
    await fs.writeFile(path.join(dir, 'state.db-wal'), new Uint8Array(32));
    await fs.writeFile(path.join(dir, 'state.db-shm'), new Uint8Array(32768));
    const report = await validate(dir);
    expect(report.engine).toBe('unknown');
    expect(report.findings.map((f) => f.code)).toEqual(['engine.sqlite']);
    expect(report.findings[0]!.file).toBe('state.db');
    expect(report.findings[0]!.params?.salvage).toBe(`lifeboat salvage '${path.join(dir, 'state.db')}' --out DIR`);
    // The CLI says the same, and `salvage` takes the folder itself (its one SQLite database).
    await ensureBuilt();
    const said = await runCli(['validate', dir]);
    expect(said.stdout).toContain(`lifeboat salvage '${path.join(dir, 'state.db')}' --out DIR`);
    const out = path.join(root, 'k3s-dir-objects');
    const exported = await runCli(['salvage', dir, '--out', out, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ input: path.join(dir, 'state.db'), objects: 1, output: out });
    expect(readdirSync(path.join(out, 'pods', 'default'))).toEqual(['a.yaml']);
  });

  it('a lone WAL file is still read as etcd', async () => {
    const dir = path.join(root, 'lone-wal');
    await fs.mkdir(dir);
    const file = path.join(dir, '0000000000000000-0000000000000000.wal');
    await fs.writeFile(file, new Uint8Array(4096));
    const report = await validate(file);
    expect(report.engine).toBe('etcd');
  });
});
