/**
 * The node card's paths are cut after each `/` only (PathText wraps there
 * and nowhere else), and the pieces joined are the path exactly.
 */
import { describe, expect, it } from 'vitest';
import { pathSegments } from '../../renderer/src/features/guided/path-segments';

describe('pathSegments', () => {
  it('cuts after each slash and loses nothing', () => {
    const cases: [string, string[]][] = [
      ['/var/backups/kube_etcd/etcd-2026-11-22-16-50-01/snapshot.db', ['/', 'var/', 'backups/', 'kube_etcd/', 'etcd-2026-11-22-16-50-01/', 'snapshot.db']],
      ['/var/lib/etcd/', ['/', 'var/', 'lib/', 'etcd/']],
      ['relative/name', ['relative/', 'name']],
      ['//double', ['/', '/', 'double']],
      ['no-slash-at-all', ['no-slash-at-all']],
      ['/', ['/']],
      ['', ['']],
      ['/名字 有空格/备份.db', ['/', '名字 有空格/', '备份.db']],
    ];
    for (const [path, parts] of cases) {
      expect(pathSegments(path), path).toEqual(parts);
      expect(pathSegments(path).join('')).toBe(path);
    }
  });
});
