/**
 * The node "Logs" panels' state: per node the chosen preset, its input (a
 * picked container / pod, a path), sudo and the last listing; for the page
 * the fetched sources (from any node: they combine on one timeline) and the
 * analysis job. One instance for the page, like the other node stores.
 */
import type { LifeboatClient } from '../../../../shared/contract/api';
import type { LogAnalysis } from '../../../../shared/logs/types';
import { newRunTag } from '../../../../shared/node/run-tag';
import { startLogAnalysis, type LogJob } from '../logs/log-jobs';
import { LIST_COMMANDS, logCommand, parsePickList, type LogPresetId, type PickRow } from './logs-commands';
import { addFetched, fetchNodeLog, hasLogLines, toLogSources, type FetchedLog } from './logs-fetch';
import { panelOf, withoutPanel } from './panels';
import { stoppedSentence } from './exec-stopped';

export interface PickListing {
  status: 'running' | 'done' | 'failed';
  preset: LogPresetId;
  command: string;
  rows: PickRow[];
  error: string | null;
}

export class NodeLogsPanel {
  preset = $state<LogPresetId>('microk8s-dqlite');
  /** The picked container / pod, or the file path. */
  input = $state('');
  sudo = $state(false);
  /** The tag "Fetch" is sent with through sudo next (shown in the preview; a fresh one after each fetch). */
  runTag = $state(newRunTag());
  listing = $state<PickListing | null>(null);
  fetching = $state(false);
  error = $state<string | null>(null);

  constructor(readonly connectionId: string) {}

  /** The command "Fetch" will run, exactly (null while the preset's input is missing). */
  get command(): string | null {
    return logCommand(this.preset, this.input);
  }
}

export class NodeLogsStore {
  panels = $state<Record<string, NodeLogsPanel>>({});
  fetched = $state<FetchedLog[]>([]);
  /** Fetched sources left out of the next analysis. */
  excluded = $state<Record<string, boolean>>({});
  analyzing = $state<{ done: number; total: number } | null>(null);
  analyzeError = $state<string | null>(null);
  private job: LogJob | null = null;

  constructor(readonly client: LifeboatClient) {}

  panel(connectionId: string): NodeLogsPanel {
    return panelOf(this.panels, connectionId, (id) => new NodeLogsPanel(id));
  }

  /** The node went away: its panel goes; what was fetched from it stays (it is evidence). */
  forget(connectionId: string): void {
    if (connectionId in this.panels) this.panels = withoutPanel(this.panels, connectionId);
  }

  choose(panel: NodeLogsPanel, preset: LogPresetId): void {
    if (panel.preset === preset) return;
    panel.preset = preset;
    panel.input = '';
    panel.error = null;
  }

  /** Run the preset's listing (`crictl ps -a`, …) so the user can pick a container or pod. */
  async list(panel: NodeLogsPanel): Promise<void> {
    const preset = panel.preset;
    const command = LIST_COMMANDS[preset];
    if (!command) return;
    panel.listing = { status: 'running', preset, command, rows: [], error: null };
    try {
      const r = await this.client.call('ssh.exec', {
        connectionId: panel.connectionId,
        command,
        sudo: panel.sudo,
        maxOutputBytes: 1024 * 1024,
        // Not previewed (a fixed listing): tagged all the same, so a hung one is ended on the node.
        ...(panel.sudo ? { runTag: newRunTag() } : {}),
      });
      const current = panel.listing;
      if (current?.command !== command) return;
      current.rows = parsePickList(preset, r.stdout);
      if (r.code !== 0 && current.rows.length === 0) {
        current.status = 'failed';
        current.error = r.stopped ? stoppedSentence(r.stopped) : (r.stderr || r.stdout).trim().slice(0, 2000) || `exit ${String(r.code)}`;
      } else current.status = 'done';
    } catch (e) {
      if (panel.listing?.command !== command) return;
      panel.listing.status = 'failed';
      panel.listing.error = messageOf(e);
    }
  }

  /** Run the shown command on the node and keep its capped output as a source. */
  async fetch(panel: NodeLogsPanel, nodeLabel: string): Promise<FetchedLog | null> {
    const command = panel.command;
    if (!command || panel.fetching) return null;
    panel.fetching = true;
    panel.error = null;
    const runTag = panel.runTag;
    try {
      const log = await fetchNodeLog(this.client, { connectionId: panel.connectionId, nodeLabel, command, sudo: panel.sudo, runTag });
      this.fetched = addFetched(this.fetched, log);
      // A command that printed nothing is kept (its message is shown) but left out of the analysis.
      if (!hasLogLines(log.text)) this.excluded[log.id] = true;
      return log;
    } catch (e) {
      panel.error = messageOf(e);
      return null;
    } finally {
      panel.fetching = false;
      // The next fetch goes with a fresh tag (the preview shows it).
      panel.runTag = newRunTag();
    }
  }

  remove(id: string): void {
    this.fetched = this.fetched.filter((f) => f.id !== id);
    delete this.excluded[id];
  }

  included(): FetchedLog[] {
    return this.fetched.filter((f) => !this.excluded[f.id]);
  }

  /** Analyse the included sources together (in a worker); `onopen` shows the result in the log view. */
  open(onopen: (analysis: LogAnalysis) => void): void {
    const sources = this.included();
    if (sources.length === 0 || this.analyzing) return;
    this.analyzeError = null;
    this.analyzing = { done: 0, total: 1 };
    this.job = startLogAnalysis(
      toLogSources(sources).map((s) => ({ name: s.name, text: s.text, zoneMinutes: s.zoneMinutes ?? 0 })),
      {
        onProgress: (done, total) => {
          if (this.analyzing) this.analyzing = { done, total };
        },
        onDone: (analysis) => {
          this.analyzing = null;
          this.job = null;
          onopen(analysis);
        },
        onFailed: (error) => {
          this.analyzing = null;
          this.job = null;
          this.analyzeError = error;
        },
      },
    );
  }

  cancelAnalysis(): void {
    this.job?.cancel();
    this.job = null;
    this.analyzing = null;
  }
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

let store: NodeLogsStore | null = null;

/** The page's one store (created on first use, lives as long as the page). */
export function nodeLogsStore(client: LifeboatClient): NodeLogsStore {
  store ??= new NodeLogsStore(client);
  return store;
}
