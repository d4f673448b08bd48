/** A bare etcd ValidationReport for tests that need only some of its etcd details. */
import type { ValidationReport } from '../../shared/contract/report';

/** Engine etcd, the given details, nothing else: no findings, no loss, nothing read (`startable` as given). */
export function bareEtcdReport(root: string, etcd: ValidationReport['etcd'], startable = true): ValidationReport {
  return { engine: 'etcd', root, startable, dataLoss: false, lost: [], findings: [], summary: '', bytesRead: 0, elapsedMs: 0, etcd };
}
