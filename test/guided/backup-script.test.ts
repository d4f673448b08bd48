/**
 * What detection reads from a backup script: its `snapshot save` lines with the script's variables expanded, where
 * the snapshots go, the scripts it calls. A variable's trailing comment is not part of its value (a `#` inside a
 * word is).
 */
import { describe, expect, it } from 'vitest';
import { parseBackupScript } from '../../shared/node/cron';

describe('backup script reading', () => {
  it('expands variables whose lines end in a comment, and keeps a # inside a word', () => {
    const facts = parseBackupScript(
      [
        '#!/bin/sh',
        'BACKUP_ROOT=/var/backups/etcd   # where the snapshots go',
        'TAG=daily#1',
        'STAMP=$(date +%F)',
        'etcdctl --endpoints=https://127.0.0.1:2379 snapshot save "$BACKUP_ROOT/$TAG/snap-$STAMP.db" \\',
        '  --cacert=/etc/kubernetes/pki/etcd/ca.crt',
        'sh /usr/local/bin/prune-backups.sh',
      ].join('\n'),
    );
    expect(facts.saveCommands).toEqual([
      'etcdctl --endpoints=https://127.0.0.1:2379 snapshot save "/var/backups/etcd/daily#1/snap-*.db"  --cacert=/etc/kubernetes/pki/etcd/ca.crt',
    ]);
    expect(facts.targetDirs).toEqual(['/var/backups/etcd/daily#1']);
    expect(facts.calls).toEqual(['/usr/local/bin/prune-backups.sh']);
  });

  it('ends a value at a comment after a long run of spaces, and keeps the spaces of one without a comment', () => {
    // The fuzzed script that hung detection: runs of spaces not followed by `#` (the comment regex was quadratic).
    const facts = parseBackupScript(
      `A=/srv/a${' '.repeat(5000)}# a comment\nB="/srv/b${' '.repeat(5000)}x"\netcdctl snapshot save $A/s.db\netcdctl snapshot save $B/s.db\n`,
    );
    expect(facts.targetDirs).toEqual(['/srv/a', `/srv/b${' '.repeat(5000)}x`]);
  });
});
