/**
 * Several members handed over at once: a folder whose subfolders are etcd
 * data dirs (e.g. `node1/`, `node2/`, `node3/`, each a copy of
 * /var/lib/etcd). Each member is validated on its own and the members are
 * compared (compareMembers: which one holds the newest data).
 */
import type { DirectorySource } from '../../bytes/byte-source';
import type { EtcdMemberComparison } from '../../contract/etcd';
import type { RunOptions } from '../../contract/progress';
import type { ValidationReport } from '../../contract/report';
import { validateDirectory } from '../../validate';
import { looksLikeEtcdInput } from './layout';
import { compareMembers } from './members-compare';

/** More subfolders than this is not a set of members (a home directory dropped by mistake). */
export const MAX_MEMBER_DIRS = 9;

export interface MemberDirsResult {
  /** Display name of the folder holding the members. */
  root: string;
  /** Subfolder name and its report, in name order. */
  members: { name: string; report: ValidationReport }[];
  comparison: EtcdMemberComparison;
}

/**
 * When `dir`'s own files are no datastore but 2..MAX_MEMBER_DIRS of its
 * subfolders are etcd data dirs, validate each and compare them; else null.
 */
export async function validateMemberDirs(dir: DirectorySource, opts: RunOptions = {}): Promise<MemberDirsResult | null> {
  if (!dir.subdir) return null;
  const entries = await dir.list();
  // A data dir or member dir itself (its wal/ and snap/ are parts of one member, not members).
  if (await looksLikeEtcdInput(dir, entries)) return null;
  const subdirs = entries
    .filter((e) => e.kind === 'dir')
    .map((e) => e.name)
    .sort();
  if (subdirs.length < 2 || subdirs.length > MAX_MEMBER_DIRS * 4) return null;
  const candidates: { name: string; dir: DirectorySource }[] = [];
  for (const name of subdirs) {
    let sub: DirectorySource;
    try {
      sub = await dir.subdir(name);
      if (!(await looksLikeEtcdInput(sub, await sub.list()))) continue;
    } catch {
      continue; // an unreadable subfolder is not a member; the others still are
    }
    candidates.push({ name, dir: sub });
    if (candidates.length > MAX_MEMBER_DIRS) return null;
  }
  if (candidates.length < 2) return null;
  const members: MemberDirsResult['members'] = [];
  for (const c of candidates) {
    const report = await validateDirectory(c.dir, opts);
    if (report.engine === 'etcd') members.push({ name: c.name, report });
  }
  if (members.length < 2) return null;
  return { root: dir.name, members, comparison: compareMembers(members.map((m) => m.report)) };
}
