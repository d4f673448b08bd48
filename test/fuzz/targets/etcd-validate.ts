import { validateDirectory } from '../../../shared/validate';
import { mutateBytes } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { etcdSampleDir } from './corpus';
import { nestedDirectory } from './etcd-corpus';

type Dir = Record<string, Uint8Array>;

export const etcdValidate: FuzzTarget<Dir, Dir[]> = {
  name: 'etcd-validate',
  what: 'whole etcd data-dir validation (member/wal, member/snap .snap files, member/snap/db, cross-checks) of mutated real data dirs: a sound report, findings inside their files, plain data',
  corpus: () => [etcdSampleDir('etcd-healthy'), etcdSampleDir('etcd-field-report')],
  generate: (r, corpus) => {
    const files: Dir = { ...r.pick(corpus) };
    const names = Object.keys(files);
    for (let k = r.chance(0.8) ? 1 : 2 + r.int(3); k > 0; k--) {
      const name = r.pick(names);
      files[name] = mutateBytes(r, files[name], 16 * 1024);
    }
    if (r.chance(0.05)) delete files[r.pick(Object.keys(files))];
    return files;
  },
  run: async (files) => {
    const report = await validateDirectory(nestedDirectory('etcd-data', files));
    check(report.engine !== 'dqlite', 'an etcd data dir read as dqlite');
    check(typeof report.startable === 'boolean', 'startable is not a boolean');
    check(report.summary.length > 10, 'no summary');
    for (const f of report.findings) {
      if (f.file === null) {
        check(f.offset === null, `${f.code} has an offset but no file`);
        continue;
      }
      const bytes = files[f.file];
      if (bytes === undefined) {
        // A finding about a directory (member/wal) has no offset.
        check(Object.keys(files).some((n) => n.startsWith(`${f.file}/`)) || f.offset === null, `${f.code} names ${f.file}, not in the directory`);
        continue;
      }
      if (f.offset !== null)
        check(
          Number.isSafeInteger(f.offset) && f.offset >= 0 && f.offset <= bytes.length,
          `${f.code} at ${f.offset} outside ${f.file} (${bytes.length} bytes)`,
        );
    }
    for (const w of report.etcd?.wal?.files ?? []) check(w.validBytes <= w.size, `${w.file}: validBytes past size`);
    checkPlain(report, 'report');
  },
  files: (d) => d,
  size: (d) => Object.values(d).reduce((n, b) => n + b.length, 0),
};
