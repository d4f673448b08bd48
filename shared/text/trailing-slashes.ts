/**
 * `p` without its trailing slashes (`/var/lib/etcd//` -> `/var/lib/etcd`, `/` -> ``), what `p.replace(/\/+$/, '')`
 * gives, in linear time: that regex tries every slash of a run as a start and scans the run to its end each time,
 * so a path from a node's file holding a long run of slashes not at its end (a fuzzed config.yaml: 60 KB of them,
 * 2.4 s) took quadratic time.
 */
export function stripTrailingSlashes(p: string): string {
  let end = p.length;
  while (end > 0 && p.charCodeAt(end - 1) === 0x2f) end--;
  return end === p.length ? p : p.slice(0, end);
}
