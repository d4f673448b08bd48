/**
 * Guided-session journals on disk: one append-only JSON-lines file per
 * session under `$LIFEBOAT_HOME/guided/` (default `~/.lifeboat/guided/`),
 * mode 0600. Every event is written and fdatasync'd before `append`
 * resolves, so whatever the operator was shown as recorded survives the app
 * being killed at any moment; a line torn by a crash is the only thing lost,
 * and replay (shared/guided/runner.ts) ignores it. Instances are owned by the
 * composition roots; nothing here is module state.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Playbook, SessionEvent, SessionState, SessionSummary } from '../../../shared/contract/guided';
import { replayJournal } from '../../../shared/guided/runner';
import { lifeboatHome } from '../ssh/profiles';
import { makeDirs } from '../make-dirs';

/** `$LIFEBOAT_HOME/guided` (default `~/.lifeboat/guided`), read when used. */
export function defaultGuidedDir(): string {
  return path.join(lifeboatHome(), 'guided');
}

/** A session id is ours (UUID): never a path a client could steer. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Output kept per command in the journal (the node's output can be huge; the record must not be). */
export const MAX_RECORDED_OUTPUT = 256 * 1024;

export class SessionStore {
  private readonly open = new Map<string, fs.FileHandle>();
  /** Appends to one journal run one after another, in call order. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    readonly dir: string,
    private readonly playbookOf: (id: string) => Playbook | null,
  ) {}

  newId(): string {
    return randomUUID();
  }

  private file(id: string): string {
    if (!SESSION_ID.test(id)) throw new Error(`not a session id: ${id.slice(0, 80)}`);
    return path.join(this.dir, `${id}.jsonl`);
  }

  /** Append one event durably (written and synced before this resolves). */
  append(id: string, event: SessionEvent): Promise<void> {
    const line = `${JSON.stringify(event)}\n`;
    const prev = this.queues.get(id) ?? Promise.resolve();
    const next = prev.then(async () => {
      let fh = this.open.get(id);
      if (!fh) {
        await makeDirs(this.dir, 0o700);
        fh = await fs.open(this.file(id), 'a', 0o600);
        this.open.set(id, fh);
      }
      await fh.write(line);
      await fh.datasync();
    });
    // A failed append must fail its caller, and must not wedge the queue for the next one.
    this.queues.set(
      id,
      next.catch(() => undefined),
    );
    return next;
  }

  async load(id: string): Promise<SessionState> {
    const text = await fs.readFile(this.file(id), 'utf8');
    return replayJournal(text, this.playbookOf);
  }

  async list(): Promise<SessionSummary[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: SessionSummary[] = [];
    for (const n of names) {
      const id = n.replace(/\.jsonl$/, '');
      if (!n.endsWith('.jsonl') || !SESSION_ID.test(id)) continue;
      try {
        const s = await this.load(id);
        const created = s.events.find((e) => e.type === 'created');
        out.push({
          sessionId: id,
          playbookId: s.playbookId,
          node: s.node,
          createdAt: created?.at ?? 0,
          updatedAt: s.events.length ? s.events[s.events.length - 1]!.at : 0,
          current: s.current,
          finished: s.finished,
        });
      } catch {
        // An unreadable journal is listed by nobody, and kept as it is.
      }
    }
    return out.sort((a, b) => b.updatedAt - a.updatedAt);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()]);
    const handles = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(handles.map((h) => h.close()));
  }
}
