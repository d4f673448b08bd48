/**
 * The files of a pasted or fetched listing that the segment map does not
 * place (metadata1/2, cluster.yaml, info.yaml, TLS files, kine.sock, …): the
 * file list shows them too, so its count agrees with "N files" above it.
 */
import type { OtherFile } from '../../../../shared/contract/dqlite';
import type { ListingAnalysis } from '../../../../shared/contract/listing';

export function unplacedFiles(analysis: Pick<ListingAnalysis, 'entries' | 'segments' | 'snapshots'>): OtherFile[] {
  const placed = new Set<string>([...analysis.segments.map((s) => s.file), ...analysis.snapshots.flatMap((s) => [s.file, `${s.file}.meta`])]);
  // Names only: a listing says nothing of contents, so no role (the row shows the name and size).
  return analysis.entries.filter((e) => !placed.has(e.name)).map((e) => ({ file: e.name, size: e.size, kind: '' }));
}
