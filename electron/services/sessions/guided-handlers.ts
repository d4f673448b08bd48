/**
 * The contract's `node.detect` and `guided.*` methods. Sessions run on the
 * caller's own SSH connection: every call that touches a node checks that the
 * connection belongs to the caller (another web-mode client cannot drive it).
 * Journals are this machine's (`$LIFEBOAT_HOME/guided/`), named by id only.
 */
import type { CopyValidateOutcome, SessionState } from '../../../shared/contract/guided';
import type { LocalText } from '../../../shared/contract/text';
import { hasMessage } from '../../../shared/i18n';
import { playbookById, PLAYBOOKS } from '../../../shared/guided/playbooks';
import { sessionHtml, sessionMarkdown } from '../../../shared/guided/export';
import { detectNode } from '../../../shared/node/detect';
import { containerExecutor, containerNodeLabel, isContainerName } from '../../../shared/node/kind';
import { ApiError } from '../api-error';
import { confinedExistingFile } from '../local-path-confine';
import type { CallContext, PartialHandlers } from '../registry';
import type { SshService } from '../ssh/ssh-service';
import { SessionService } from './session-service';
import type { SessionStore } from './session-store';
import { UploadCandidateFinder } from './upload-candidates';

function str(v: unknown, name: string, max = 4096): string {
  // Contract: ids and names the page got from the back end.
  if (typeof v !== 'string' || v === '' || v.length > max) throw new ApiError('bad-params', `${name} must be a non-empty string`);
  return v;
}

/** A field the user typed (why a step is skipped, the local file to upload): empty or too long is said from the catalog. */
function typed(v: unknown, field: 'reason' | 'localPath', max: number): string {
  // Contract: the page sends text.
  if (typeof v !== 'string') throw new ApiError('bad-params', `${field} must be a string`);
  if (v.trim() === '') {
    throw field === 'reason'
      ? ApiError.localized('reason-required', 'apiError.session.reasonRequired')
      : ApiError.localized('bad-params', 'apiError.session.localPathRequired');
  }
  if (v.length > max) {
    throw ApiError.localized('bad-params', field === 'reason' ? 'apiError.session.reasonTooLong' : 'apiError.session.localPathTooLong', { max });
  }
  return v;
}

/** A container on the node to work inside (absent: the node itself); a name Docker would not allow is refused. */
function container(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  // Contract: a name from the node card's kind containers.
  if (typeof v !== 'string' || !isContainerName(v)) throw new ApiError('bad-params', 'container must be a name Docker allows');
  return v;
}

function lang(v: unknown): 'en' | 'zh-CN' {
  return v === 'zh-CN' ? 'zh-CN' : 'en';
}

function vars(v: unknown): Record<string, string> {
  // Contract: the form sends its fields as strings.
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ApiError('bad-params', 'variables must be an object of strings');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>).slice(0, 200)) {
    // Contract: as above.
    if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(k) || typeof x !== 'string') throw new ApiError('bad-params', `variable ${k.slice(0, 64)} must be a string`);
    out[k] = x.slice(0, 4096);
  }
  return out;
}

/**
 * A catalog sentence from the page: a known key, a few short scalar params,
 * nested sentences two levels deep at most; anything else is dropped (the
 * English text beside it still says it).
 */
function localText(v: unknown, depth = 0): LocalText | undefined {
  if (typeof v !== 'object' || v === null || depth > 2) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.key !== 'string' || o.key.length > 200 || !hasMessage(o.key)) return undefined;
  const out: LocalText = { key: o.key };
  if (typeof o.params === 'object' && o.params !== null) {
    const params: Record<string, string | number> = {};
    for (const [k, x] of Object.entries(o.params as Record<string, unknown>).slice(0, 20)) {
      if (typeof x === 'string') params[k] = x.slice(0, 2000);
      else if (typeof x === 'number' && Number.isFinite(x)) params[k] = x;
    }
    out.params = params;
  }
  if (typeof o.texts === 'object' && o.texts !== null) {
    const texts: Record<string, LocalText[]> = {};
    for (const [k, list] of Object.entries(o.texts as Record<string, unknown>).slice(0, 10)) {
      if (!Array.isArray(list)) continue;
      texts[k] = list
        .slice(0, 50)
        .map((x) => localText(x, depth + 1))
        .filter((x): x is LocalText => x !== undefined);
    }
    out.texts = texts;
  }
  return out;
}

