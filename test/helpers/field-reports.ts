/**
 * The five field reports' verbatim logs and listing (copied from the project's
 * shared/data into test/fixtures so the suite is hermetic).
 */
import * as path from 'node:path';

export const FIELD_REPORTS = path.join(__dirname, '..', 'fixtures', 'field-reports');
