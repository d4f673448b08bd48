/**
 * The panel's pure helpers: what each mode says it will write (before
 * anything runs) and the progress line, in both languages.
 */
import { describe, expect, it } from 'vitest';
import { translate, type MessageParams } from '../../shared/i18n/index';
import { plannedWrites, progressPercent, progressText } from '../../renderer/src/features/etcd-repair/model';

const en = (key: string, params?: MessageParams): string => translate('en', key, params);
const zh = (key: string, params?: MessageParams): string => translate('zh-CN', key, params);
const bytes = (n: number): string => `${n} B`;

describe('etcd repair panel model', () => {
  it('names every path a mode writes, with the output filled in', () => {
    expect(plannedWrites('snapshot', '/c/s/snapshot.db', 'yaml', en)).toEqual([
      '/c/s/snapshot.db: a new snapshot.db, written as /c/s/snapshot.db.lifeboat-part and renamed only when complete (an existing file is never overwritten)',
    ]);
    const repair = plannedWrites('repair', '/c/s/etcd-data/', 'yaml', en);
    expect(repair[0]).toMatch(/^\/c\/s\/etcd-data\/member\/: a new data dir/);
    expect(repair[1]).toMatch(/^\/c\/s\/etcd-data\.lifeboat-quarantine\/: /);
    expect(plannedWrites('export', '/c/o', 'json', zh)[0]).toBe('/c/o/<资源>/<命名空间>/<名称>.json：每个对象一个文件；Secret 和加密值的权限为 0600');
  });

  it('progress: pages with bytes and a percentage, WAL replay with entries and no percentage', () => {
    const pages = { phase: 'salvage: reading pages', bytesDone: 512, bytesTotal: 2048, currentFile: 'member/snap/db' };
    expect(progressText(pages, en, bytes)).toBe('Reading pages · 512 B / 2048 B');
    expect(progressPercent(pages)).toBe(25);
    const wal = { phase: 'salvage: replaying the WAL', bytesDone: 20000, bytesTotal: 0, currentFile: null };
    expect(progressText(wal, zh, bytes)).toBe('正在重放 WAL · 20000 条 WAL 条目');
    expect(progressPercent(wal)).toBeNull();
    expect(progressText({ phase: 'snapshot: opening the input', bytesDone: 0, bytesTotal: 0, currentFile: null }, en, bytes)).toBe('Reading the input');
    // Past the key-state budget: a page pass a part of the keys, the first with the WAL's keys (pages, not WAL entries).
    const part = { phase: "salvage: reading pages again (part 1 of 4, with the WAL's keys)", bytesDone: 1024, bytesTotal: 4096, currentFile: 'member/snap/db' };
    expect(progressText(part, en, bytes)).toBe('Reading pages again, keys part 1 of 4 · 1024 B / 4096 B');
    expect(progressText(part, zh, bytes)).toBe('正在再次读取页，键的第 1/4 部分 · 1024 B / 4096 B');
    expect(progressPercent(part)).toBe(25);
    const late = {
      phase: 'salvage: reading pages again (keys the WAL may have written or revoked)',
      bytesDone: 0,
      bytesTotal: 4096,
      currentFile: 'member/snap/db',
    };
    expect(progressText(late, en, bytes)).toBe('Reading pages again · 0 B / 4096 B');
    const objects = { phase: 'export: writing objects', bytesDone: 3000, bytesTotal: 12000, currentFile: null };
    expect(progressText(objects, en, bytes)).toBe('Writing one file per object · 3000 of 12000 objects');
    expect(progressText(objects, zh, bytes)).toBe('正在为每个对象写一个文件 · 已写 3000 / 12000 个对象');
    expect(progressPercent(objects)).toBe(25);
  });
});
