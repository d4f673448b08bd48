/**
 * The field report's pasted listing: "31 files" above, and the file list
 * must hold the same 31 (it held only the 21 segments and snapshots).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeListing } from '../../shared/formats/dqlite/listing';
import { unplacedFiles } from '../../renderer/src/features/listing/other-files';
import { buildFileRows } from '../../renderer/src/features/segment-map/file-rows';
import { FIELD_REPORTS } from '../helpers/field-reports';

describe('listing file list', () => {
  it('holds every listed file: segments and snapshots placed, the rest by name and size', () => {
    const analysis = analyzeListing(readFileSync(path.join(FIELD_REPORTS, 'microk8s-backend-listing.txt'), 'utf8'));
    const others = unplacedFiles(analysis);
    expect(others.map((o) => o.file)).toEqual(expect.arrayContaining(['metadata1', 'cluster.yaml', 'info.yaml', 'kine.sock']));
    // A snapshot's .meta belongs to its snapshot row, not a row of its own.
    expect(others.some((o) => o.file.endsWith('.meta'))).toBe(false);
    const rows = buildFileRows(analysis.segments, analysis.snapshots, [], others, new Map());
    expect(rows.length + analysis.snapshots.length).toBe(analysis.entries.length);
  });
});
