/**
 * A call context for driving validation jobs through the back end's dispatcher in tests: it keeps each job's
 * report from its `validation.done` event, and `done(jobId)` waits for it (a minute at most).
 */
import type { ApiEvents, EventName } from '../../shared/contract/api';
import type { ValidationReport } from '../../shared/contract/report';
import type { CallContext } from '../../electron/services/registry';

export type ReportContext = CallContext & { reports: Map<string, ValidationReport>; done(jobId: string): Promise<ValidationReport> };

export function reportContext(transport: 'electron' | 'web'): ReportContext {
  const reports = new Map<string, ValidationReport>();
  const waiters: (() => void)[] = [];
  return {
    transport,
    reports,
    emit<E extends EventName>(event: E, payload: ApiEvents[E]) {
      if (event === 'validation.done') {
        const p = payload as ApiEvents['validation.done'];
        reports.set(p.jobId, p.report);
      }
      for (const w of waiters.splice(0)) w();
    },
    done(jobId: string) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no report')), 60_000);
        const check = (): void => {
          const r = reports.get(jobId);
          if (r) {
            clearTimeout(t);
            resolve(r);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}
