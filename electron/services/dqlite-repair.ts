/**
 * Apply a dqlite repair plan to a NEW copy of a backend directory. The source
 * is only ever opened read-only. Layout:
 *   <outDir>/                          the repaired directory (start dqlite on this)
 *   <outDir>.lifeboat-quarantine/      files the plan moves aside, and the full
 *                                      original of every truncated segment (`<name>.orig`)
 * Metadata files the plan writes (a fresh metadata1) are created in <outDir>
 * only; any original of that name is in the quarantine.
 * The quarantine is named after the output so that two repairs into the same
 * parent folder never share (or collide in) one quarantine.
 */
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { RepairPlan } from '../../shared/contract/dqlite';
import type { RunOptions } from '../../shared/contract/progress';
import type { ValidationReport } from '../../shared/contract/report';
import { inspectDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { MICROK8S_BACKEND, QUARANTINE_DIR_NAME, type RepairOperation } from '../../shared/formats/dqlite/repair-plan';
import { localDirectory } from './fs-source';
import { copyFilePrefix } from './file-copy';
import { makeDirs } from './make-dirs';

async function writeNew(dst: string, bytes: Uint8Array): Promise<void> {
  const output = await fs.open(dst, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await output.write(bytes, 0, bytes.length, 0);
    await output.sync();
  } finally {
    await output.close();
  }
}

export function quarantineDirFor(outDir: string): string {
  return `${path.resolve(outDir)}.${QUARANTINE_DIR_NAME}`;
}

async function isNonEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await fs.readdir(dir)).length > 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

export async function writeRepairedCopy(
  srcDir: string,
  outDir: string,
  opts: RunOptions = {},
): Promise<{ report: ValidationReport; plan: RepairPlan; actions: string[]; after: ValidationReport }> {
  const src = path.resolve(srcDir);
  const out = path.resolve(outDir);
  if (out === src || out.startsWith(src + path.sep)) throw new Error('the repaired copy must not be inside the source directory');
  const source = localDirectory(src);
  let report: ValidationReport;
  let operations: RepairOperation[];
  try {
    ({ report, operations } = await inspectDqliteDirectory(source, opts));
  } finally {
    await source.close();
  }
  const plan: RepairPlan = report.dqlite?.repair ?? {
    backend: { path: MICROK8S_BACKEND, origin: 'microk8s-default' },
    needed: false,
    startsAfter: report.startable,
    steps: [],
    lost: [],
    summary: 'not a dqlite directory',
  };
  const quarantine = quarantineDirFor(out);
  // Check both targets before writing anything, so a refusal leaves nothing half-written.
  if (await isNonEmptyDir(out)) throw new Error(`${out} is not empty`);
  if (await isNonEmptyDir(quarantine)) throw new Error(`${quarantine} is not empty`);
  await makeDirs(out);
  const actions: string[] = [];
  const quarantined = new Set(operations.filter((o) => o.op === 'quarantine').map((o) => o.file));
  const truncations = new Map(operations.filter((o) => o.op === 'truncate-rename').map((o) => [o.file, o] as const));
  const writes = operations.filter((o): o is Extract<RepairOperation, { op: 'write' }> => o.op === 'write');
  const written = new Set(writes.map((o) => o.file));
  if (quarantined.size || truncations.size || writes.length) await makeDirs(quarantine);
  const entries = await fs.readdir(src, { withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile()) continue;
    const from = path.join(src, e.name);
    if (quarantined.has(e.name)) {
      await copyFilePrefix(from, path.join(quarantine, e.name), null);
      actions.push(`quarantine ${e.name} -> ${path.join(quarantine, e.name)}`);
      continue;
    }
    const t = truncations.get(e.name);
    if (t && t.op === 'truncate-rename') {
      await copyFilePrefix(from, path.join(quarantine, `${e.name}.orig`), null);
      await copyFilePrefix(from, path.join(out, t.newName), t.bytes);
      actions.push(`truncate ${e.name} to ${t.bytes} bytes as ${t.newName} (original kept as ${path.join(quarantine, `${e.name}.orig`)})`);
      continue;
    }
    if (written.has(e.name)) {
      // Replaced by a fresh file below: the original is kept in quarantine, never overwritten.
      await copyFilePrefix(from, path.join(quarantine, `${e.name}.orig`), null);
      actions.push(`keep original ${e.name} as ${path.join(quarantine, `${e.name}.orig`)}`);
      continue;
    }
    await copyFilePrefix(from, path.join(out, e.name), null);
    actions.push(`copy ${e.name}`);
  }
  for (const w of writes) {
    await writeNew(path.join(out, w.file), w.bytes);
    actions.push(`write ${w.file} (${w.bytes.length} bytes)`);
  }
  const outSource = localDirectory(out);
  let after: ValidationReport;
  try {
    ({ report: after } = await inspectDqliteDirectory(outSource, opts));
  } finally {
    await outSource.close();
  }
  return { report, plan, actions, after };
}
