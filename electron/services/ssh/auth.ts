/**
 * Client authentication in OpenSSH's order: agent, key files, keyboard-
 * interactive, password. Built on ssh2's callback `authHandler` so multi-step
 * servers (`AuthenticationMethods publickey,keyboard-interactive`) work: after
 * a partial success ssh2 calls us again with the methods still required.
 * Every secret comes from the async `prompt` callback and lives only in this
 * closure's memory for the life of the attempt.
 */
import { promises as fs } from 'node:fs';
import { utils, type AnyAuthMethod, type AuthenticationType, type AuthHandlerMiddleware, type ParsedKey } from 'ssh2';
import type { SshPrompt } from '../../../shared/contract/ssh';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A prompt without its id (the session layer assigns ids). */
export type PromptRequest = DistributiveOmit<SshPrompt, 'promptId'>;
/** Resolves with the answers, or null when the user cancelled. */
export type PromptFn = (request: PromptRequest) => Promise<string[] | null>;

export interface AuthOptions {
  user: string;
  host: string;
  port: number;
  /** ssh-agent socket; defaults to `SSH_AUTH_SOCK`; null disables the agent. */
  agentSocket?: string | null;
  identityFiles?: string[];
  /** A password the caller already holds in memory (otherwise it is prompted). */
  password?: string;
  /** Ask for a password / keyboard-interactive answers when the server offers them. Default true. */
  interactive?: boolean;
  prompt: PromptFn;
  /** Attempts per passphrase / password / keyboard-interactive round (OpenSSH: 3). */
  maxAttempts?: number;
  /** Offer only the "none" method ("This machine": the in-process server, which has no other peer, needs nothing). */
  noneOnly?: boolean;
}

export class AuthCancelledError extends Error {
  constructor(what: string) {
    super(`${what} cancelled by the user`);
    this.name = 'AuthCancelledError';
  }
}

export class KeyFileError extends Error {
  constructor(
    readonly keyFile: string,
    message: string,
  ) {
    super(`key file ${keyFile}: ${message}`);
    this.name = 'KeyFileError';
  }
}

function isEncryptedError(e: Error): boolean {
  return /no passphrase given/i.test(e.message);
}

function isBadPassphraseError(e: Error): boolean {
  return /bad passphrase|integrity check failed|bad decrypt/i.test(e.message);
}

/**
 * Load a private key (OpenSSH or PEM). Encrypted keys ask for the passphrase
 * up to `maxAttempts` times; a wrong passphrase says so plainly.
 */
/** ssh2 returns an array for a file holding several keys; like OpenSSH, the first one is used. */
function firstKey(parsed: ParsedKey | ParsedKey[]): ParsedKey {
  const keys: ParsedKey[] = Array.isArray(parsed) ? parsed : [parsed];
  return keys[0]!;
}

