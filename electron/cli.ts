/**
 * `lifeboat` command line (bundled to dist/cli.cjs, run by bin/lifeboat.cjs).
 *
 *   lifeboat validate PATH... [--addresses a,b] [--node-path NODE_PATH] [--json]
 *   lifeboat repair PATH --out DIR [--json]
 *   lifeboat serve [--port N] [--this-machine]
 *   lifeboat copy-out [user@]host:PATH --to DIR ...   (exit codes: see services/ssh/copy-out-cli.ts)
 *
 * Exit codes: 0 the engine would start with no data loss and no error
 * findings; 1 problems found; 2 usage or I/O errors.
 */
import { progressPrinter } from './cli-progress';
import { CliUsageError } from './cli-usage';
import { fsErrorAbout, fsErrorText } from './cli-fs-errors';
import { existsSync, promises as fs, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { isInside, realpathLoose } from './services/local-path-confine';
import { parseArgs } from 'node:util';
import type { Progress } from '../shared/contract/progress';
import type { RepairPlan } from '../shared/contract/dqlite';
import { dataLossUnknown, type ValidationReport } from '../shared/contract/report';
import { appVersion } from './services/samples';
import { ValidationService, isNodePath, openLocalTarget, type PrestartedWorker } from './services/validation-service';
import { createSampleCatalog } from './services/samples';
import type { CallContext } from './services/registry';
import type { ApiEvents } from '../shared/contract/api';
import { etcdReports, printEtcdDetails, printMemberComparison } from './cli-etcd';
import { applyAddressCheck, MAX_ADDRESS_INPUT, MAX_ADDRESSES, parseAddressInput } from '../shared/formats/etcd/cross-check';
import { compareMembers } from '../shared/formats/etcd/members-compare';
import { loneBboltEntry, looksLikeEtcdDataDir } from '../shared/formats/etcd/layout';
import { localDirectory } from './services/fs-source';

const EXIT_OK = 0;
const EXIT_PROBLEMS = 1;
const EXIT_USAGE = 2;

const USAGE = `Usage:
  lifeboat validate PATH... [--addresses a,b] [--json]
                                         check a data directory (read-only): dqlite, or
                                         etcd (data dir, member/, --wal-dir, db, snapshot.db);
                                         several etcd members' dirs: a table of who holds
                                         the newest data; --addresses: the node(s)' current
                                         IPs (or host names, host:port, URLs; commas,
                                         spaces or semicolons between), to find members
                                         registered at old ones
                                         --node-path: where a dqlite copy lives on the
                                         node, named by the repair plan's commands
                                         (default: the MicroK8s backend path)
  lifeboat repair PATH --out DIR [--json] write a repaired copy of PATH into DIR
                                         (dqlite, or an etcd data dir etcd starts on)
  lifeboat salvage PATH --snapshot FILE [--json]
                                         every readable etcd key into a snapshot.db that
                                         etcdctl/etcdutl snapshot restore accept
  lifeboat salvage PATH --out DIR [--format yaml|json]
                                         every readable object as a file per resource/namespace
                                         (PATH a dqlite directory: its databases rebuilt
                                         offline from snapshot + log as SQLite files in DIR,
                                         kine's objects in DIR/objects; PATH a kine SQLite
                                         database such as k3s's state.db: its objects)
  lifeboat serve [--port N] [--this-machine]
                                         open the web UI on 127.0.0.1 (--this-machine:
                                         offer "This machine", terminals and commands
                                         here as this user, to whoever has the address)
  lifeboat copy-out [user@]host:PATH --to DIR [--port N] [--identity FILE]
           [--known-hosts FILE] [--accept-new] [--force] [--sudo] [--json]
                                         copy a data directory off a node, streamed
                                         over SSH (SFTP for an account that cannot run
                                         commands; through sudo for root-only dirs),
                                         verified by SHA-256 on both ends
  lifeboat detect [user@]host [--port N] [--identity FILE] [--known-hosts FILE]
           [--accept-new] [--sudo] [--container NAME] [--json]
                                         find out what runs on a node (read-only):
                                         etcd/dqlite/k3s, unit or static pod, data dir,
                                         backup jobs and which backup is the newest good one;
                                         on a kind Docker host: the node containers, and
                                         --container NAME detects inside one (docker exec);
                                         --this-machine in place of the host: here, no SSH
  lifeboat session list [--json]        guided recovery sessions recorded on this machine
  lifeboat session export ID (--html FILE | --md FILE) [--lang en|zh-CN]
                                         write a session's post-mortem report
  lifeboat logs FILE[=NAME][@ZONE]... [--zone +08:00] [--json]
                                         match known failure signatures in logs
                                         (exit 0 none found, 1 found)
  lifeboat --help | --version

Exit codes: 0 healthy (would start, no data loss), 1 problems found (or not a datastore
directory), 2 usage or I/O error.`;

class UsageError extends CliUsageError {}

/** Exit code for a finished validation. */
export function verdictExitCode(report: ValidationReport): number {
  const errors = report.findings.some((f) => f.severity === 'error');
  return report.startable && !report.dataLoss && !errors ? EXIT_OK : EXIT_PROBLEMS;
}

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function yesNo(v: boolean): string {
  return v ? 'yes' : 'no';
}

function printReport(report: ValidationReport, title: string): void {
  out(`${title}: ${report.root} (engine: ${report.engine})`);
  out(`Verdict: ${report.summary}`);
  const loss = dataLossUnknown(report) ? 'unknown (the last WAL file was cut short)' : yesNo(report.dataLoss);
  out(`Would start: ${yesNo(report.startable)}   Data loss on start: ${loss}`);
  if (report.lost.length > 0) {
    out('Lost entries:');
    for (const r of report.lost) {
      const covered = r.coveredBySnapshot ? ' (covered by the snapshot: not really lost)' : '';
      out(`  ${r.first}..${r.last} in ${r.file}: ${r.reason}${covered}`);
    }
  }
  if (report.findings.length > 0) {
    out(`Findings (${report.findings.length}):`);
    for (const f of report.findings) {
      const where = f.file === null ? '' : ` ${f.file}${f.offset === null ? '' : `@${f.offset}`}`;
      out(`  ${f.severity.toUpperCase().padEnd(7)} ${f.code}${where}: ${f.message}`);
      if (f.engineError) out(`          engine says: ${f.engineError}`);
    }
  } else {
    out('Findings: none');
  }
}

function printPlan(plan: RepairPlan | undefined): void {
  if (!plan) return;
  if (!plan.needed) {
    out('Repair plan: none needed.');
    return;
  }
  out(`Repair plan: ${plan.summary}`);
  for (const step of plan.steps) {
    out(`  # ${step.explanation}`);
    for (const line of step.command.split('\n')) if (line.trim() !== '') out(`  ${line}`);
  }
}

/** Whether the folder `dir` holds nothing but one etcd db or snapshot.db (by its name, size or bytes). */
async function holdsLoneEtcdDb(dir: string): Promise<boolean> {
  const folder = localDirectory(dir);
  try {
    return (await loneBboltEntry(folder, await folder.list())) !== null;
  } catch {
    return false;
  } finally {
    await folder.close();
  }
}

/** `WHAT: what happened (next step)`, naming the error's path unless WHAT names it already. */
function ioMessage(err: unknown, what: string, whatNamesPath = false): string {
  return whatNamesPath ? fsErrorAbout(err, what) : `${what}: ${fsErrorText(err)}`;
}

/**
 * Validate a local path in a worker thread (the same ValidationService the app
 * uses), with progress, and cancel on Ctrl-C.
 */
async function validateInWorker(
  absPath: string,
  onProgress?: (p: Progress) => void,
  nodePath?: string,
  prestartedWorker?: PrestartedWorker,
): Promise<ValidationReport> {
  const service = new ValidationService({ transport: 'electron', samples: createSampleCatalog(null), ...(prestartedWorker ? { prestartedWorker } : {}) });
  let settle!: { resolve(r: ValidationReport): void; reject(e: Error): void };
  const finished = new Promise<ValidationReport>((resolve, reject) => (settle = { resolve, reject }));
  let jobId: string | null = null;
  const ctx: CallContext = {
    transport: 'electron',
    emit(event, payload) {
      if (event === 'validation.progress') onProgress?.((payload as ApiEvents['validation.progress']).progress);
      if (event === 'validation.done') settle.resolve((payload as ApiEvents['validation.done']).report);
      if (event === 'validation.failed') settle.reject(new Error((payload as ApiEvents['validation.failed']).error));
    },
  };
  const interrupt = () => {
    if (jobId) service.cancel(jobId);
  };
  process.once('SIGINT', interrupt);
  try {
    ({ jobId } = await service.start({ kind: 'local-path', path: absPath, ...(nodePath ? { nodePath } : {}) }, ctx));
    return await finished;
  } finally {
    process.removeListener('SIGINT', interrupt);
    await service.shutdown();
  }
}

/**
 * `--addresses`, read like the UI's addresses field (parseAddressInput):
 * commas, spaces, semicolons or new lines between IPs, host names, host:port
 * or URLs. Anything it cannot read is a usage error naming the tokens, so a
 * typo never silently narrows the check.
 */
export function addressesArg(text: string): string[] {
  const parsed = parseAddressInput(text);
  if (parsed.invalid.length > 0)
    throw new UsageError(
      `--addresses: not an IP address, host name or URL: ${parsed.invalid.map((t) => JSON.stringify(t)).join(', ')} (e.g. --addresses 172.18.0.7,172.18.0.8)`,
    );
  if (parsed.truncated) throw new UsageError(`--addresses: too many addresses (at most ${MAX_ADDRESSES} tokens and ${MAX_ADDRESS_INPUT} characters)`);
  if (parsed.addresses.length === 0) throw new UsageError('--addresses needs a list of addresses, e.g. --addresses 172.18.0.7,172.18.0.8');
  return parsed.addresses;
}

/**
 * What bin/lifeboat.cjs started before it loaded this bundle: for `lifeboat validate`, the
 * validation worker (it loads its own bundle meanwhile, ~0.1 s of the wall time saved).
 */
export interface CliBoot {
  validationWorker?: PrestartedWorker;
}

async function runValidate(args: string[], boot: CliBoot): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false }, addresses: { type: 'string' }, 'node-path': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) throw new UsageError('validate needs a PATH (several PATHs compare etcd members)');
  const addresses = values.addresses === undefined ? [] : addressesArg(values.addresses);
  const nodePath = values['node-path'];
  if (nodePath !== undefined && !isNodePath(nodePath))
    throw new UsageError('--node-path must be an absolute path on the node, e.g. /var/snap/microk8s/current/var/kubernetes/backend');
  if (nodePath !== undefined && positionals.length > 1) throw new UsageError('--node-path names one copy: validate one PATH with it');
  const reports: ValidationReport[] = [];
  // The first PATH runs in the worker bin/lifeboat.cjs started (if any); the others start their own.
  let prestarted = boot.validationWorker;
  for (const target of positionals) {
    const report = await validateOne(target, addresses, nodePath, prestarted);
    prestarted = undefined;
    if (typeof report === 'number') return report;
    reports.push(report);
  }
  if (reports.length === 1) {
    const report = reports[0]!;
    if (values.json) out(JSON.stringify(report));
    else printValidated(report);
    return verdictExitCode(report);
  }
  const members = compareMembers(etcdReports(reports));
  if (values.json) {
    out(JSON.stringify({ reports, members }));
  } else {
    for (const r of reports) {
      printValidated(r);
      out();
    }
    printMemberComparison(members, out);
  }
  return Math.max(...reports.map(verdictExitCode));
}