/** `guided.copyValidated`'s outcome as the page sent it, bounded and typed. */
export function copyValidateOutcome(v: unknown): CopyValidateOutcome {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const findings = Array.isArray(o.findings) ? o.findings.slice(0, 200) : [];
  const summaryText = localText(o.summaryText);
  return {
    ok: o.ok === true,
    summary: typeof o.summary === 'string' ? o.summary.slice(0, 4000) : '',
    ...(summaryText ? { summaryText } : {}),
    findings: findings.map((f) => {
      const x = (typeof f === 'object' && f !== null ? f : {}) as Record<string, unknown>;
      const severity = x.severity === 'error' || x.severity === 'warning' ? x.severity : 'info';
      const local = localText(x.local);
      return { severity, text: typeof x.text === 'string' ? x.text.slice(0, 2000) : '', ...(local ? { local } : {}) };
    }),
  };
}

/** Web mode: a file to upload named outside the copies folder. */
const uploadRefusal = (): ApiError => ApiError.localized('forbidden', 'guided.upload.error.forbidden');

export function createGuidedHandlers(deps: {
  ssh: SshService;
  store: SessionStore;
  /** Web mode: the only folder a file to upload may come from (the copies folder, where salvage writes its snapshot.db). */
  uploadRoot: () => string;
  /** The snapshot.db files this client's finished salvage runs wrote (offered first by the upload picker). */
  salvagedOutputs?: (ctx: CallContext) => string[];
  /** The backend.tar files this client's finished dqlite rebuilds wrote (dqlite-rebuild-jobs.ts), oldest first. */
  rebuiltBackends?: (ctx: CallContext) => string[];
  /** Desktop only: the native open dialog for the file to upload (main.ts); absent in web mode and the CLI. */
  chooseUploadFile?: () => Promise<string | null>;
  onUpdate?: (state: SessionState, ctx: CallContext | null) => void;
}): {
  handlers: PartialHandlers;
  sessions: SessionService;
  release(ctx: CallContext): void;
} {
  // Who opened each session here (updates go to that client), and whose each connection is (node calls need it).
  const owners = new Map<string, CallContext>();
  const connectionOwners = new Map<string, CallContext>();
  const sessions: SessionService = new SessionService({
    store: deps.store,
    nodeFor: (connectionId) => {
      const owner = connectionOwners.get(connectionId);
      if (!owner) throw ApiError.localized('unknown-connection', 'apiError.session.noConnection');
      return deps.ssh.nodeExecutor(connectionId, owner);
    },
    onUpdate: (state) => {
      const ctx = owners.get(state.sessionId) ?? null;
      ctx?.emit('guided.updated', { state });
      deps.onUpdate?.(state, ctx);
    },
  });
  // Running uploads, by session and step, with whose they are (only that client may cancel).
  const uploads = new Map<string, { ctx: CallContext; abort: AbortController }>();
  const candidates = new UploadCandidateFinder();
  const owned = (sessionId: string, ctx: CallContext): string => {
    const connectionId = sessions.connectionOf(sessionId);
    if (!connectionId || owners.get(sessionId) !== ctx) throw ApiError.localized('unknown-session', 'apiError.session.notOpenHere');
    deps.ssh.nodeExecutor(connectionId, ctx); // throws unless the caller owns a live connection
    connectionOwners.set(connectionId, ctx);
    return sessionId;
  };
  const handlers: PartialHandlers = {
    'node.detect': async (p, ctx) => {
      const connectionId = str(p?.connectionId, 'connectionId', 200);
      const node = deps.ssh.nodeExecutor(connectionId, ctx);
      const name = container(p?.container);
      if (name === undefined) return detectNode(node, { sudo: p?.sudo === true, target: node.host });
      return detectNode(containerExecutor(node, name, p?.sudo === true), { sudo: p?.sudo === true, target: containerNodeLabel(node.host, name) });
    },
    'guided.playbooks': async () => [...PLAYBOOKS],
    'guided.list': async () => sessions.list(),
    'guided.create': async (p, ctx) => {
      const connectionId = str(p?.connectionId, 'connectionId', 200);
      deps.ssh.nodeExecutor(connectionId, ctx);
      connectionOwners.set(connectionId, ctx);
      const playbookId = str(p?.playbookId, 'playbookId', 200);
      // Contract: the page offers only the playbooks it listed.
      if (!playbookById(playbookId)) throw new ApiError('unknown-playbook', `no playbook ${playbookId}`);
      const name = container(p?.container);
      const state = await sessions.create({
        playbookId,
        connectionId,
        variables: vars(p?.variables),
        language: lang(p?.language),
        ...(name !== undefined ? { container: name, dockerSudo: p?.dockerSudo !== false } : {}),
      });
      owners.set(state.sessionId, ctx);
      ctx.emit('guided.updated', { state });
      return state;
    },
    'guided.open': async (p, ctx) => {
      const sessionId = str(p?.sessionId, 'sessionId', 100);
      const connectionId = str(p?.connectionId, 'connectionId', 200);
      deps.ssh.nodeExecutor(connectionId, ctx);
      connectionOwners.set(connectionId, ctx);
      owners.set(sessionId, ctx);
      try {
        return await sessions.open(sessionId, connectionId);
      } catch (e) {
        owners.delete(sessionId);
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw ApiError.localized('unknown-session', 'apiError.session.noSuch');
        throw e;
      }
    },
    'guided.get': async (p) => {
      try {
        return await sessions.get(str(p?.sessionId, 'sessionId', 100));
      } catch (e) {
        if (e instanceof ApiError) throw e;
        throw ApiError.localized('unknown-session', 'apiError.session.noSuch');
      }
    },
    'guided.prepare': async (p, ctx) => sessions.prepareChange(owned(str(p?.sessionId, 'sessionId', 100), ctx), str(p?.stepId, 'stepId', 100)),
    'guided.run': async (p, ctx) => {
      const confirm = p?.confirm && typeof p.confirm === 'object' && typeof p.confirm.by === 'string' ? { by: p.confirm.by.slice(0, 200) } : undefined;
      return sessions.run(owned(str(p?.sessionId, 'sessionId', 100), ctx), str(p?.stepId, 'stepId', 100), {
        confirm,
        rerunInterrupted: p?.rerunInterrupted === true,
      });
    },
    'guided.choose': async (p, ctx) =>
      sessions.choose(owned(str(p?.sessionId, 'sessionId', 100), ctx), str(p?.stepId, 'stepId', 100), str(p?.optionId, 'optionId', 100)),
    'guided.skip': async (p, ctx) =>
      sessions.skip(
        owned(str(p?.sessionId, 'sessionId', 100), ctx),
        str(p?.stepId, 'stepId', 100),
        typed(p?.reason, 'reason', 4000),
        p?.doneInTerminal === true,
      ),
    'guided.back': async (p, ctx) => sessions.back(owned(str(p?.sessionId, 'sessionId', 100), ctx), str(p?.toStepId, 'toStepId', 100)),
    'guided.setVariable': async (p, ctx) =>
      sessions.setVariable(
        owned(str(p?.sessionId, 'sessionId', 100), ctx),
        str(p?.name, 'name', 64),
        typeof p?.value === 'string' ? p.value.slice(0, 65536) : '',
      ),
    'guided.copyValidated': async (p, ctx) =>
      sessions.copyValidated(owned(str(p?.sessionId, 'sessionId', 100), ctx), str(p?.stepId, 'stepId', 100), copyValidateOutcome(p?.outcome)),
    'guided.upload': async (p, ctx) => {
      let localPath = typed(p?.localPath, 'localPath', 4096);
      // Checked before the session is looked up, so a refusal says nothing about either.
      if (ctx.transport === 'web') localPath = await confinedExistingFile(localPath, deps.uploadRoot(), uploadRefusal);
      const sessionId = owned(str(p?.sessionId, 'sessionId', 100), ctx);
      const stepId = str(p?.stepId, 'stepId', 100);
      const key = `${sessionId}\n${stepId}`;
      if (uploads.has(key)) throw ApiError.localized('busy', 'apiError.session.uploading');
      const abort = new AbortController();
      uploads.set(key, { ctx, abort });
      try {
        return await sessions.upload(sessionId, stepId, localPath, {
          signal: abort.signal,
          onProgress: (progress) => ctx.emit('guided.upload.progress', { sessionId, stepId, ...progress }),
        });
      } finally {
        uploads.delete(key);
      }
    },
    'guided.stop': async (p, ctx) => ({ stopped: sessions.stopCommand(owned(str(p?.sessionId, 'sessionId', 100), ctx)) }),
    'guided.uploadCancel': async (p, ctx) => {
      const running = uploads.get(`${str(p?.sessionId, 'sessionId', 100)}\n${str(p?.stepId, 'stepId', 100)}`);
      if (!running || running.ctx !== ctx) return { cancelled: false };
      running.abort.abort();
      return { cancelled: true };
    },
    'guided.uploadCandidates': async (p, ctx) => {
      const root = deps.uploadRoot();
      const web = ctx.transport === 'web';
      const asked = (p as { accepts?: unknown } | null)?.accepts;
      // Contract: the step's own `accepts`, or none (etcd's snapshot.db).
      if (asked !== undefined && asked !== 'etcd-snapshot' && asked !== 'dqlite-backend')
        throw new ApiError('bad-params', 'accepts must be etcd-snapshot or dqlite-backend');
      const accepts = asked ?? 'etcd-snapshot';
      const known = accepts === 'dqlite-backend' ? (deps.rebuiltBackends?.(ctx) ?? []) : (deps.salvagedOutputs?.(ctx) ?? []);
      return {
        accepts,
        candidates: await candidates.list({ copiesRoot: root, salvaged: known, confine: web, accepts }),
        root,
        confinedTo: web ? root : null,
        canChooseWithDialog: !web && deps.chooseUploadFile !== undefined,
      };
    },
    'guided.uploadChoose': async (_p, ctx) => {
      if (ctx.transport !== 'electron' || !deps.chooseUploadFile) {
        throw ApiError.localized('unsupported', 'guided.upload.error.noDialog');
      }
      return { path: await deps.chooseUploadFile() };
    },
    'guided.finish': async (p, ctx) => {
      const o = p?.outcome === 'healthy' || p?.outcome === 'abandoned' ? p.outcome : 'failed';
      return sessions.finish(owned(str(p?.sessionId, 'sessionId', 100), ctx), o, typeof p?.text === 'string' ? p.text.slice(0, 4000) : undefined);
    },
    'guided.export': async (p) => {
      const sessionId = str(p?.sessionId, 'sessionId', 100);
      const state = await sessions.get(sessionId).catch(() => {
        throw ApiError.localized('unknown-session', 'apiError.session.noSuch');
      });
      const pb = playbookById(state.playbookId);
      const language = lang(p?.language);
      const html = p?.format === 'html';
      return {
        fileName: `lifeboat-session-${sessionId.slice(0, 8)}.${html ? 'html' : 'md'}`,
        text: html ? sessionHtml(state, pb, language) : sessionMarkdown(state, pb, language),
      };
    },
  };
  return {
    handlers,
    sessions,
    release(ctx) {
      // A client that went away stops its uploads (the node's temp copies are removed, destinations untouched).
      for (const u of uploads.values()) if (u.ctx === ctx) u.abort.abort();
      for (const [k, v] of owners) if (v === ctx) owners.delete(k);
      for (const [k, v] of connectionOwners) if (v === ctx) connectionOwners.delete(k);
    },
  };
}
