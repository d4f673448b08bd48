/**
 * A web-mode client for the SSH handlers that records every event and answers
 * sudo prompts itself, as the panel would after asking the user.
 */
import type { CallContext } from '../../electron/services/registry';
import type { SshService } from '../../electron/services/ssh/ssh-service';
import type { ApiEvents, EventName } from '../../shared/contract/api';
import type { ValidationReport } from '../../shared/contract/report';

export interface Recorded {
  event: EventName;
  payload: ApiEvents[EventName];
}

export type SudoTestContext = CallContext & { events: Recorded[]; prompts: number; of<E extends EventName>(event: E): ApiEvents[E][] };

/** A client that answers sudo prompts with `answer()` (null cancels) and any other prompt with a cancel. */
export function sudoTestContext(ssh: SshService, answer: () => string | null): SudoTestContext {
  const events: Recorded[] = [];
  const ctx: SudoTestContext = {
    transport: 'web',
    events,
    prompts: 0,
    emit(event, payload) {
      events.push({ event, payload });
      if (event === 'ssh.prompt') {
        const p = payload as ApiEvents['ssh.prompt'];
        if (p.kind === 'sudo') ctx.prompts++;
        const a = p.kind === 'sudo' ? answer() : null;
        void ssh.handlers['ssh.prompt.answer']({ promptId: p.promptId, answers: a === null ? null : [a] }, ctx);
      }
    },
    of<E extends EventName>(event: E) {
      return events.filter((e) => e.event === event).map((e) => e.payload as ApiEvents[E]);
    },
  };
  return ctx;
}

/** How the validation job `jobId` ended, as `ctx` saw it (its report or its error), within two minutes. */
export async function validationOutcome(ctx: SudoTestContext, jobId: string): Promise<{ report?: ValidationReport; error?: string }> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const done = ctx.of('validation.done').find((e) => e.jobId === jobId);
    if (done) return { report: done.report };
    const failed = ctx.of('validation.failed').find((e) => e.jobId === jobId);
    if (failed) return { error: failed.error };
    if (Date.now() > deadline) throw new Error('validation did not end');
    await new Promise((r) => setTimeout(r, 20));
  }
}
