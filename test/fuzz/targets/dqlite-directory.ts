import { memoryDirectory, type ByteSource, type DirectorySource } from '../../../shared/bytes/byte-source';
import { classifyName } from '../../../shared/formats/dqlite/segment-name';
import { validateDirectory } from '../../../shared/validate';
import { mutateBytes, mutateText } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { sampleDir } from './corpus';
import { YAML_TOKENS } from './dictionaries';

const MAX_SINGLE_READ = 16 * 1024 * 1024;

type Dir = Record<string, Uint8Array>;

/** A memory directory whose reads are checked: in range, never more than 16 MiB at once. */
function guarded(files: Dir): DirectorySource {
  const inner = memoryDirectory('backend', files);
  return {
    name: inner.name,
    list: () => inner.list(),
    async open(name: string): Promise<ByteSource> {
      const src = await inner.open(name);
      return {
        name: src.name,
        size: src.size,
        read(offset: number, length: number) {
          check(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0, `${name}: bad read ${offset}+${length}`);
          check(length <= MAX_SINGLE_READ, `${name}: read of ${length} bytes at ${offset} (limit ${MAX_SINGLE_READ})`);
          return src.read(offset, length);
        },
      };
    },
  };
}

export const dqliteDirectory: FuzzTarget<Dir, Dir[]> = {
  name: 'dqlite-directory',
  what: 'whole backend validation (segments, snapshots, metadata, cluster.yaml/info.yaml) of mutated real directories: a sound report, findings inside their files',
  corpus: () => [sampleDir('dqlite-healthy'), sampleDir('dqlite-field-report')],
  generate: (r, corpus) => {
    const files: Dir = { ...r.pick(corpus) };
    const names = Object.keys(files).filter((n) => classifyName(n).kind !== 'unknown' || n.endsWith('.yaml'));
    for (let k = r.chance(0.8) ? 1 : 2 + r.int(3); k > 0; k--) {
      const name = r.pick(names);
      if (name.endsWith('.yaml')) files[name] = new TextEncoder().encode(mutateText(r, new TextDecoder().decode(files[name]), YAML_TOKENS, 96 * 1024));
      else files[name] = mutateBytes(r, files[name], 32 * 1024);
    }
    if (r.chance(0.05)) delete files[r.pick(Object.keys(files))];
    return files;
  },
  run: async (files) => {
    const report = await validateDirectory(guarded(files));
    check(typeof report.startable === 'boolean', 'startable is not a boolean');
    check(report.summary.length > 10, 'no summary');
    for (const f of report.findings) {
      if (f.file === null) {
        check(f.offset === null, `${f.code} has an offset but no file`);
        continue;
      }
      const bytes = files[f.file];
      check(bytes !== undefined, `${f.code} names ${f.file}, not in the directory`);
      if (f.offset !== null)
        check(
          Number.isSafeInteger(f.offset) && f.offset >= 0 && f.offset <= bytes.length,
          `${f.code} at ${f.offset} outside ${f.file} (${bytes.length} bytes)`,
        );
    }
    for (const s of report.dqlite?.segments ?? []) check(s.validBytes <= s.size, `${s.file}: validBytes past size`);
    for (const l of report.lost) check(l.first <= l.last, `lost range of ${l.file} reversed`);
    checkPlain(report, 'report');
  },
  files: (d) => d,
  size: (d) => Object.values(d).reduce((n, b) => n + b.length, 0),
};
