/** Validation of a local directory through the same byte source the app uses, closed afterwards. */
import { localDirectory, openFileSource, openLocalTarget } from '../../electron/services/fs-source';
import { validateDirectory } from '../../shared/validate';
import type { ValidationReport } from '../../shared/contract/report';

export async function validateLocally(dir: string): Promise<ValidationReport> {
  const local = localDirectory(dir);
  try {
    return await validateDirectory(local);
  } finally {
    await local.close();
  }
}

/** Validation of a local file or directory as the app opens a dropped path (a file: a folder of that one file). */
export async function validateLocalPath(p: string): Promise<ValidationReport> {
  const target = await openLocalTarget(p);
  try {
    return await validateDirectory(target);
  } finally {
    await target.close();
  }
}

/** `fn` over a read-only source of one local file, closed afterwards. */
export async function withSource<T>(file: string, fn: (src: Awaited<ReturnType<typeof openFileSource>>) => Promise<T>): Promise<T> {
  const src = await openFileSource(file);
  try {
    return await fn(src);
  } finally {
    await src.close();
  }
}

/** What a user reads in a report, to compare two sources of the same data (timing and bytes read differ by nature). */
export function verdictOf(r: ValidationReport) {
  return { engine: r.engine, startable: r.startable, dataLoss: r.dataLoss, lost: r.lost, findings: r.findings, summary: r.summary };
}