/** Validate one PATH in the worker; a number is the exit code of an I/O failure (already reported). */
async function validateOne(
  target: string,
  addresses: string[],
  nodePath: string | undefined,
  prestarted: PrestartedWorker | undefined,
): Promise<ValidationReport | number> {
  let dir;
  try {
    dir = await openLocalTarget(target);
  } catch (err) {
    process.stderr.write(`lifeboat: ${ioMessage(err, `cannot read ${target}`, true)}\n`);
    return EXIT_USAGE;
  }
  // The path is checked here (clear exit 2 for a missing or unreadable path);
  // the parsing itself runs in a worker thread, as it does for the app.
  const isFile = dir.isFile;
  await dir.close();
  const progress = progressPrinter();
  let report: ValidationReport;
  try {
    report = await validateInWorker(path.resolve(target), progress.onProgress, nodePath, prestarted);
  } catch (err) {
    progress.done();
    process.stderr.write(`lifeboat: ${ioMessage(err, `validation of ${target} failed`)}\n`);
    return EXIT_USAGE;
  }
  progress.done();
  if (isFile && report.engine !== 'etcd') {
    // The loader's verdict depends on every file around this one (metadata,
    // neighbouring segments, snapshots): say so, or it reads like a real verdict.
    // (etcd says it itself: layout.db-only, or a snapshot.db's restore verdict.)
    report.findings.push({
      severity: 'info',
      code: 'input.single-file',
      file: path.basename(target),
      offset: null,
      message:
        'Only this one file was examined. Whether the engine starts depends on the whole data directory: validate the directory, e.g. /var/snap/microk8s/current/var/kubernetes/backend.',
    });
  }
  if (report.engine === 'etcd' && addresses.length > 0) report = applyAddressCheck(report, addresses);
  return report;
}

