/**
 * A path cut after each `/`, the only places a long path in the node card may
 * wrap: `/var/backups/etcd/x.db` → `/`, `var/`, `backups/`, `etcd/`, `x.db`.
 * Joined again, the pieces are the path exactly (copying it copies the path).
 */
export function pathSegments(path: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < path.length; i++) {
    if (path[i] === '/') {
      parts.push(path.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < path.length || parts.length === 0) parts.push(path.slice(start));
  return parts;
}
