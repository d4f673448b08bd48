/**
 * One offline run started from a panel (etcd repair and salvage, the dqlite
 * rebuild, the kine export): its state (choosing; running with its
 * progress; done with its result; failed with why and what it left) and the
 * start, cancel and "again" each such panel has. The panel names its events
 * and calls (`RunWiring`); events that arrive before the start call's id are
 * kept by a RunRouter.
 */
import type { ErrorText } from '../../../shared/contract/error-text';
import type { Progress } from '../../../shared/contract/progress';
import { errorSentence } from './error-sentence';
import { RunRouter } from './run-router';

/** A run's `failed` event, as every service of OutputRuns sends it. */
export interface RunFailure {
  error: string;
  errorText?: ErrorText;
  cancelled: boolean;
  partial?: string;
}

export interface RunWiring<R> {
  /**
   * Subscribe to the run's events, handing each on through `route(runId, fn)` (only this run's are applied);
   * returns the unsubscribers.
   */
  listen(
    route: (runId: string, fn: () => void) => void,
    on: { progress(p: Progress): void; done(result: R): void; failed(f: RunFailure): void },
  ): (() => void)[];
  cancel(runId: string): Promise<unknown>;
  /** Why the back end refused a start, by error code: the catalog keys of the panel's sentences. */
  errors: Readonly<Record<string, string>>;
}

export class PanelRun<R> {
  status = $state<'choosing' | 'running' | 'done' | 'failed'>('choosing');
  progress = $state<Progress | null>(null);
  result = $state<R | null>(null);
  cancelling = $state(false);
  error = $state<string | null>(null);
  /** The failure as a catalog text when the back end sent one: said in the UI's language. */
  errorText = $state<ErrorText | null>(null);
  cancelled = $state(false);
  partial = $state<string | null>(null);
  /** Why a start (or the panel's own choose call) was refused, already in the UI's language. */
  startError = $state<string | null>(null);
  private runId: string | null = null;
  private offs: (() => void)[] = [];

  constructor(private readonly wiring: RunWiring<R>) {}

  /** Start a run: `call` makes the start call and returns the run's id. */
  async start(call: () => Promise<string>): Promise<void> {
    this.startError = null;
    this.error = null;
    this.errorText = null;
    this.partial = null;
    this.cancelled = false;
    this.result = null;
    this.progress = null;
    this.cancelling = false;
    this.stopListening();
    const router = new RunRouter();
    this.offs = this.wiring.listen((runId, fn) => router.route(runId, fn), {
      progress: (p) => (this.progress = p),
      done: (result) => {
        this.stopListening();
        this.result = result;
        this.status = 'done';
      },
      failed: (f) => {
        this.stopListening();
        this.error = f.error;
        this.errorText = f.errorText ?? null;
        this.cancelled = f.cancelled;
        this.partial = f.partial ?? null;
        this.status = 'failed';
      },
    });
    this.status = 'running';
    try {
      const runId = await call();
      this.runId = runId;
      router.started(runId);
    } catch (e) {
      this.stopListening();
      this.status = 'choosing';
      this.startError = errorSentence(e, this.wiring.errors);
    }
  }

  /** Ask the back end to stop the running run (it ends with a `failed` event marked cancelled, or done if it won). */
  cancel(): void {
    if (!this.runId) return;
    this.cancelling = true;
    void this.wiring.cancel(this.runId).catch(() => undefined);
  }

  /** Back to choosing for a new run: the last result stays on disk, the panel forgets it. */
  reset(): void {
    this.status = 'choosing';
    this.result = null;
    this.error = null;
    this.errorText = null;
  }

  private stopListening(): void {
    for (const off of this.offs) off();
    this.offs = [];
  }
}
