/**
 * The SSH workspace's state: connections, the prompt queue, host-key
 * refusals and terminal tabs. One instance for the page, subscribed to the
 * back end's events once, so prompts are answered and terminals keep running
 * while the user looks at another screen.
 *
 * Secrets: prompt answers go straight to `ssh.prompt.answer` and are not
 * kept here; the back end holds them in memory for the connection only.
 */
import type { ErrorText, LifeboatClient } from '../../../../shared/contract/api';
import { t } from '../../lib/i18n.svelte';
import type {
  AutoReconnectState,
  HostKeyVerdict,
  SshConfigHost,
  SshConnectionState,
  SshProfile,
  SshPrompt,
  SshTarget,
  UnknownKeyDecision,
} from '../../../../shared/contract/ssh';
import { endpointText, targetLabel } from './targets';

export interface NodeConnection {
  /** Back-end connection id; a local `pending-N` id until `ssh.connect` answers. */
  id: string;
  target: SshTarget;
  label: string;
  state: SshConnectionState;
  message: string | null;
  /** `message` as the back end's catalog text, said in the UI's language when present. */
  messageText?: ErrorText | null;
  /** Host-key verdicts of the last successful connect, first hop first. */
  verdicts: HostKeyVerdict[];
  /** The automatic reconnect's progress (countdown, attempt, why it stopped); null when not reconnecting by itself. */
  auto: AutoReconnectState | null;
  /** The saved profile it was opened from. */
  profileId: string | null;
}

export interface TerminalTab {
  /** Local, stable across reconnects (the back-end terminal id changes). */
  key: string;
  connectionId: string;
  title: string;
}

/** A connection refused over its host key: changed (replace path) or revoked. */
export interface HostKeyRefusal {
  verdict: HostKeyVerdict;
  target: SshTarget;
}

export interface ConnectError {
  label: string;
  message: string;
  text?: ErrorText;
}

/** A back-end error kept for display: its English message and, when it sent one, its catalog text. */
export interface StoredError {
  message: string;
  text: ErrorText | null;
}

/** Connect errors shown at once: older ones go, they would only push the node list away. */
const MAX_ERROR_BOXES = 3;

export class SshStore {
  nodes = $state<NodeConnection[]>([]);
  tabs = $state<TerminalTab[]>([]);
  activeTab = $state<string | null>(null);
  prompts = $state<SshPrompt[]>([]);
  refusal = $state<HostKeyRefusal | null>(null);
  errors = $state<ConnectError[]>([]);
  imported = $state<SshConfigHost[] | null>(null);
  /** Kept as message + catalog text, said in the UI's language when shown (sayMessage): a language switch re-says it. */
  importError = $state<StoredError | null>(null);
  /** Saved profiles (null until loaded). */
  profiles = $state<SshProfile[] | null>(null);
  /** Whether the back end serves "This machine" (null until asked: app.info). */
  thisMachine = $state<boolean | null>(null);
  /** The last refusal of the saved-connections list (save, delete, load), as importError. */
  profilesError = $state<StoredError | null>(null);

  private seq = 0;
  /** Host-key refusals reported by `ssh.state` for ids we do not know yet (the connect is still pending). */
  private refusedVerdicts: HostKeyVerdict[] = [];
  private readonly unsubscribe: (() => void)[] = [];

  constructor(readonly client: LifeboatClient) {
    this.unsubscribe.push(
      client.on('ssh.prompt', (p) => {
        this.prompts = [...this.prompts, p];
      }),
      client.on('ssh.prompt.closed', (p) => {
        this.prompts = this.prompts.filter((q) => q.promptId !== p.promptId);
      }),
      client.on('ssh.state', (s) => {
        const node = this.nodes.find((n) => n.id === s.connectionId);
        if (s.hostKey) this.refusedVerdicts.push(s.hostKey);
        if (!node) return;
        node.state = s.state;
        node.message = s.message ?? null;
        node.messageText = s.text ?? null;
        node.auto = s.state === 'ready' ? null : (s.auto ?? null);
        if (s.state === 'closed') this.forget(node.id);
      }),
    );
  }

