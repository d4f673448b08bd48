/**
 * Which .snap etcd 3.4 loads at start-up (`Snapshotter.LoadNewestAvailable`
 * after `wal.ValidSnapshotEntries`): the .snap file names sorted newest
 * first (reverse string order of the names, not of their content), and the
 * first that reads without error AND whose (term, index) equals a WAL
 * snapshot record with index <= the last HardState's commit. Every file
 * tried before it that fails to read is renamed `<name>.broken` by etcd. None
 * found -> "snap: no available snapshot", and etcd replays the WAL from its
 * start (opening it at index 0).
 */
import type { SnapFileInfo } from '../../contract/etcd';

export interface SnapChoice {
  /** The same files with `matchesWal` and `chosen` filled in (input order kept). */
  snaps: SnapFileInfo[];
  chosen: SnapFileInfo | null;
  /** Files etcd reads and fails on before it finds the chosen one: it renames them `*.broken`. */
  renamedBroken: string[];
  /** Files that read fine but have no matching WAL record (orphans of a crash between the .snap and the WAL write, or newer than the commit). */
  orphans: string[];
}

function baseName(file: string): string {
  const i = file.lastIndexOf('/');
  return i >= 0 ? file.slice(i + 1) : file;
}

/**
 * `walSnapshots`: every snapshot record the WAL holds (ValidSnapshotEntries
 * order); `commit`: the last HardState's commit (records above it are not
 * valid). Pass `WalScan.validSnapshots` with `commit = Infinity` when they
 * are already filtered.
 */
export function chooseSnap(snaps: readonly SnapFileInfo[], walSnapshots: readonly { index: number; term: number }[], commit: number): SnapChoice {
  const valid = walSnapshots.filter((s) => s.index <= commit);
  const matches = (s: SnapFileInfo) => s.ok && valid.some((w) => w.term === s.term && w.index === s.index);
  const out = snaps.map((s) => ({ ...s, matchesWal: matches(s), chosen: false }));
  const order = out
    .map((s, i) => ({ s, i, name: baseName(s.file) }))
    .filter((x) => x.name.endsWith('.snap'))
    .sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  const renamedBroken: string[] = [];
  let chosen: SnapFileInfo | null = null;
  for (const { s } of order) {
    if (!s.ok) {
      renamedBroken.push(s.file);
      continue;
    }
    if (s.matchesWal) {
      s.chosen = true;
      chosen = s;
      break;
    }
  }
  const orphans = out.filter((s) => s.ok && !s.matchesWal).map((s) => s.file);
  return { snaps: out, chosen, renamedBroken, orphans };
}
