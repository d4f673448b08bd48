/**
 * Known failure lines of control-plane datastores and what they mean. Texts
 * come from the engines' sources (libraft uv_segment.c/uv.c/uv_metadata.c,
 * etcd, bbolt, kubelet, kube-apiserver, systemd) and from the field reports;
 * each signature carries the real line it was written against (`examples`).
 * Titles, explanations and next steps are i18n keys:
 * `logs.sig.<id>.title|explain|next`, with `{field}` placeholders.
 */
import type { LogEngine, LogSeverity, LogStage } from './types';

/** What Lifeboat itself can do next about a match. */
export type LogAction = 'validate-directory' | 'paste-listing';

export interface Signature {
  id: string;
  engine: LogEngine;
  severity: LogSeverity;
  stage: LogStage;
  /** Literal text one of which must occur before the patterns run (cheap pre-filter for 100 MB inputs). */
  needles: readonly string[];
  /** Tried in order; the first that matches gives the span and the named groups. */
  patterns: readonly RegExp[];
  /** Shown only when no specific signature matched the same record (e.g. a bare `raft_start():`). */
  generic?: boolean;
  /** Shown only when no other signature at all, generic ones included, matched the same record (any fatal line). */
  fallback?: boolean;
  /** Extra fields from the captured ones, or from the whole record text. */
  derive?: (fields: Record<string, string>, text: string) => Record<string, string>;
  /** The stage can depend on what failed (a systemd unit: the datastore's or the kubelet's?). */
  stageOf?: (fields: Record<string, string>) => LogStage;
  action?: LogAction;
  /** The captured field that names the file to look at first. */
  fileField?: string;
  /** Real lines this must recognise: one per pattern at least. Tests hold the catalog to them. */
  examples: readonly string[];
}

const SEGMENT = String.raw`\d{16}-\d{16}`;
// libraft error text stops at the end of the message: a quote (logrus msg="…"), an escaped newline or a real one.
const REST = String.raw`[^"\\\n]*`;
const HOST_PORT = String.raw`[\w.\-\[\]:]+`;
/**
 * A systemd unit name. The lookbehind lets a match start only where a run of
 * name characters starts: unanchored, `[\w@.-]+\.service` retried from every
 * character of a long run and backtracked over the rest each time (quadratic:
 * 4.65 s for one 60 KiB line, issue 11).
 */
const UNIT = String.raw`(?<![\w@.-])(?<unit>[\w@.-]+\.service)`;
/*
 * Every pattern here must stay linear in the record length (a record is up to
 * 64 KiB): a repeated class is bounded (`{0,200}`, kept small where it is
 * retried at every occurrence of a short prefix), starts only at the start of
 * its run (lookbehind), or cannot overlap what follows it.
 * test/logs/linear-signatures.test.ts holds each signature to that.
 */

function segmentProblem(reason: string): string {
  if (reason.includes('count in preamble is zero')) return 'zero-count';
  if (reason.includes('is too high')) return 'count-too-high';
  if (reason.includes('header checksum')) return 'header-checksum';
  if (reason.includes('data checksum')) return 'data-checksum';
  if (reason.includes('short read')) return 'short-read';
  return 'other';
}

function unitStage(fields: Record<string, string>): LogStage {
  const u = (fields.unit ?? '').toLowerCase();
  if (/dqlite|etcd/.test(u)) return 'datastore';
  if (/apiserver|kubelite|k3s|k8s/.test(u)) return 'apiserver';
  return 'node';
}

function unitComponent(fields: Record<string, string>): Record<string, string> {
  const m = /(?:^|[.-])(k8s-dqlite|kubelite|etcd|kubelet|containerd|kube-apiserver|k3s)/.exec(fields.unit ?? '');
  return m ? { component: m[1] } : {};
}