export async function loadPrivateKey(keyFile: string, prompt: PromptFn, maxAttempts = 3): Promise<ParsedKey> {
  let data: Buffer;
  try {
    data = await fs.readFile(keyFile);
  } catch (e) {
    throw new KeyFileError(keyFile, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (data.length > 1024 * 1024) throw new KeyFileError(keyFile, 'too large to be a private key');
  const first = utils.parseKey(data);
  if (!(first instanceof Error)) return firstKey(first);
  if (!isEncryptedError(first)) throw new KeyFileError(keyFile, `not a usable private key (${first.message})`);
  let lastError: string | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const answer = await prompt({ kind: 'passphrase', keyFile, attempt, lastError });
    if (answer === null) throw new AuthCancelledError(`passphrase for ${keyFile}`);
    const parsed = utils.parseKey(data, answer[0] ?? '');
    if (!(parsed instanceof Error)) return firstKey(parsed);
    lastError = isBadPassphraseError(parsed) ? 'wrong passphrase' : parsed.message;
  }
  throw new KeyFileError(keyFile, `wrong passphrase (${maxAttempts} attempts)`);
}

type Step =
  | { type: 'none' }
  | { type: 'agent'; socket: string }
  | { type: 'key'; file: string }
  | { type: 'keyboard-interactive'; attempt: number }
  | { type: 'password'; attempt: number };

export interface AuthState {
  /** Why methods were skipped or failed, for a clear final error. */
  problems: string[];
  /** Set when the user cancelled a prompt (stop, do not fall through). */
  cancelled: boolean;
  /** Methods that got us in (or partially in). */
  used: string[];
  /** Authentication requests sent so far. */
  attempts: number;
  /** Key files that could not be offered (unreadable, not a private key, wrong passphrase): the UI names them. */
  unusableKeys: string[];
  /** The server hung up during authentication (sshd's MaxAuthTries), set by the connection. */
  serverClosed: boolean;
}

export function makeAuthHandler(opts: AuthOptions): { handler: AuthHandlerMiddleware; state: AuthState } {
  const max = opts.maxAttempts ?? 3;
  const interactive = opts.interactive ?? true;
  const agentSocket = opts.agentSocket === undefined ? process.env.SSH_AUTH_SOCK : opts.agentSocket;
  const steps: Step[] = [];
  if (opts.noneOnly) steps.push({ type: 'none' });
  else if (agentSocket) steps.push({ type: 'agent', socket: agentSocket });
  if (!opts.noneOnly) {
    for (const file of opts.identityFiles ?? []) steps.push({ type: 'key', file });
    if (interactive) for (let i = 1; i <= max; i++) steps.push({ type: 'keyboard-interactive', attempt: i });
    if (opts.password !== undefined) steps.push({ type: 'password', attempt: 0 });
    if (interactive) for (let i = 1; i <= max; i++) steps.push({ type: 'password', attempt: i });
  }

  const state: AuthState = { problems: [], cancelled: false, used: [], attempts: 0, unusableKeys: [], serverClosed: false };
  let pos = 0;
  let last: Step | null = null;

  const allowed = (methodsLeft: AuthenticationType[] | null, step: Step): boolean => {
    if (methodsLeft === null) return true; // first call: server has not told us yet
    const wire = step.type === 'agent' || step.type === 'key' ? 'publickey' : step.type;
    return methodsLeft.includes(wire as AuthenticationType);
  };

  const next = async (methodsLeft: AuthenticationType[] | null, partial: boolean | null): Promise<AnyAuthMethod | false> => {
    if (last && partial) state.used.push(last.type);
    while (pos < steps.length) {
      const step = steps[pos++];
      if (!allowed(methodsLeft, step)) continue;
      last = step;
      switch (step.type) {
        case 'none':
          return { type: 'none', username: opts.user };
        case 'agent':
          return { type: 'agent', username: opts.user, agent: step.socket };
        case 'key': {
          try {
            const key = await loadPrivateKey(step.file, opts.prompt, max);
            return { type: 'publickey', username: opts.user, key };
          } catch (e) {
            if (e instanceof AuthCancelledError) {
              state.cancelled = true;
              state.problems.push(e.message);
              return false;
            }
            state.problems.push((e as Error).message);
            state.unusableKeys.push(e instanceof KeyFileError ? e.keyFile : step.file);
            continue;
          }
        }
        case 'keyboard-interactive':
          return {
            type: 'keyboard-interactive',
            username: opts.user,
            prompt: (name, instructions, _lang, prompts, finish) => {
              void opts
                .prompt({
                  kind: 'keyboard-interactive',
                  user: opts.user,
                  host: opts.host,
                  port: opts.port,
                  name,
                  instructions,
                  prompts: prompts.map((p) => ({ prompt: p.prompt, echo: p.echo ?? false })),
                })
                .then((answers) => {
                  if (answers === null) {
                    state.cancelled = true;
                    state.problems.push('keyboard-interactive cancelled by the user');
                    // An empty answer set fails this round; the handler then stops.
                    pos = steps.length;
                    finish(prompts.map(() => ''));
                    return;
                  }
                  finish(prompts.map((_, i) => answers[i] ?? ''));
                });
            },
          };
        case 'password': {
          let password = opts.password;
          if (step.attempt > 0) {
            const answer = await opts.prompt({ kind: 'password', user: opts.user, host: opts.host, port: opts.port, attempt: step.attempt });
            if (answer === null) {
              state.cancelled = true;
              state.problems.push('password cancelled by the user');
              return false;
            }
            password = answer[0] ?? '';
          }
          return { type: 'password', username: opts.user, password: password ?? '' };
        }
      }
    }
    return false;
  };

  const handler: AuthHandlerMiddleware = (methodsLeft, partialSuccess, callback) => {
    // ssh2 accepts `false` ("no more methods") although its typings omit it.
    const done = callback as (next: AnyAuthMethod | false) => void;
    next(methodsLeft ?? null, partialSuccess ?? null).then(
      (m) => {
        if (m !== false) state.attempts++;
        done(m);
      },
      (e: Error) => {
        state.problems.push(e.message);
        done(false);
      },
    );
  };
  return { handler, state };
}
