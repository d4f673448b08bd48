/**
 * Whether an etcd that runs as its own user (a systemd unit with `User=etcd`) may open its data: every path under
 * its data dir (and WAL dir) that another user owns, as etcd would meet them (links followed). A restore, a copy or
 * a move run with sudo leaves root's files behind, and etcd then stops with "permission denied" (etcd 3.4's default
 * logger: "error listing data dir"), though the data is intact. Read-only: `find` lists, `awk` keeps a few and counts.
 */
import { quoteIfNeeded } from './shell';

/** Paths named in the card's warning; the count says how many there are in all. */
export const FOREIGN_OWNED_SHOWN = 3;

export function foreignOwnedProbeCommand(dirs: readonly string[], user: string): string {
  const where = dirs.map(quoteIfNeeded).join(' ');
  const who = quoteIfNeeded(user);
  // One walk: the first few lines as they come, and the count at the end.
  return `find -L ${where} ! -user ${who} -printf '%u\\t%p\\n' 2>/dev/null | awk 'NR <= ${FOREIGN_OWNED_SHOWN} { print } END { print "foreign-owned " NR }'`;
}

export interface ForeignOwned {
  /** How many paths another user owns. */
  count: number;
  /** The first few, with their owner. */
  paths: { owner: string; path: string }[];
}

export function parseForeignOwnedProbe(stdout: string): ForeignOwned | null {
  const total = /^foreign-owned (\d+)$/m.exec(stdout);
  if (!total) return null;
  const paths: ForeignOwned['paths'] = [];
  for (const line of stdout.split('\n')) {
    const m = /^([^\t\n]{1,64})\t(\/[^\n]{0,4096})$/.exec(line);
    if (m && paths.length < FOREIGN_OWNED_SHOWN) paths.push({ owner: m[1]!, path: m[2]! });
  }
  return { count: Number(total[1]), paths };
}