export const SIGNATURES: readonly Signature[] = [
  // ------------------------------------------------------------------ dqlite / libraft
  {
    id: 'dqlite.closed-segment-batch',
    engine: 'dqlite',
    severity: 'critical',
    stage: 'datastore',
    needles: ['load closed segment'],
    patterns: [
      new RegExp(String.raw`load closed segment (?<segment>${SEGMENT}): entries batch (?<batch>\d+) starting at byte (?<offset>\d+): (?<reason>[^"\\\n]+)`),
    ],
    derive: (f) => ({ problem: segmentProblem(f.reason ?? '') }),
    action: 'validate-directory',
    fileField: 'segment',
    examples: [
      String.raw`fatal msg="Failed to start server: start node: raft_start(): io: load closed segment 0000000014232389-0000000014232597: entries batch 394 starting at byte 8384000: entries count in preamble is zero\n"`,
    ],
  },
  {
    id: 'dqlite.closed-segment-count',
    engine: 'dqlite',
    severity: 'critical',
    stage: 'datastore',
    needles: ['load closed segment'],
    patterns: [new RegExp(String.raw`load closed segment (?<segment>${SEGMENT}): found (?<found>\d+) entries \(expected (?<expected>\d+)\)`)],
    action: 'validate-directory',
    fileField: 'segment',
    examples: ['raft_start(): io: load closed segment 0000000000009863-0000000000010675: found 812 entries (expected 813)'],
  },
  {
    id: 'dqlite.closed-segment-file',
    engine: 'dqlite',
    severity: 'critical',
    stage: 'datastore',
    needles: ['load closed segment'],
    patterns: [
      new RegExp(
        String.raw`load closed segment (?<segment>${SEGMENT}): (?<reason>file is empty|file has only \d+ bytes|unexpected format version \d+|read file: ${REST})`,
      ),
    ],
    action: 'validate-directory',
    fileField: 'segment',
    examples: ['raft_start(): io: load closed segment 0000000000000976-0000000000001024: file is empty'],
  },
  {
    id: 'dqlite.open-segment',
    engine: 'dqlite',
    severity: 'critical',
    stage: 'datastore',
    needles: ['load open segment'],
    patterns: [new RegExp(String.raw`load open segment (?<segment>open-\d+): (?<reason>[^"\\\n]+)`)],
    action: 'validate-directory',
    fileField: 'segment',
    examples: ['raft_start(): io: load open segment open-3: entries batch 12 starting at byte 98304: read data: short read: 812 bytes instead of 4096'],
  },
  {
    id: 'dqlite.segment-sequence',
    engine: 'dqlite',
    severity: 'critical',
    stage: 'datastore',
    needles: ['first index should have been'],
    patterns: [new RegExp(String.raw`unexpected closed segment (?<segment>${SEGMENT}): first index should have been (?<expectedIndex>\d+)`)],
    action: 'validate-directory',
    fileField: 'segment',
    examples: ['raft_start(): io: unexpected closed segment 0000000000001025-0000000000001406: first index should have been 976'],
  },
  {
    id: 'dqlite.past-snapshot',
    engine: 'dqlite',
    severity: 'critical',
    stage: 'datastore',
    needles: ['is past last snapshot'],
    patterns: [new RegExp(String.raw`closed segment (?<segment>${SEGMENT}) is past last snapshot (?<snapshot>snapshot-\d+-\d+-\d+)`)],
    action: 'validate-directory',
    fileField: 'segment',
    examples: ['Error: start node: raft_start(): io: closed segment 0000000187010159-0000000187010630 is past last snapshot snapshot-1-187009805-2315062'],
  },
  {
    id: 'dqlite.behind-snapshot',
    engine: 'dqlite',
    severity: 'critical',
    stage: 'datastore',
    needles: ['behind last snapshot'],
    patterns: [/last entry on disk has index (?<lastIndex>\d+), which is behind last snapshot's index (?<snapshotIndex>\d+)/],
    action: 'validate-directory',
    examples: ["raft_start(): io: last entry on disk has index 14232500, which is behind last snapshot's index 14232605"],
  },
  {
    id: 'dqlite.snapshot-lz4',
    engine: 'dqlite',
    severity: 'critical',
    stage: 'datastore',
    needles: ['LZ4F_decompress'],
    patterns: [/LZ4F_decompress (?<lz4Error>ERROR_\w+)/],
    action: 'validate-directory',
    examples: ['Failed to start server: start node: raft_start(): io: LZ4F_decompress ERROR_contentChecksum_invalid'],
  },
  {
    id: 'dqlite.snapshot-meta',
    engine: 'dqlite',
    severity: 'critical',
    stage: 'datastore',
    needles: ['.meta: checksum mismatch'],
    patterns: [/read (?<meta>snapshot-\d+-\d+-\d+\.meta): checksum mismatch/],
    action: 'validate-directory',
    fileField: 'meta',
    examples: ['raft_start(): io: load snapshot: read snapshot-1-14232605-1251807.meta: checksum mismatch'],
  },
  {
    id: 'dqlite.metadata',
    engine: 'dqlite',
    severity: 'critical',
    stage: 'datastore',
    needles: ['metadata1', 'metadata2'],
    patterns: [
      /(?<file>metadata[12]) has size (?<reason>\d+) instead of 32/,
      /decode content of (?<file>metadata[12]): (?<reason>bad format version \d+|version is set to zero)/,
    ],
    action: 'validate-directory',
    fileField: 'file',
    examples: ['failed to create dqlite app: create node: metadata1 has size 40 instead of 32', 'io: decode content of metadata2: version is set to zero'],
  },
  {
    id: 'dqlite.metadata-same-version',
    engine: 'dqlite',
    severity: 'critical',
    stage: 'datastore',
    needles: ['metadata1 and metadata2 are both at version'],
    patterns: [/metadata1 and metadata2 are both at version (?<version>\d+)/],
    action: 'validate-directory',
    examples: ['create node: metadata1 and metadata2 are both at version 7'],
  },
  {
    id: 'dqlite.raft-bootstrap',
    engine: 'dqlite',
    severity: 'error',
    stage: 'datastore',
    needles: ['raft_bootstrap()'],
    patterns: [new RegExp(String.raw`raft_bootstrap\(\): ?(?<detail>${REST})`)],
    action: 'validate-directory',
    examples: ['Failed to start server: start node: raft_bootstrap(): bootstrap only works on new clusters'],
  },
  {
    id: 'dqlite.raft-start',
    engine: 'dqlite',
    severity: 'critical',
    stage: 'datastore',
    needles: ['raft_start()'],
    patterns: [new RegExp(String.raw`raft_start\(\):(?: io:)? ?(?<detail>${REST})`)],
    generic: true,
    action: 'validate-directory',
    examples: ['Error: start node: raft_start():'],
  },
  {
    id: 'dqlite.start-node-failed',
    engine: 'dqlite',
    severity: 'critical',
    stage: 'datastore',
    needles: ['Failed to start server'],
    patterns: [new RegExp(String.raw`Failed to start server: (?<detail>${REST})`)],
    generic: true,
    action: 'validate-directory',
    examples: ['time="2024-02-03T08:18:08Z" level=fatal msg="Failed to start server: start node: failed to open database"'],
  },

  // ------------------------------------------------------------------ etcd / bbolt
  {
    id: 'etcd.bbolt-freepages',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['freepages: failed to get all reachable pages'],
    patterns: [/freepages: failed to get all reachable pages \(page (?<page>\d+): (?<problem>[^)\n]{1,200})\)/, /freepages: failed to get all reachable pages/],
    action: 'validate-directory',
    examples: ['panic: freepages: failed to get all reachable pages (page 0: invalid type: meta)', 'panic: freepages: failed to get all reachable pages'],
  },
  {
    // bbolt.Open refused member/snap/db: neither meta page is valid. 3.4's capnslog logs the line, then panics with
    // it again ("panic: cannot open database …", left to the Go panic signature so that a crash counts once); zap
    // logs the path and the error as fields.
    id: 'etcd.bbolt-open-failed',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['cannot open database at', '"msg":"failed to open database"'],
    // A db etcd may not open (permission denied: a restore run as root) is not a damaged one: etcd.data-dir-access.
    patterns: [
      /(?<!panic: )cannot open database at (?<path>[^\s()]{1,500}) \((?![^)\n]{0,200}permission denied)(?<error>[^)\n]{1,200})\)/,
      /"msg":"failed to open database","path":"(?<path>[^"\n]{1,500})","error":"(?![^"\n]{0,200}permission denied)(?<error>[^"\n]{1,200})"/,
    ],
    action: 'validate-directory',
    examples: [
      '2026-12-06 13:28:35.713267 C | mvcc/backend: cannot open database at /var/lib/etcd/member/snap/db (checksum error)',
      '{"level":"panic","ts":"2026-12-06T13:28:35.562Z","caller":"backend/backend.go:162","msg":"failed to open database","path":"/var/lib/etcd/member/snap/db","error":"invalid database"}',
    ],
  },
  {
    // etcd may not open its own files: the data dir, or what is in it, belongs to another user than the one etcd runs
    // as (an `etcdctl snapshot restore` or a copy run with sudo, for a unit with User=etcd), or SELinux refuses it.
    // The data is not damaged. Each pattern starts at a fatal line (capnslog `C |`, zap fatal or panic), never at
    // Go's repeat of it after `panic: `, so that one crash counts once.
    id: 'etcd.data-dir-access',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['permission denied'],
    patterns: [
      / C \| [\w/]{1,40}: (?:[\w ]{1,60}: )?(?:openfdat|open|mkdir) (?<path>\/[^\s:"()]{1,500}): permission denied/,
      / C \| [\w/]{1,40}: cannot open database at [^\s()]{1,500} \(open (?<path>\/[^\s:"()]{1,500}): permission denied\)/,
      /"level":"(?:fatal|panic)"[^\n]{0,1000}?"error":"(?:[\w ]{1,60}: )?(?:openfdat|open|mkdir) (?<path>\/[^\s:"()]{1,500}): permission denied"/,
    ],
    examples: [
      '2026-12-06 16:29:12.115483 C | etcdserver: create wal error: openfdat /var/lib/etcd/member/wal: permission denied',
      '2026-12-06 16:29:12.187351 C | mvcc/backend: cannot open database at /var/lib/etcd/member/snap/db (open /var/lib/etcd/member/snap/db: permission denied)',
      '{"level":"fatal","ts":"2026-12-06T16:29:44.985Z","caller":"etcdmain/etcd.go:562","msg":"failed to list data directory","dir":"/var/lib/etcd","error":"open /var/lib/etcd: permission denied"}',
    ],
  },
  {
    // etcd 3.4's default logger when it cannot read its data dir at all: it does not print why. A missing dir is
    // not this (etcd creates it); the user etcd runs as not being allowed in is (a restore run as root makes a
    // root-only dir), or the path is a file. zap says which, and is told by etcd.data-dir-access or etcd.fatal.
    id: 'etcd.data-dir-unlisted',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['error listing data dir'],
    patterns: [/ C \| etcdmain: error listing data dir: (?<path>\S{1,500})/],
    examples: ['2026-12-06 16:28:53.078576 C | etcdmain: error listing data dir: /var/lib/etcd'],
  },
  {
    // A warning etcd prints at every start on a data dir others may read (a copy or restore that kept mode 755),
    // and then runs: not why it fails. etcd 3.4 prints it in capnslog's format even with --logger=zap; 3.5's zap
    // quotes the same sentence in its "error" field.
    id: 'etcd.data-dir-permissive',
    engine: 'etcd',
    severity: 'info',
    stage: 'datastore',
    needles: ['exist, but the permission is'],
    patterns: [/directory \\?"(?<path>[^"\\]{1,500})\\?" exist, but the permission is \\?"(?<mode>[-a-zA-Z]{10})\\?"/],
    examples: [
      '2026-12-06 19:47:57.575282 W | pkg/fileutil: check file permission: directory "/var/lib/etcd" exist, but the permission is "drwxr-xr-x". The recommended permission is "-rwx------" to prevent possible unprivileged access to the data.',
      '{"level":"warn","ts":"2024-03-13T04:35:41.935Z","caller":"fileutil/fileutil.go:53","msg":"check file permission","error":"directory \\"/var/lib/etcd\\" exist, but the permission is \\"drwxr-xr-x\\". The recommended permission is \\"-rwx------\\" to prevent possible unprivileged access to the data"}',
    ],
  },
  {
    id: 'etcd.bbolt-page-mismatch',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['but self identifies as'],
    patterns: [/Page expected to be: (?<expected>\d+), but self identifies as (?<actual>\d+)/],
    action: 'validate-directory',
    examples: ['panic: assertion failed: Page expected to be: 36312, but self identifies as 0'],
  },
  {
    id: 'etcd.tocommit-out-of-range',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['is out of range [lastIndex('],
    patterns: [/tocommit\((?<tocommit>\d+)\) is out of range \[lastIndex\((?<lastIndex>\d+)\)\]/],
    examples: ['panic: tocommit(37) is out of range [lastIndex(0)]. Was the raft log corrupted, truncated, or lost?'],
  },
  {
    id: 'etcd.already-bootstrapped',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['has already been bootstrapped'],
    patterns: [/member (?<memberId>[0-9a-f]+) has already been bootstrapped/],
    examples: ['etcdmain: member 8e9e05c52164694d has already been bootstrapped'],
  },
  {
    // etcd checks --name and --initial-advertise-peer-urls against --initial-cluster only while bootstrapping: with
    // no member in its data dir (or in `etcdctl snapshot restore`, which bootstraps one). On a member that ran
    // before, that means etcd does not see its data. Capnslog, zap (quotes escaped) and etcdctl print the same text.
    id: 'etcd.bootstrap-flags',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ["couldn't find local name", 'but missing from --initial-advertise-peer-urls'],
    // zap says it twice, as a warning ("failed to start etcd") and then as the fatal line: the fatal one counts.
    patterns: [
      /(?<!"level":"warn"[^\n]{0,300})couldn't find local name \\?"(?<name>[^"\\\s]{1,200})\\?" in the initial cluster configuration/,
      /(?<!"level":"warn"[^\n]{0,300})--initial-cluster has (?<member>[^\s=]{1,200})=(?<clusterUrl>[^\s,]{1,300}) but missing from --initial-advertise-peer-urls=(?<advertised>[^\s(]{1,300})/,
    ],
    derive: (f) => ({ name: f.name ?? f.member ?? '' }),
    examples: [
      '2026-12-06 16:41:34.543648 C | etcdmain: couldn\'t find local name "n2" in the initial cluster configuration',
      '2026-12-06 16:41:34.581444 C | etcdmain: --initial-cluster has n1=http://10.0.0.8:2380 but missing from --initial-advertise-peer-urls=http://10.0.0.9:2380 (resolved urls: "http://10.0.0.9:2380" != "http://10.0.0.8:2380")',
    ],
  },
  {
    // A member with nothing in its data dir and --initial-cluster-state=existing (kubeadm joins every control-plane
    // member so) asks the peers in --initial-cluster who the cluster is, and none answers. zap also says it as a
    // warning first; the fatal line counts.
    id: 'etcd.join-no-peers',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['cannot fetch cluster info from peer urls'],
    patterns: [/(?<!"level":"warn"[^\n]{0,300})cannot fetch cluster info from peer urls: (?<error>[^"\n]{1,200})/],
    examples: ['2026-12-06 16:52:39.994968 C | etcdmain: cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs'],
  },
  {
    // A WAL record whose bytes do not decode (walpb.Record): etcd 3.4 logs only the protobuf error, from etcdmain.
    id: 'etcd.wal-undecodable',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['proto: Record: '],
    patterns: [/proto: Record: (?<detail>[^\n]{1,200})/],
    action: 'validate-directory',
    examples: ['2026-12-06 13:59:34.871787 C | etcdmain: proto: Record: illegal tag 0 (wire type 0)'],
  },
  {
    // Any other line etcd dies with: capnslog's critical level (plog.Fatalf, no panic line follows) or zap's fatal.
    // A fallback: any signature that says more about the same line wins, generic ones too (`wal-unrepairable`).
    id: 'etcd.fatal',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: [' C | ', '"level":"fatal"'],
    patterns: [
      / C \| (?<pkg>[\w./-]{1,80}): (?<message>[^\n]{1,300})/,
      /"level":"fatal",[^\n]{0,400}?"msg":"(?<message>[^"\n]{1,300})"(?:[^\n]{0,600}?"error":"(?<error>[^"\n]{1,300})")?/,
    ],
    derive: (f): Record<string, string> => (f.error ? { message: `${f.message}: ${f.error}` } : {}),
    fallback: true,
    action: 'validate-directory',
    examples: [
      '2026-12-06 13:59:53.723416 C | etcdmain: error listing data dir: /var/lib/etcd',
      '{"level":"fatal","ts":"2026-12-06T13:59:53.749Z","caller":"etcdmain/etcd.go:562","msg":"failed to list data directory","dir":"/var/lib/etcd","error":"open /var/lib/etcd: permission denied"}',
    ],
  },
  {
    id: 'etcd.wal-crc',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['crc mismatch'],
    patterns: [/(?<what>walpb: crc mismatch|wal: crc mismatch)/],
    action: 'validate-directory',
    examples: ['C | etcdmain: walpb: crc mismatch'],
  },
  {
    id: 'etcd.wal-unrepairable',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['cannot be repaired'],
    patterns: [
      /read wal error \((?<detail>[^)\n]{0,200})\) and cannot be repaired/,
      /WAL error \((?<detail>[^)\n]{0,200})\) cannot be repaired/,
      /failed to read WAL, cannot be repaired/,
    ],
    generic: true,
    action: 'validate-directory',
    examples: [
      'etcdserver: read wal error (walpb: crc mismatch) and cannot be repaired',
      'WAL error (unexpected EOF) cannot be repaired',
      '{"level":"fatal","msg":"failed to read WAL, cannot be repaired","error":"walpb: crc mismatch"}',
    ],
  },
  {
    id: 'etcd.wal-repaired',
    engine: 'etcd',
    severity: 'warning',
    stage: 'datastore',
    needles: ['repaired WAL error', 'repairing'],
    patterns: [/repaired WAL error(?: \((?<detail>[^)\n]{0,200})\))?/, /wal: repairing (?<file>\S+\.wal)/],
    examples: ['W | wal: repaired WAL error (unexpected EOF)', 'W | wal: repairing member/wal/0000000000000000-0000000000000000.wal'],
  },
  {
    id: 'etcd.snap-error',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['snap: '],
    patterns: [/snap: (?<what>crc mismatch|empty snapshot|snapshot file doesn't exist)/],
    action: 'validate-directory',
    examples: ["failed to recover v3 backend from snapshot: snap: snapshot file doesn't exist", 'snap: crc mismatch'],
  },
  {
    id: 'etcd.wal-snapshot',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['wal: '],
    patterns: [
      /wal: (?<what>file not found which matches the snapshot index|snapshot not found|snapshot mismatch|file sequence numbers \(starting from \d+\) do not increase continuously)/,
    ],
    action: 'validate-directory',
    examples: ["wal: file not found which matches the snapshot index '4000'", 'wal: file sequence numbers (starting from 3) do not increase continuously'],
  },
  {
    id: 'etcd.db-snapshot-mismatch',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['does not match with snapshot'],
    patterns: [/database file \((?<db>[^\s)]+) index (?<dbIndex>\d+)\) does not match with snapshot \(index (?<snapIndex>\d+)\)/],
    action: 'validate-directory',
    examples: ['etcdserver: database file (/var/lib/etcd/member/snap/db index 3950) does not match with snapshot (index 4001)'],
  },
  {
    id: 'etcd.corrupt-cluster',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['etcdserver: corrupt cluster'],
    patterns: [/etcdserver: corrupt cluster/],
    examples: ['{"level":"error","msg":"failed to check hash KV","error":"etcdserver: corrupt cluster"}'],
  },
  {
    id: 'etcd.no-space',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['database space exceeded', 'NOSPACE'],
    // The client sees "mvcc: database space exceeded"; etcdctl alarm list prints "alarm:NOSPACE"; the member's own
    // log (3.4) says "alarm NOSPACE raised by peer ID" (capnslog) or "alarm raised" with "alarm":"NOSPACE" (zap).
    patterns: [/mvcc: database space exceeded/, /alarm:NOSPACE/, /alarm NOSPACE raised by peer/, /"msg":"alarm raised","alarm":"NOSPACE"/],
    examples: [
      'Error: etcdserver: mvcc: database space exceeded',
      'memberID:8e9e05c52164694d alarm:NOSPACE',
      '2026-12-02 12:49:01.422405 W | etcdserver: alarm NOSPACE raised by peer d8f32b59eedce015',
      '{"level":"warn","ts":"2026-12-02T12:49:01.422Z","caller":"etcdserver/apply.go:636","msg":"alarm raised","alarm":"NOSPACE","from":"d8f32b59eedce015"}',
    ],
  },
  {
    id: 'etcd.publish-failed',
    engine: 'etcd',
    severity: 'error',
    stage: 'datastore',
    needles: ['failed to publish local member to cluster through raft'],
    patterns: [/failed to publish local member to cluster through raft/],
    derive: (_f, text): Record<string, string> => {
      const m = /"local-member-id":"([0-9a-f]+)"/.exec(text);
      return m ? { memberId: m[1] } : {};
    },
    examples: [
      '{"level":"warn","ts":"2021-02-03T10:11:12.000Z","caller":"etcdserver/server.go:2065","msg":"failed to publish local member to cluster through raft","local-member-id":"f6c8d9a2b1e0c3d4","local-member-attributes":"{Name:kind-control-plane2 ClientURLs:[https://172.18.0.4:2379]}","request-path":"/0/members/f6c8d9a2b1e0c3d4/attributes","publish-timeout":"7s","error":"etcdserver: request timed out"}',
    ],
  },
  {
    id: 'etcd.no-leader',
    engine: 'etcd',
    severity: 'error',
    stage: 'datastore',
    needles: ['NO LEADER', 'no leader'],
    patterns: [/RAFT NO LEADER/, /etcdserver: no leader/],
    examples: ['{"level":"warn","msg":"serving /health false; no leader"} {"health":"false","reason":"RAFT NO LEADER"}', 'Error: etcdserver: no leader'],
  },
  {
    id: 'etcd.pre-vote',
    engine: 'etcd',
    severity: 'warning',
    stage: 'datastore',
    needles: ['MsgPreVote'],
    patterns: [
      /(?<![0-9a-f])(?<memberId>[0-9a-f]{1,16}) \[logterm: (?<logTerm>\d+), index: (?<index>\d+)\] sent MsgPreVote request to (?<peerId>[0-9a-f]{1,16}) at term (?<term>\d+)/,
    ],
    examples: [
      '{"level":"info","ts":"2021-02-03T10:11:13.000Z","logger":"raft","caller":"etcdserver/zap_raft.go:77","msg":"f6c8d9a2b1e0c3d4 [logterm: 2, index: 1234] sent MsgPreVote request to 8e9e05c52164694d at term 2"}',
    ],
  },
  {
    id: 'etcd.peer-unreachable',
    engine: 'etcd',
    severity: 'warning',
    stage: 'datastore',
    needles: [':2380'],
    patterns: [new RegExp(String.raw`dial tcp (?<peer>${HOST_PORT}:2380): (?:connect: )?(?<error>connection refused|no route to host|i/o timeout)`)],
    derive: (_f, text): Record<string, string> => {
      const m = /remote-peer-id"?[:=]\s*"?([0-9a-f]{1,16})/.exec(text) ?? /peer ([0-9a-f]{16}) could not connect/.exec(text);
      return m ? { peerId: m[1] } : {};
    },
    examples: [
      '{"level":"warn","ts":"2021-02-03T10:11:14.000Z","caller":"rafthttp/probing_status.go:68","msg":"prober detected unhealthy status","round-tripper-name":"ROUND_TRIPPER_RAFT_MESSAGE","remote-peer-id":"8e9e05c52164694d","rtt":"0s","error":"dial tcp 172.18.0.3:2380: connect: connection refused"}',
    ],
  },
  {
    // Members of two clusters at each other's addresses: one was restored or bootstrapped with a cluster ID of its own.
    id: 'etcd.cluster-id-mismatch',
    engine: 'etcd',
    severity: 'error',
    stage: 'datastore',
    needles: ['cluster ID mismatch'],
    patterns: [
      /request cluster ID mismatch \(got (?<remoteCluster>[0-9a-f]{1,16}) want (?<localCluster>[0-9a-f]{1,16})\)/,
      /cluster ID mismatch: (?:remote|peer)\[(?<peerId>[0-9a-f]{1,16})\]=(?<remoteCluster>[0-9a-f]{1,16}), local=(?<localCluster>[0-9a-f]{1,16})/,
      /"remote-peer-id":"(?<peerId>[0-9a-f]{1,16})","remote-peer-cluster-id":"(?<remoteCluster>[0-9a-f]{1,16})","local-member-id":"[0-9a-f]{1,16}","local-member-cluster-id":"(?<localCluster>[0-9a-f]{1,16})"/,
      /"msg":"request cluster ID mismatch","local-member-id":"[0-9a-f]{1,16}","local-member-cluster-id":"(?<localCluster>[0-9a-f]{1,16})"[^\n]{0,600}?"remote-peer-cluster-id":"(?<remoteCluster>[0-9a-f]{1,16})"/,
    ],
    examples: [
      '2026-12-06 14:04:27.419160 E | rafthttp: request cluster ID mismatch (got bb45a656b4c56604 want f690194d5ff9f60c)',
      '2026-12-06 14:04:27.419526 E | rafthttp: request sent was ignored (cluster ID mismatch: peer[b01ccc619e920b40]=f690194d5ff9f60c, local=bb45a656b4c56604)',
      '{"level":"warn","ts":"2026-12-06T14:05:15.413Z","caller":"rafthttp/stream.go:682","msg":"request sent was ignored by remote peer due to cluster ID mismatch","remote-peer-id":"d8c5ac10dfb66fb2","remote-peer-cluster-id":"f690194d5ff9f60c","local-member-id":"72abbd1aab0ef8d8","local-member-cluster-id":"bb45a656b4c56604","error":"cluster ID mismatch"}',
      '{"level":"warn","ts":"2026-12-06T14:08:21.222Z","caller":"rafthttp/http.go:547","msg":"request cluster ID mismatch","local-member-id":"5fed63d71c2bdb1e","local-member-cluster-id":"f690194d5ff9f60c","local-member-server-version":"3.4.23","local-member-server-minimum-cluster-version":"3.0.0","remote-peer-server-name":"72abbd1aab0ef8d8","remote-peer-server-version":"3.4.23","remote-peer-server-minimum-cluster-version":"3.0.0","remote-peer-cluster-id":"bb45a656b4c56604"}',
    ],
  },
  {
    // A member whose ID was removed (etcdctl member remove) started with its old data: it stops, its peers refuse it.
    id: 'etcd.member-removed',
    engine: 'etcd',
    severity: 'critical',
    stage: 'datastore',
    needles: ['permanently removed from the cluster', 'since it was removed'],
    patterns: [/the member has been permanently removed from the cluster/, /rejected the stream from peer (?<memberId>[0-9a-f]{1,16}) since it was removed/],
    examples: [
      '2026-12-06 14:05:06.093889 E | etcdserver: the member has been permanently removed from the cluster',
      '{"level":"warn","ts":"2026-12-06T14:05:10.450Z","caller":"etcdserver/server.go:1078","msg":"server error","error":"the member has been permanently removed from the cluster"}',
      '2026-12-06 14:05:06.094253 W | rafthttp: rejected the stream from peer ba633adb93879590 since it was removed',
    ],
  },
  {
    id: 'etcd.data-dir-exists',
    engine: 'etcd',
    severity: 'error',
    stage: 'client',
    needles: ['data-dir'],
    patterns: [/data-dir "(?<dataDir>[^"\n]+)" (?:exists|not empty or could not be read)/],
    examples: ['Error: data-dir "/var/lib/etcd" exists'],
  },
  {
    id: 'etcd.restore-hash',
    engine: 'etcd',
    severity: 'error',
    stage: 'client',
    needles: ['skip-hash-check', 'expected sha256'],
    patterns: [/snapshot missing hash but --skip-hash-check=false/, /expected sha256 (?<expected>\[[\d ]*\]|[^\s,]+), got (?<actual>\[[\d ]*\]|\S+)/],
    examples: ['Error: snapshot missing hash but --skip-hash-check=false', 'Error: expected sha256 [1 2 3], got [4 5 6]'],
  },
  {
    id: 'etcd.slow-disk',
    engine: 'etcd',
    severity: 'warning',
    stage: 'datastore',
    needles: ['slow fdatasync', 'sync duration of', 'took too long'],
    patterns: [
      /slow fdatasync/,
      /wal: sync duration of (?<duration>\S+), expected less than/,
      /leader failed to send out heartbeat on time/,
      /apply request took too long/,
    ],
    examples: [
      '{"level":"warn","msg":"slow fdatasync","took":"1.5s","expected-duration":"1s"}',
      'W | wal: sync duration of 2.1s, expected less than 1s',
      'W | etcdserver: failed to send out heartbeat on time (exceeded the 100ms timeout for 1.2s); leader failed to send out heartbeat on time; took too long, leader is overloaded likely from slow disk',
      '{"level":"warn","msg":"apply request took too long","took":"1.2s"}',
    ],
  },
  {
    id: 'etcd.server-starting',
    engine: 'etcd',
    severity: 'info',
    stage: 'datastore',
    // zap (3.5, and 3.4 with --logger=zap) logs one JSON line with version and data dir; 3.4's default capnslog
    // logs the data dir on a line of its own, once per start ("embed: data dir = /var/lib/etcd").
    needles: ['starting an etcd server', 'embed: data dir = '],
    patterns: [/starting an etcd server/, /\bembed: data dir = (?<dataDir>\S+)/],
    derive: (_f, text) => {
      const out: Record<string, string> = {};
      const v = /"etcd-version":"([^"]+)"/.exec(text);
      if (v) out.version = v[1];
      const d = /"data-dir":"([^"]+)"/.exec(text);
      if (d) out.dataDir = d[1];
      return out;
    },
    examples: [
      '{"level":"info","ts":"2024-03-13T04:35:41.934Z","caller":"embed/etcd.go:306","msg":"starting an etcd server","etcd-version":"3.5.7","data-dir":"/var/lib/etcd"}',
      '2026-12-06 13:22:01.949197 I | embed: data dir = /var/lib/etcd',
    ],
  },

  // ------------------------------------------------------------------ kubernetes
  {
    id: 'kubernetes.etcd-unreachable',
    engine: 'kubernetes',
    severity: 'error',
    stage: 'apiserver',
    needles: [':2379'],
    patterns: [new RegExp(String.raw`dial tcp (?<endpoint>${HOST_PORT}:2379): (?:connect: )?(?<error>connection refused|no route to host|i/o timeout)`)],
    examples: [
      'W0313 04:37:50.064278       1 logging.go:59] [core] [Channel #4 SubChannel #6] grpc: addrConn.createTransport failed to connect to {"Addr": "127.0.0.1:2379"}. Err: connection error: desc = "transport: Error while dialing dial tcp 127.0.0.1:2379: connect: connection refused"',
    ],
  },
  {
    id: 'kubernetes.kine-unreachable',
    engine: 'kubernetes',
    severity: 'error',
    stage: 'apiserver',
    needles: ['kine.sock'],
    patterns: [/dial unix (?<socket>[^\s"]*?kine\.sock(?::\d+)?): connect: (?<error>no such file or directory|connection refused)/],
    examples: ['Error while dialing dial unix /var/snap/microk8s/current/var/kubernetes/backend/kine.sock:12379: connect: connection refused'],
  },
  {
    id: 'kubernetes.apiserver-gave-up',
    engine: 'kubernetes',
    severity: 'error',
    stage: 'apiserver',
    needles: ['command failed'],
    patterns: [/"command failed" err="(?<error>context deadline exceeded)"/],
    examples: ['E0313 04:37:54.265467       1 run.go:74] "command failed" err="context deadline exceeded"'],
  },
  {
    id: 'kubernetes.context-deadline',
    engine: 'kubernetes',
    severity: 'warning',
    stage: 'apiserver',
    needles: ['context deadline exceeded'],
    patterns: [/context deadline exceeded/],
    generic: true,
    examples: ['Error: context deadline exceeded'],
  },
  {
    id: 'kubernetes.crashloop',
    engine: 'kubernetes',
    severity: 'error',
    stage: 'node',
    needles: ['CrashLoopBackOff'],
    patterns: [
      /CrashLoopBackOff: \\?"back-off (?<backoff>[0-9hms.]+) restarting failed container=(?<container>[\w.-]+) pod=(?<pod>[A-Za-z0-9.-]+)_(?<namespace>[A-Za-z0-9.-]+)\(/,
      /^(?<pod>[a-z0-9][\w.-]*)\s+\d+\/\d+\s+CrashLoopBackOff/m,
    ],
    derive: (f): Record<string, string> => {
      const name = f.container ?? f.pod ?? '';
      const m = /^(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|coredns|kube-proxy)/.exec(name);
      return m ? { component: m[1] } : {};
    },
    examples: [
      String.raw`Mar 13 12:33:33 k8s-master kubelet[3317]: E0313 12:33:33.821994    3317 pod_workers.go:1281] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"etcd\" with CrashLoopBackOff: \"back-off 2m40s restarting failed container=etcd pod=etcd-k8s-master_kube-system(2ff9ff04501d676e64442628983b4835)\"" pod="kube-system/etcd-k8s-master"`,
      'etcd-k8s-master                      0/1     CrashLoopBackOff   12 (2m ago)   3d',
    ],
  },
  {
    id: 'kubernetes.apiserver-refused',
    engine: 'kubernetes',
    severity: 'warning',
    stage: 'node',
    needles: ['6443', 'was refused'],
    patterns: [
      new RegExp(String.raw`dial tcp (?<endpoint>${HOST_PORT}:1?6443): connect: connection refused`),
      /The connection to the server (?<endpoint>\S+) was refused/,
    ],
    examples: [
      'Mar 13 12:33:34 k8s-master kubelet[3317]: E0313 12:33:34.710782    3317 kubelet_node_status.go:92] "Unable to register node with API server" err="Post \\"https://192.168.31.2:6443/api/v1/nodes\\": dial tcp 192.168.31.2:6443: connect: connection refused" node="k8s-master"',
      'The connection to the server 192.168.31.2:6443 was refused - did you specify the right host or port?',
    ],
  },
  {
    id: 'kubernetes.node-not-found',
    engine: 'kubernetes',
    severity: 'info',
    stage: 'node',
    needles: ['not found'],
    patterns: [/node \\?"(?<node>[\w.-]+)\\?" not found/],
    examples: [String.raw`"Eviction manager: failed to get summary stats" err="failed to get node info: node \"k8s-master\" not found"`],
  },
  {
    id: 'kubernetes.cert-expired',
    engine: 'kubernetes',
    severity: 'critical',
    stage: 'host',
    needles: ['x509: certificate has expired'],
    patterns: [/x509: certificate has expired or is not yet valid/],
    examples: [
      'Unable to connect to the server: x509: certificate has expired or is not yet valid: current time 2024-03-13T04:35:41Z is after 2024-03-01T00:00:00Z',
    ],
  },

  // ------------------------------------------------------------------ runtime / host
  {
    id: 'runtime.go-panic',
    engine: 'runtime',
    severity: 'critical',
    stage: 'datastore',
    needles: ['panic: ', 'fatal error: '],
    patterns: [/(?:^|: )(?:panic|fatal error): (?<message>[^\n]{1,300})/m],
    generic: true,
    examples: ['panic: runtime error: invalid memory address or nil pointer dereference'],
  },
  {
    // Two of the same service (etcd as a systemd unit and as a static pod; an old one still running): the second cannot listen.
    id: 'runtime.port-in-use',
    engine: 'runtime',
    severity: 'critical',
    stage: 'datastore',
    needles: ['address already in use'],
    patterns: [/listen tcp (?<address>[^\s]{1,300}:(?<port>\d{1,5})): bind: address already in use/],
    examples: [
      '2026-12-06 14:04:54.848240 C | etcdmain: listen tcp 127.0.0.9:24802: bind: address already in use',
      '{"level":"fatal","ts":"2026-12-06T14:05:10.469Z","caller":"etcdmain/etcd.go:271","msg":"discovery failed","error":"listen tcp 127.0.0.9:24801: bind: address already in use"}',
    ],
  },
  {
    // A read of a memory-mapped file past what the file holds: bbolt maps etcd's whole db, so a db shorter than its
    // pages say (a truncated copy, a disk that filled) ends here, as do element offsets that point past the file.
    id: 'runtime.sigbus',
    engine: 'runtime',
    severity: 'critical',
    stage: 'datastore',
    needles: ['signal SIGBUS'],
    patterns: [/\[signal SIGBUS: bus error code=(?<code>0x[0-9a-f]{1,16}) addr=(?<address>0x[0-9a-f]{1,16})/],
    action: 'validate-directory',
    examples: ['[signal SIGBUS: bus error code=0x2 addr=0x7fa66400a000 pc=0x8fc635]'],
  },
  {
    id: 'runtime.segfault',
    engine: 'runtime',
    severity: 'critical',
    stage: 'datastore',
    needles: ['SEGV', 'segmentation fault', 'status=139'],
    patterns: [/status=11\/SEGV|signal SIGSEGV|[Ss]egmentation fault|status=139/],
    examples: ['snap.microk8s.daemon-k8s-dqlite.service: Main process exited, code=dumped, status=11/SEGV'],
  },
  {
    id: 'runtime.unit-failed',
    engine: 'runtime',
    severity: 'error',
    stage: 'node',
    needles: ['Main process exited'],
    patterns: [new RegExp(String.raw`${UNIT}: Main process exited, code=(?<code>\w+), status=(?<status>[^\s,]+)`)],
    stageOf: unitStage,
    derive: (f) => unitComponent(f),
    examples: ['Feb 03 08:18:08 GIFOCTMSG02 systemd[1]: snap.microk8s.daemon-k8s-dqlite.service: Main process exited, code=exited, status=1/FAILURE'],
  },
  {
    id: 'runtime.restart-loop',
    engine: 'runtime',
    severity: 'error',
    stage: 'node',
    needles: ['restart counter is at', 'Start request repeated too quickly'],
    patterns: [
      new RegExp(String.raw`${UNIT}: Scheduled restart job, restart counter is at (?<restarts>\d+)`),
      new RegExp(String.raw`${UNIT}: Start request repeated too quickly`),
    ],
    stageOf: unitStage,
    derive: (f) => unitComponent(f),
    examples: [
      'systemd[1]: snap.microk8s.daemon-kubelite.service: Scheduled restart job, restart counter is at 27.',
      'systemd[1]: etcd.service: Start request repeated too quickly.',
    ],
  },
  {
    id: 'runtime.disk-full',
    engine: 'runtime',
    severity: 'critical',
    stage: 'host',
    needles: ['no space left on device'],
    patterns: [/no space left on device/],
    examples: ['write /var/lib/etcd/member/wal/0.tmp: no space left on device'],
  },
  {
    id: 'runtime.read-only-fs',
    engine: 'runtime',
    severity: 'critical',
    stage: 'host',
    needles: ['read-only file system'],
    patterns: [/read-only file system/],
    examples: ['open /var/snap/microk8s/current/var/kubernetes/backend/open-28056: read-only file system'],
  },
  {
    id: 'runtime.io-error',
    engine: 'runtime',
    severity: 'critical',
    stage: 'host',
    needles: ['I/O error', 'EXT4-fs error', 'XFS'],
    patterns: [
      /I\/O error, dev (?<device>\w+), sector (?<sector>\d+)/,
      /EXT4-fs error \(device (?<device>[\w-]+)\)/,
      /XFS \((?<device>[\w-]+)\): [^\n]{0,80}?(?:I\/O error|Corruption)/,
    ],
    examples: [
      'kernel: blk_update_request: I/O error, dev sda, sector 123456 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 0',
      'kernel: EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm etcd: reading directory lblock 0',
      'kernel: XFS (dm-0): metadata I/O error in "xfs_trans_read_buf_map" at daddr 0x2 len 1 error 5',
    ],
  },
  {
    id: 'runtime.oom',
    engine: 'runtime',
    severity: 'error',
    stage: 'host',
    needles: ['Out of memory'],
    patterns: [/Out of memory: Killed process (?<pid>\d+) \((?<process>[^)\n]{1,200})\)/],
    examples: ['kernel: Out of memory: Killed process 3317 (etcd) total-vm:10485760kB, anon-rss:8388608kB'],
  },
];

export const SIGNATURE_BY_ID: ReadonlyMap<string, Signature> = new Map(SIGNATURES.map((s) => [s.id, s]));

/** i18n key of a signature's title, explanation or next step. */
export function signatureKey(id: string, part: 'title' | 'explain' | 'next'): string {
  return `logs.sig.${id}.${part}`;
}
