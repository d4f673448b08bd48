/**
 * The etcd parts of `lifeboat validate`: the human summary of the start-up
 * model, the WAL / .snap / db facts and the cross-checks, and the table that
 * compares several members' dirs. Text only; the JSON is the report itself.
 */
import type { EtcdDetails, EtcdMemberComparison } from '../shared/contract/etcd';
import type { ValidationReport } from '../shared/contract/report';

type Out = (line?: string) => void;

const dash = (v: number | string | null | undefined) => (v === null || v === undefined || v === '' ? '-' : String(v));

function bytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function printEtcdDetails(e: EtcdDetails, out: Out): void {
  const s = e.startup;
  out('Start-up (etcd 3.4 model):');
  for (const line of s.narrative) out(`  - ${line}`);
  if (s.fatalError) out(`  etcd says: ${s.fatalError}`);
  if (s.selfRepairs.length) out(`  etcd changes on disk by itself: ${s.selfRepairs.join('; ')}`);

  if (e.wal) {
    const w = e.wal;
    const hs = w.hardState ? `HardState term ${w.hardState.term} commit ${w.hardState.commit}` : 'no HardState';
    out(
      `WAL ${w.dir || '.'}: ${w.files.length} file(s), entries ${dash(w.firstIndex)}..${dash(w.lastIndex)} (last term ${dash(w.lastTerm)}), ${hs}, node ${dash(w.nodeId)}, cluster ${dash(w.clusterId)}`,
    );
    if (w.tornTail) out(`  torn tail: ${w.tornTail.file} at byte ${w.tornTail.offset} (etcd truncates it there)`);
  } else if (e.layout.input === 'data-dir' || e.layout.input === 'member-dir') {
    out('WAL: none');
  }
  if (e.snaps.length) {
    const bad = e.snaps.filter((x) => !x.ok).length;
    out(
      `Snap: ${e.snaps.length} .snap file(s)${bad ? `, ${bad} unreadable` : ''}; etcd loads ${s.chosenSnap ?? 'none (starts from the beginning of the WAL)'}`,
    );
  }
  if (e.bbolt) {
    const b = e.bbolt;
    const meta = b.chosenMeta === null ? 'no valid meta' : `meta ${b.chosenMeta} txid ${b.metas.find((m) => m.page === b.chosenMeta)?.txid ?? '?'}`;
    const sc = e.schema;
    const schema = sc
      ? `, revision ${dash(sc.revision)}, consistent index ${dash(sc.consistentIndex)}, ${sc.liveKeysLowerBound ? 'at least ' : ''}${sc.liveKeys} live keys`
      : '';
    out(`db ${b.file}: ${bytes(b.size)}, ${b.pageCount} pages, ${meta}${schema}${b.problemCount ? `, ${b.problemCount} tree problem(s)` : ''}`);
    if (b.sha256) out(`  SHA-256 trailer: ${b.sha256.present ? (b.sha256.ok ? 'matches' : 'DOES NOT MATCH') : 'absent'}`);
    for (const m of sc?.members ?? []) out(`  member ${m.name || '?'} ${m.id} peer ${m.peerURLs.join(',') || '-'} client ${m.clientURLs.join(',') || '-'}`);
  } else if (e.layout.input === 'data-dir' || e.layout.input === 'member-dir') {
    out('db: none');
  }
  const c = e.crossCheck;
  if (e.layout.input === 'data-dir' || e.layout.input === 'member-dir') {
    out(
      `Cross-checks: WAL last index ${dash(c.walLastIndex)}, commit ${dash(c.commit)}, db consistent index ${dash(c.consistentIndex)}, newest snap ${dash(c.newestSnapIndex)}; node is a member: ${c.nodeIsMember === null ? 'unknown' : c.nodeIsMember ? 'yes' : 'NO'}`,
    );
  }
  if (c.addressesGiven.length) {
    out(
      `Addresses given: ${c.addressesGiven.join(', ')}; members at other addresses: ${c.staleAddresses.length ? c.staleAddresses.map((a) => `${a.name || a.memberId} ${a.url}`).join(', ') : 'none'}`,
    );
  }
}

/** The several-members table. */
export function printMemberComparison(cmp: EtcdMemberComparison, out: Out): void {
  const head = ['', 'ROOT', 'MEMBER', 'NAME', 'TERM', 'COMMIT', 'LAST', 'CONSISTENT', 'REVISION', 'STARTS'];
  const rows = cmp.rows.map((r) => [
    r.newest ? '*' : '',
    r.root,
    dash(r.memberId),
    dash(r.name),
    dash(r.term),
    dash(r.commit),
    dash(r.lastIndex),
    dash(r.consistentIndex),
    dash(r.revision),
    r.startable ? 'yes' : 'no',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  out('Members compared:');
  out(`  ${line(head)}`);
  for (const r of rows) out(`  ${line(r)}`);
  out(`Keep: ${cmp.reason}`);
}

/** Only etcd reports take part in the comparison. */
export function etcdReports(reports: ValidationReport[]): ValidationReport[] {
  return reports.filter((r) => r.engine === 'etcd');
}
