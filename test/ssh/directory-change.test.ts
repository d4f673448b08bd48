/**
 * The copy-out's "being written" refusal names what moved: in English for the CLI and the journal,
 * in the UI's language on the node panel and in the guided checklist (no English phrase left in a
 * Chinese sentence).
 */
import { describe, expect, it } from 'vitest';
import type { DirectoryChange } from '../../shared/contract/ssh';
import { directoryChangesSaid, directoryChangesText } from '../../shared/node/directory-change';
import { translateLocal } from '../../shared/i18n';
import { changedBetween, DirectoryChangingError } from '../../electron/services/ssh/copy-out';

const CHANGES: DirectoryChange[] = [
  { path: 'member/wal/0.tmp', kind: 'written', size: 64000000 },
  { path: 'member/snap/db', kind: 'resized', from: 8192, to: 12288 },
  { path: 'member/wal/old.wal', kind: 'removed' },
  { path: 'member/snap/x.snap', kind: 'new' },
  { path: '.', kind: 'entries' },
  { path: 'member/a', kind: 'new' },
  { path: 'member/b', kind: 'new' },
];

describe('what moved in a node directory, said in each language', () => {
  it('English: each change as the CLI and the journal print it, five named and the rest counted', () => {
    expect(directoryChangesSaid('en', CHANGES)).toBe(
      'member/wal/0.tmp (written, still 64000000 bytes); member/snap/db (8192 → 12288 bytes); member/wal/old.wal (removed); ' +
        'member/snap/x.snap (new); ./ (entries added or removed); and 2 more',
    );
    const err = new DirectoryChangingError(CHANGES);
    expect(err.changed[4]).toBe('./ (entries added or removed)');
    expect(err.message).toContain('(member/wal/0.tmp (written, still 64000000 bytes); ');
  });

  it('Chinese: no English word left, the list joined the Chinese way', () => {
    const zh = directoryChangesSaid('zh-CN', CHANGES);
    expect(zh).toBe(
      'member/wal/0.tmp（被写入，仍为 64000000 字节）；member/snap/db（8192 → 12288 字节）；member/wal/old.wal（已删除）；' +
        'member/snap/x.snap（新文件）；./（有条目新增或删除）；另有 2 项',
    );
    const sentence = translateLocal('zh-CN', { key: 'ssh.copyout.changing', texts: { files: directoryChangesText(CHANGES.slice(0, 2)) } });
    expect(sentence.replace(/member\/[\w./]+/g, '')).not.toMatch(/[A-Za-z]{3,}/);
  });

  it('changedBetween gives the changes as data', () => {
    const a = {
      files: [
        { rel: 'db', size: 1, mtime: 1 },
        { rel: 'gone', size: 1, mtime: 1 },
      ],
    };
    const b = {
      files: [
        { rel: 'db', size: 2, mtime: 2 },
        { rel: 'fresh', size: 1, mtime: 1 },
      ],
    };
    expect(changedBetween(a as never, b as never)).toEqual([
      { path: 'db', kind: 'resized', from: 1, to: 2 },
      { path: 'gone', kind: 'removed' },
      { path: 'fresh', kind: 'new' },
    ]);
  });
});
