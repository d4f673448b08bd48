/** Validation of a local directory through the same byte source the app uses, closed afterwards. */
import { localDirectory } from '../../electron/services/fs-source';
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