function printValidated(report: ValidationReport): void {
  if (report.engine === 'unknown') {
    // No verdict for something that is not a datastore: say what was looked for.
    out(`Validated: ${report.root}`);
    out(report.summary);
    return;
  }
  printReport(report, 'Validated');
  if (report.etcd) printEtcdDetails(report.etcd, out);
  else printPlan(report.dqlite?.repair);
}

async function runRepair(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { out: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('repair needs exactly one PATH');
  if (!values.out) throw new UsageError('repair needs --out DIR (a new or empty directory outside PATH)');
  const src = positionals[0];
  const outDir = values.out;
  let srcReal: string;
  try {
    const st = await fs.stat(src);
    if (!st.isDirectory()) {
      process.stderr.write(`lifeboat: ${src} is not a directory; repair works on a whole data directory\n`);
      return EXIT_USAGE;
    }
    srcReal = realpathSync(src);
  } catch (err) {
    process.stderr.write(`lifeboat: ${ioMessage(err, `cannot read ${src}`, true)}\n`);
    return EXIT_USAGE;
  }
  // Repair knows dqlite only: never "repair" (copy and bless) anything else.
  const names = await fs.readdir(srcReal).catch(() => [] as string[]);
  // A folder holding one etcd db (by name or bytes) goes to etcd's repair too, which says to salvage it instead.
  const { etcdRepairCommand } = await import('./cli-etcd-repair');
  const { looksLikeDqliteDirectory } = await import('../shared/formats/dqlite/validate');
  const etcd = looksLikeEtcdDataDir(names) || (names.length === 1 && (await holdsLoneEtcdDb(srcReal)));
  if (!etcd && !looksLikeDqliteDirectory(names)) {
    process.stderr.write(
      `lifeboat: ${src} is not a dqlite data directory (no segments, snapshots or metadata files); nothing to repair. Run \`lifeboat validate ${src}\` for details.\n`,
    );
    return EXIT_USAGE;
  }
  const outReal = realpathLoose(outDir);
  if (isInside(srcReal, outReal)) {
    process.stderr.write(`lifeboat: refusing: --out ${outDir} is inside ${src} (the evidence is never written to)\n`);
    return EXIT_USAGE;
  }
  if (existsSync(outReal)) {
    const st = await fs.stat(outReal);
    if (!st.isDirectory() || (await fs.readdir(outReal)).length > 0) {
      process.stderr.write(`lifeboat: refusing: --out ${outDir} exists and is not an empty directory\n`);
      return EXIT_USAGE;
    }
  }
  if (etcd) return etcdRepairCommand(srcReal, outReal, values.json ?? false, out);
  const progress = progressPrinter();
  const { writeRepairedCopy } = await import('./services/dqlite-repair');
  let result: Awaited<ReturnType<typeof writeRepairedCopy>>;
  try {
    result = await writeRepairedCopy(srcReal, outReal, { onProgress: progress.onProgress });
  } catch (err) {
    progress.done();
    process.stderr.write(`lifeboat: ${ioMessage(err, 'repair failed')}\n`);
    return EXIT_USAGE;
  }
  progress.done();
  const { report, plan, actions, after } = result;
  if (values.json) {
    out(JSON.stringify({ report, plan, actions, after }));
  } else {
    printReport(report, 'Before');
    out();
    out(`Wrote a repaired copy to ${outReal} (${src} was not modified):`);
    for (const a of actions) out(`  - ${a}`);
    const realLoss = plan.lost.filter((r) => !r.coveredBySnapshot);
    if (realLoss.length > 0) {
      out('Entries lost by this repair:');
      for (const r of realLoss) out(`  ${r.first}..${r.last} from ${r.file}: ${r.reason}`);
    } else {
      out('No entries lost by this repair.');
    }
    out();
    printReport(after, 'After (validation of the copy)');
  }
  return verdictExitCode(after);
}

async function runServe(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { port: { type: 'string' }, 'this-machine': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError('serve takes no PATH');
  let port = 0;
  if (values.port !== undefined) {
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) {
      throw new UsageError(`--port must be a number 0-65535, not ${values.port}`);
    }
    port = Number(values.port);
  }
  // dist/cli.cjs → dist/renderer
  const rendererDir = path.join(__dirname, 'renderer');
  if (!existsSync(path.join(rendererDir, 'index.html'))) {
    process.stderr.write(`lifeboat: the renderer is not built (${rendererDir}): run \`npm run build\` first\n`);
    return EXIT_USAGE;
  }
  let server;
  try {
    const { startWebServer } = await import('./web/server');
    server = await startWebServer({ port, rendererDir, thisMachine: values['this-machine'] === true });
  } catch (err) {
    process.stderr.write(`lifeboat: ${ioMessage(err, 'cannot start the web server')}\n`);
    return EXIT_USAGE;
  }
  const s = server;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      void s.close().then(() => resolve(EXIT_OK));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export async function main(argv: string[], boot: CliBoot = {}): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'validate':
        return await runValidate(rest, boot);
      case 'repair':
        return await runRepair(rest);
      case 'salvage':
        return await (await import('./cli-etcd-repair')).salvageCommand(rest, out);
      case 'serve':
        return await runServe(rest);
      case 'copy-out':
        return await (await import('./services/ssh/copy-out-cli')).copyOutCommand(rest);
      case 'detect':
        return await (await import('./services/ssh/detect-cli')).detectCommand(rest);
      case 'logs':
        return await (await import('./cli-logs')).logsCommand(rest, out);
      case 'session':
        return await (await import('./cli-session')).sessionCommand(rest, out);
      case '--help':
      case '-h':
      case 'help':
        out(USAGE);
        return EXIT_OK;
      case '--version':
      case '-v':
        out(appVersion());
        return EXIT_OK;
      case undefined:
        process.stderr.write(`${USAGE}\n`);
        return EXIT_USAGE;
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (err) {
    // parseArgs throws TypeError with code ERR_PARSE_ARGS_* for bad options.
    const code = (err as { code?: unknown }).code;
    if (err instanceof CliUsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`lifeboat: ${(err as Error).message}\n\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`lifeboat: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_USAGE;
  }
}

/** Entry point for bin/lifeboat.cjs: runs and sets the exit code. */
/** The exit status of a Unix tool killed by SIGPIPE (128 + 13): `yes | head` leaves `yes` with it. */
const EXIT_BROKEN_PIPE = 141;

export function run(argv: string[] = process.argv.slice(2), boot: CliBoot = {}): void {
  // `lifeboat validate DIR | head`: the reader closed the pipe. Stop quietly, as Unix tools do, not with an
  // unhandled EPIPE stack trace; the status says so for `set -o pipefail`.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT_BROKEN_PIPE);
    throw err;
  });
  void main(argv, boot).then((code) => {
    process.exitCode = code;
    // A stopped server may leave idle handles behind; nothing else is running.
    if (argv[0] === 'serve') process.exit(code);
  });
}

if (require.main === module) run();
