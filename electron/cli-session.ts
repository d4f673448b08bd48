/**
 * `lifeboat session list [--json]` and
 * `lifeboat session export ID (--html FILE | --md FILE) [--lang en|zh-CN]`:
 * the guided sessions recorded under `$LIFEBOAT_HOME/guided/` (default
 * `~/.lifeboat/guided/`), listed, or written out as a post-mortem.
 * Exit codes: 0 done; 2 usage, unknown session or I/O error.
 */
import { CliUsageError } from './cli-usage';
import { promises as fs } from 'node:fs';
import { parseArgs } from 'node:util';
import { playbookById } from '../shared/guided/playbooks';
import { sessionHtml, sessionMarkdown } from '../shared/guided/export';
import { SessionStore, defaultGuidedDir } from './services/sessions/session-store';

export class SessionUsageError extends CliUsageError {}

export async function sessionCommand(argv: string[], out: (line?: string) => void): Promise<number> {
  const [sub, ...rest] = argv;
  const store = new SessionStore(defaultGuidedDir(), playbookById);
  try {
    if (sub === 'list') {
      const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } }, strict: true });
      const list = await store.list();
      if (values.json) out(JSON.stringify(list, null, 2));
      else if (list.length === 0) out(`no guided sessions in ${store.dir}`);
      else {
        for (const s of list) {
          const state = s.finished ? s.finished.outcome : `at ${s.current ?? '?'}`;
          out(`${s.sessionId}  ${new Date(s.updatedAt).toISOString()}  ${s.playbookId}  ${s.node}  ${state}`);
        }
      }
      return 0;
    }
    if (sub === 'export') {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { html: { type: 'string' }, md: { type: 'string' }, lang: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      });
      const id = positionals[0];
      if (!id || positionals.length > 1) throw new SessionUsageError('session export needs one session ID (see `lifeboat session list`)');
      if (!values.html && !values.md) throw new SessionUsageError('session export needs --html FILE or --md FILE');
      const lang = values.lang ?? undefined;
      if (lang !== undefined && lang !== 'en' && lang !== 'zh-CN') throw new SessionUsageError('--lang is en or zh-CN');
      let state;
      try {
        state = await store.load(id);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new SessionUsageError(code === 'ENOENT' ? `no session ${id} in ${store.dir} (see \`lifeboat session list\`)` : (e as Error).message);
      }
      const pb = playbookById(state.playbookId);
      if (values.html) {
        await fs.writeFile(values.html, sessionHtml(state, pb, lang ?? state.language));
        out(`wrote ${values.html}`);
      }
      if (values.md) {
        await fs.writeFile(values.md, sessionMarkdown(state, pb, lang ?? state.language));
        out(`wrote ${values.md}`);
      }
      return 0;
    }
    throw new SessionUsageError('usage: lifeboat session list [--json] | lifeboat session export ID (--html FILE | --md FILE) [--lang en|zh-CN]');
  } finally {
    await store.close();
  }
}
