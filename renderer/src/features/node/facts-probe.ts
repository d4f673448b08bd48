/**
 * The "Node facts" probe: the read-only commands it runs (built here so the
 * exact text is on screen before it runs, and is what the session log
 * records) and the run itself, one `ssh.exec` per command, optionally
 * through sudo. A failing command is a fact ("not present"), never a failed
 * probe. No Svelte, no DOM: the panel and the tests share it.
 */
import type { LifeboatClient } from '../../../../shared/contract/api';
import type { ExecStopped } from '../../../../shared/contract/ssh';
import { newRunTag } from '../../../../shared/node/run-tag';
import { quoteIfNeeded } from './commands';
import {
  DATASTORE_UNITS,
  addressFacts,
  dataDirFacts,
  diskFacts,
  etcdManifestFacts,
  etcdUnitDataDir,
  manifestListFacts,
  memoryFacts,
  parseSystem,
  clockSkewSeconds,
  unitFacts,
  type NodeFact,
  type ProbeOutput,
} from '../../../../shared/node/facts-parse';

export const MANIFESTS_DIR = '/etc/kubernetes/manifests';
export const ETCD_MANIFEST = `${MANIFESTS_DIR}/etcd.yaml`;
/** Each command's output is small; more than this is not a fact any more. */
export const MAX_FACT_OUTPUT_BYTES = 256 * 1024;

export type FactProbeId =
  'system' | 'disk' | 'inodes' | 'datadir' | 'units-active' | 'units-cat' | 'manifests' | 'etcd-manifest' | 'memory' | 'addresses' | 'etcd-env';

export interface FactCommand {
  id: FactProbeId;
  command: string;
}

/** The commands, in order, for a data directory (the env-file reads come after, from what the etcd unit names). */
export function factCommands(dataDir: string): FactCommand[] {
  const dir = quoteIfNeeded(dataDir);
  const units = DATASTORE_UNITS.join(' ');
  return [
    { id: 'system', command: 'hostname; uname -a; date -Is' },
    { id: 'disk', command: `df -hT ${dir}` },
    { id: 'inodes', command: `df -i ${dir}` },
    { id: 'datadir', command: `stat ${dir}` },
    { id: 'units-active', command: `systemctl is-active ${units}` },
    { id: 'units-cat', command: `systemctl cat --no-pager ${units}` },
    { id: 'manifests', command: `ls -l ${MANIFESTS_DIR}` },
    { id: 'etcd-manifest', command: `cat ${ETCD_MANIFEST}` },
    { id: 'memory', command: 'free -b' },
    { id: 'addresses', command: 'ip -brief addr' },
  ];
}

/** Reading an EnvironmentFile the etcd unit names (KubeKey: /etc/etcd.env). */
export function envFileCommand(file: string): FactCommand {
  return { id: 'etcd-env', command: `cat ${quoteIfNeeded(file)}` };
}

/** Environment files worth reading: absolute, no systemd specifiers we cannot expand, at most 4. */
export function readableEnvFiles(files: string[]): string[] {
  // eslint-disable-next-line no-control-regex -- a file name with a control character is not read
  return files.filter((f) => f.startsWith('/') && !f.includes('%') && !/[\u0000-\u001f]/.test(f)).slice(0, 4);
}

export interface FactStep extends FactCommand {
  output: ProbeOutput;
  truncated: boolean;
  /** It outlasted `ssh.exec`'s time limit and its wait was given up (its channel got TERM): the output is what came before. */
  stopped?: ExecStopped;
}

export interface NodeFactsResult {
  dataDir: string;
  sudo: boolean;
  steps: FactStep[];
  facts: NodeFact[];
  /** When the probe ran (ms since epoch, this machine). */
  at: number;
}

/** Facts from the steps' outputs (pure: the test feeds it captured outputs too). */
export function factsFrom(steps: readonly FactStep[], dataDir: string, localNowMs: number): NodeFact[] {
  const out = (id: FactProbeId): ProbeOutput => steps.find((s) => s.id === id)?.output ?? { code: null, stdout: '', stderr: 'not run' };
  const facts: NodeFact[] = [];
  const sys = parseSystem(out('system'));
  if (sys) {
    facts.push({
      id: 'system',
      level: 'info',
      key: 'ssh.facts.h.system',
      params: { hostname: sys.hostname, kernel: sys.kernel, time: sys.time ?? '?' },
      data: { hostname: sys.hostname },
    });
    const skew = clockSkewSeconds(sys, localNowMs);
    if (skew !== null && Math.abs(skew) > 60)
      facts.push({ id: 'clock', level: 'warn', key: 'ssh.facts.h.clockSkew', params: { seconds: skew }, data: { seconds: skew } });
  }
  facts.push(...diskFacts(out('disk'), out('inodes'), dataDir));
  facts.push(...dataDirFacts(out('datadir'), dataDir));
  facts.push(...unitFacts(out('units-active'), out('units-cat')).facts);
  const envSteps = steps.filter((s) => s.id === 'etcd-env').map((s) => ({ path: s.command.replace(/^cat /, '').replace(/^'(.*)'$/, '$1'), output: s.output }));
  const etcdUnit = etcdUnitDataDir(out('units-cat'), envSteps);
  if (etcdUnit) facts.push(etcdUnit);
  const addr = addressFacts(out('addresses'));
  facts.push(...manifestListFacts(out('manifests'), MANIFESTS_DIR).facts);
  facts.push(...etcdManifestFacts(out('etcd-manifest'), ETCD_MANIFEST, addr.addresses));
  facts.push(...memoryFacts(out('memory')));
  facts.push(...addr.facts);
  return facts;
}

/**
 * Run the probe on a node: every command through `ssh.exec` (the back end
 * announces each in the session log before it runs), then the etcd unit's
 * EnvironmentFiles. `onStep` sees each command as it starts and ends.
 */
export async function runNodeFacts(
  client: Pick<LifeboatClient, 'call'>,
  req: { connectionId: string; dataDir: string; sudo: boolean },
  onStep?: (step: FactCommand, output: ProbeOutput | null) => void,
): Promise<NodeFactsResult> {
  const steps: FactStep[] = [];
  const runOne = async (c: FactCommand) => {
    onStep?.(c, null);
    const r = await client.call('ssh.exec', {
      connectionId: req.connectionId,
      command: c.command,
      sudo: req.sudo,
      maxOutputBytes: MAX_FACT_OUTPUT_BYTES,
      // Through sudo each probe runs tagged, so one that hangs is ended on the node at the time limit.
      ...(req.sudo ? { runTag: newRunTag() } : {}),
    });
    const output: ProbeOutput = { code: r.code, stdout: r.stdout, stderr: r.stderr };
    steps.push({ ...c, output, truncated: r.truncated, ...(r.stopped ? { stopped: r.stopped } : {}) });
    onStep?.(c, output);
  };
  // One at a time: the session log reads in order, and the node is not loaded.
  for (const c of factCommands(req.dataDir)) await runOne(c);
  const cat = steps.find((s) => s.id === 'units-cat')!.output;
  const units = unitFacts(steps.find((s) => s.id === 'units-active')!.output, cat);
  for (const f of readableEnvFiles(units.etcdEnvironmentFiles)) await runOne(envFileCommand(f));
  return { dataDir: req.dataDir, sudo: req.sudo, steps, facts: factsFrom(steps, req.dataDir, Date.now()), at: Date.now() };
}