  dispose(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  async importConfig(): Promise<void> {
    try {
      this.imported = await this.client.call('ssh.config.import', {});
      this.importError = null;
    } catch (e) {
      this.imported = [];
      this.importError = storedError(e);
    }
  }

  /** Connect; prompts (host key, passwords, ...) arrive meanwhile through `prompts`. */
  async connect(target: SshTarget, opts: { openTerminal?: boolean; profileId?: string | null } = {}): Promise<NodeConnection | null> {
    const profileId = opts.profileId ?? null;
    return this.open(target, targetLabel(target), profileId, opts, () => this.client.call('ssh.connect', profileId ? { target, profileId } : { target }));
  }

  /**
   * "This machine" as a node (no SSH server needed: the back end serves it
   * itself). One is enough: asked again, the one already open is returned.
   */
  async connectLocal(opts: { openTerminal?: boolean } = {}): Promise<NodeConnection | null> {
    const open = this.nodes.find((n) => n.target.local && n.state !== 'closed');
    if (open) return open;
    const target: SshTarget = { local: true, host: 'localhost', port: 0, user: '' };
    return this.open(target, 'localhost', null, opts, () => this.client.call('ssh.connectLocal', {}));
  }

  private async open(
    target: SshTarget,
    label: string,
    profileId: string | null,
    opts: { openTerminal?: boolean },
    call: () => Promise<{ connectionId: string; verdicts: HostKeyVerdict[]; user?: string }>,
  ): Promise<NodeConnection | null> {
    const pendingId = `pending-${++this.seq}`;
    this.nodes.push({ id: pendingId, target, label, state: 'connecting', message: null, verdicts: [], auto: null, profileId });
    this.refusedVerdicts = [];
    try {
      const { connectionId, verdicts, user } = await call();
      const node = this.nodes.find((n) => n.id === pendingId);
      if (!node) {
        // Removed while connecting: do not leave an orphan session on the back end.
        void this.client.call('ssh.disconnect', { connectionId }).catch(() => undefined);
        return null;
      }
      node.id = connectionId;
      node.verdicts = verdicts;
      // This machine's user is known once the back end answered.
      if (user !== undefined) node.target.user = user;
      node.state = 'ready';
      node.message = null;
      node.messageText = null;
      // A fresh connection gets its first terminal right away.
      if (opts.openTerminal !== false) this.openTab(node.id);
      return node;
    } catch (e) {
      this.nodes = this.nodes.filter((n) => n.id !== pendingId);
      const chain = [...(target.jumps ?? []), target];
      const refused = this.refusedVerdicts.find((v) => chain.some((c) => c.host === v.host && c.port === v.port));
      if (refused && (refused.kind === 'changed' || refused.kind === 'revoked')) this.refusal = { verdict: refused, target };
      // One box per node (the newest failure replaces an older one for the same node), three at most.
      else if (!refused || refused.kind !== 'unknown')
        this.errors = [{ label, message: messageOf(e), text: textOf(e) }, ...this.errors.filter((x) => x.label !== label)].slice(0, MAX_ERROR_BOXES);
      return null;
    }
  }

  async reconnect(connectionId: string): Promise<void> {
    const node = this.nodes.find((n) => n.id === connectionId);
    if (!node) return;
    try {
      await this.client.call('ssh.reconnect', { connectionId });
    } catch (e) {
      // The back end reports the state ('dropped' again) with its message; keep the error visible too.
      node.message = messageOf(e);
      node.messageText = textOf(e) ?? null;
      if (node.state !== 'ready') node.state = 'dropped';
    }
  }

  /** Stop the automatic reconnect; the node stays "connection lost" until reconnected by hand. */
  async stopReconnect(connectionId: string): Promise<void> {
    await this.client.call('ssh.reconnect.stop', { connectionId }).catch(() => undefined);
  }

  async loadThisMachine(): Promise<void> {
    this.thisMachine = await this.client.call('app.info', {}).then(
      (info) => info.thisMachine,
      () => false,
    );
  }

  async loadProfiles(): Promise<void> {
    try {
      this.profiles = await this.client.call('ssh.profiles.list', {});
      this.profilesError = null;
    } catch (e) {
      this.profiles = [];
      this.profilesError = storedError(e);
    }
  }

  /** Save (or update) a profile: where and as whom, never a secret. */
  async saveProfile(label: string, target: SshTarget, id?: string): Promise<SshProfile | null> {
    try {
      const saved = await this.client.call('ssh.profiles.save', id ? { id, label, target } : { label, target });
      await this.loadProfiles();
      return saved;
    } catch (e) {
      this.profilesError = storedError(e);
      return null;
    }
  }

  async deleteProfile(id: string): Promise<void> {
    try {
      await this.client.call('ssh.profiles.delete', { id });
      await this.loadProfiles();
    } catch (e) {
      this.profilesError = storedError(e);
    }
  }

  async disconnect(connectionId: string): Promise<void> {
    if (connectionId.startsWith('pending-')) {
      this.forget(connectionId);
      return;
    }
    try {
      await this.client.call('ssh.disconnect', { connectionId });
    } finally {
      this.forget(connectionId);
    }
  }

  private forget(connectionId: string): void {
    this.nodes = this.nodes.filter((n) => n.id !== connectionId);
    this.tabs = this.tabs.filter((t) => t.connectionId !== connectionId);
    if (this.activeTab && !this.tabs.some((t) => t.key === this.activeTab)) this.activeTab = this.tabs.at(-1)?.key ?? null;
  }

  openTab(connectionId: string): void {
    const node = this.nodes.find((n) => n.id === connectionId);
    if (!node) return;
    const n = this.tabs.filter((t) => t.connectionId === connectionId).length + 1;
    const tab: TerminalTab = { key: `tab-${++this.seq}`, connectionId, title: `${tabTitleBase(node.target)} #${n}` };
    this.tabs.push(tab);
    this.activeTab = tab.key;
  }

  closeTab(key: string): void {
    const i = this.tabs.findIndex((t) => t.key === key);
    if (i < 0) return;
    this.tabs.splice(i, 1);
    if (this.activeTab === key) this.activeTab = this.tabs[Math.min(i, this.tabs.length - 1)]?.key ?? null;
  }

  /** Answer the prompt at the head of the queue; `null` cancels. */
  async answer(promptId: string, answers: string[] | null, remember = false): Promise<void> {
    this.prompts = this.prompts.filter((p) => p.promptId !== promptId);
    await this.client.call('ssh.prompt.answer', remember ? { promptId, answers, remember } : { promptId, answers }).catch(() => undefined);
  }

  answerHostKey(promptId: string, decision: UnknownKeyDecision): Promise<void> {
    return this.answer(promptId, [decision]);
  }

  /**
   * The explicit replace path for a changed key: the user typed the new
   * fingerprint and a reason; the back end checks both and logs the change.
   * Then connect again (the key is now known).
   */
  async replaceHostKey(fingerprint: string, reason: string): Promise<void> {
    const r = this.refusal;
    if (!r || r.verdict.kind !== 'changed') return;
    await this.client.call('ssh.hostkey.replace', {
      host: r.verdict.host,
      port: r.verdict.port,
      approvedFingerprint: fingerprint,
      reason,
    });
    this.refusal = null;
    await this.connect(r.target);
  }

  dismissError(i: number): void {
    this.errors = this.errors.filter((_, j) => j !== i);
  }
}

/** Seconds until the next automatic attempt (0 when it is due or running). */
export function secondsUntil(retryAt: number | null, now: number): number {
  return retryAt === null ? 0 : Math.max(0, Math.ceil((retryAt - now) / 1000));
}

/** An error as a sentence in the UI's language: the back end's catalog text if it sent one, else its message. */
export function messageOf(e: unknown): string {
  const text = textOf(e);
  if (text) return t(text.key, text.params);
  return e instanceof Error ? e.message : String(e);
}

/** An error to keep in the store: said later, in whatever language the UI has then. */
export function storedError(e: unknown): StoredError {
  return { message: e instanceof Error ? e.message : String(e), text: textOf(e) ?? null };
}

/** The catalog text (key + params) a back-end error carries, if any. */
export function textOf(e: unknown): ErrorText | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const text = (e as { text?: unknown }).text;
  if (typeof text !== 'object' || text === null || typeof (text as { key?: unknown }).key !== 'string') return undefined;
  return text as ErrorText;
}

/** A stored message (node state, error box) in the UI's current language. */
export function sayMessage(m: { message: string | null; text?: ErrorText | null }): string {
  return m.text ? t(m.text.key, m.text.params) : (m.message ?? '');
}

let store: SshStore | null = null;

/** The page's one store (created on first use, lives as long as the page). */
export function sshStore(client: LifeboatClient): SshStore {
  store ??= new SshStore(client);
  return store;
}

/** Tab titles name the node so that two nodes on one host (different ports) stay apart. */
function tabTitleBase(target: SshTarget): string {
  return target.label && target.label !== target.host ? `${target.user}@${target.label}` : endpointText(target);
}
