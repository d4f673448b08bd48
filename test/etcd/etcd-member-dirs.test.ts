/**
 * A folder holding several members' data dirs (validateMemberDirs): each
 * subfolder that looks like etcd is validated, other subfolders are passed
 * over, and the comparison keeps the member that can start.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localDirectory } from '../../electron/services/fs-source';
import { validateMemberDirs } from '../../shared/formats/etcd/member-dirs';
import { hashTree, tempDir } from '../helpers/etcd';

const SAMPLES = path.resolve(__dirname, '../../resources/samples');
let tmp: string;

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('several members in one folder', () => {
  it('validates each member, skips what is not one, and keeps the member that starts', async () => {
    tmp = await tempDir('members');
    const root = path.join(tmp, 'cluster');
    await fs.cp(path.join(SAMPLES, 'etcd-field-report'), path.join(root, 'node-a'), { recursive: true });
    await fs.cp(path.join(SAMPLES, 'etcd-healthy'), path.join(root, 'node-b'), { recursive: true });
    await fs.mkdir(path.join(root, 'notes'));
    await fs.writeFile(path.join(root, 'notes', 'what-happened.txt'), 'power cut at 03:12\n');
    await fs.writeFile(path.join(root, 'README'), 'x');
    const before = await hashTree(root);
    const dir = localDirectory(root);
    try {
      const r = await validateMemberDirs(dir);
      expect(r).not.toBeNull();
      expect(r!.root).toBe('cluster');
      expect(r!.members.map((m) => m.name)).toEqual(['node-a', 'node-b']);
      expect(r!.members.map((m) => m.report.startable)).toEqual([false, true]);
      expect(r!.members[0].report.etcd?.startup.fatalError).toBe('freepages: failed to get all reachable pages (page 0: invalid type: meta)');
      expect(r!.comparison.keep).toBe('node-b');
      expect(r!.comparison.rows.map((row) => row.newest)).toEqual([false, true]);
    } finally {
      await dir.close();
    }
    expect(await hashTree(root)).toBe(before);
  });

  it('one member, or none, is not a set of members', async () => {
    const one = path.join(tmp, 'one');
    await fs.cp(path.join(SAMPLES, 'etcd-healthy'), path.join(one, 'node-b'), { recursive: true });
    await fs.mkdir(path.join(one, 'other'));
    const dir = localDirectory(one);
    try {
      expect(await validateMemberDirs(dir)).toBeNull();
    } finally {
      await dir.close();
    }
    const flat = localDirectory(path.join(SAMPLES, 'etcd-healthy', 'member'));
    try {
      expect(await validateMemberDirs(flat)).toBeNull();
    } finally {
      await flat.close();
    }
  });
});
