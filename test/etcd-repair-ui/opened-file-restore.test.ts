/**
 * A snapshot.db validated in the browser gets the restore plan only when
 * `etcdctl snapshot restore` would take it as it is (trailer matches, bbolt
 * opens, every revision decodes); a broken trailer, a broken db, an
 * undecodable revision or a lone db without trailer get no plan, only the
 * reason (the way to a plan is a salvage, as on the back end). A data dir
 * is not this panel's business. (The real file, dropped in Chromium, is in
 * test/e2e/etcd-ui.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { EtcdDetails, EtcdMember } from '../../shared/contract/etcd';
import { openedFileRestore } from '../../renderer/src/features/etcd-repair/opened-file-restore';
import { translate } from '../../shared/i18n/index';

const CP2: EtcdMember = { id: '8e9e05c52164694d', name: 'cp-2', peerURLs: ['http://127.0.0.1:2380'], clientURLs: ['http://127.0.0.1:2379'] };
const GOOD_SHA = { present: true, ok: true, stored: 'ab', computed: 'ab' };

interface Shape {
  input?: EtcdDetails['layout']['input'];
  dbFile?: string;
  fatalError?: string | null;
  sha256?: { present: boolean; ok: boolean | null; stored: string | null; computed: string | null };
  mvccRestoreError?: string | null;
  bbolt?: boolean;
}

/** The parts of an etcd report the decision and the plan read. */
function details(s: Shape = {}): EtcdDetails {
  const etcd = {
    layout: { input: s.input ?? 'snapshot-db', walDir: '', snapDir: '', dbFile: s.dbFile ?? 'snapshot.db', leftovers: [] },
    wal: null,
    snaps: [],
    bbolt: s.bbolt === false ? null : { openError: null, freepagesPanic: null, mvccRestoreError: s.mvccRestoreError ?? null, sha256: s.sha256 ?? GOOD_SHA },
    schema: { members: [CP2], liveKeys: 119 },
    startup: { fatalError: s.fatalError ?? null },
  };
  return etcd as unknown as EtcdDetails;
}

describe('openedFileRestore', () => {
  it('a healthy snapshot.db: the plan restores the file copied to /var/tmp on the node, as the member its members bucket names', () => {
    const r = openedFileRestore(details());
    if (r.kind !== 'plan') throw new Error(`expected a plan, got ${r.kind}`);
    expect(r.plan.snapshot).toBe('/var/tmp/snapshot.db');
    const restore = r.plan.steps.find((s) => s.kind === 'restore')!;
    expect(restore.command).toBe(
      "ETCDCTL_API=3 etcdctl snapshot restore /var/tmp/snapshot.db \\\n  --data-dir '<DATA_DIR>' \\\n  --name cp-2 \\\n  --initial-cluster cp-2=http://127.0.0.1:2380 \\\n  --initial-advertise-peer-urls http://127.0.0.1:2380",
    );
    // The same steps a salvaged snapshot.db gets (systemd: how etcd runs is not known), the key count checked after start.
    expect(r.plan.steps.map((s) => s.kind)).toEqual(['check', 'stop', 'move-aside', 'restore', 'ownership', 'start', 'verify']);
    expect(r.plan.steps.at(-1)!.command).toContain('-ge 119');
    expect(r.placeholders.map((p) => p.token)).toEqual(['/var/tmp/snapshot.db', '<DATA_DIR>', 'etcd.service', '--cacert/--cert/--key']);
    const copy = r.placeholders[0]!.about;
    expect(translate('en', copy.key, copy.params)).toBe(
      'the snapshot.db checked here (snapshot.db); copy it to the node as /var/tmp/snapshot.db first (e.g. scp), or put its path on the node here if it is there already',
    );
    expect(translate('zh-CN', copy.key, copy.params)).toBe(
      '此处检查的 snapshot.db（snapshot.db）；请先把它复制到节点上的 /var/tmp/snapshot.db（例如用 scp），如果它已在节点上，则换成它在节点上的路径',
    );
  });

  it('a file name a shell would need quoted is copied under a plain one (the placeholder reads the same in the commands)', () => {
    const r = openedFileRestore(details({ dbFile: "etcd-2024 05 01/snap'shot.db" }));
    if (r.kind !== 'plan') throw new Error(`expected a plan, got ${r.kind}`);
    expect(r.plan.snapshot).toBe('/var/tmp/snap_shot.db');
    expect(r.plan.steps[0]!.command).toContain('test -f /var/tmp/snap_shot.db');
    expect(r.placeholders[0]!.about.params).toEqual({ file: "etcd-2024 05 01/snap'shot.db", node: '/var/tmp/snap_shot.db' });
  });

  it('read in place on the node (a backup the node card found): restored from where it lies, nothing to copy', () => {
    const file = '/var/backups/kube_etcd/etcd-2026-12-01 0330/snapshot.db';
    const r = openedFileRestore(details(), file);
    if (r.kind !== 'plan') throw new Error(`expected a plan, got ${r.kind}`);
    expect(r.plan.snapshot).toBe(file);
    expect(r.plan.steps[0]!.command).toContain(`test -f '${file}'`);
    expect(r.placeholders.map((p) => p.token)).toEqual(['<DATA_DIR>', 'etcd.service', '--cacert/--cert/--key']);
    // A folder read in place that holds only the snapshot: the file in it.
    const inFolder = openedFileRestore(details(), '/var/backups/kube_etcd');
    expect(inFolder.kind === 'plan' && inFolder.plan.snapshot).toBe('/var/backups/kube_etcd/snapshot.db');
  });

  it('a trailer that does not match: no plan, etcdctl’s own refusal', () => {
    const error = 'expected sha256 [1 2 3], got [4 5 6]';
    expect(openedFileRestore(details({ fatalError: error, sha256: { present: true, ok: false, stored: '010203', computed: '040506' } }))).toEqual({
      kind: 'refused',
      error,
    });
    // Even were the model to say nothing, a trailer not proven good never gets a plan.
    expect(openedFileRestore(details({ sha256: { present: true, ok: false, stored: '01', computed: '04' } })).kind).toBe('refused');
    expect(openedFileRestore(details({ sha256: { present: false, ok: null, stored: null, computed: null } })).kind).toBe('refused');
  });

  it('a db bbolt cannot open, a revision mvcc cannot decode, no db at all: no plan', () => {
    expect(openedFileRestore(details({ fatalError: 'cannot open database at snapshot.db (invalid database)' }))).toEqual({
      kind: 'refused',
      error: 'cannot open database at snapshot.db (invalid database)',
    });
    expect(openedFileRestore(details({ mvccRestoreError: 'cannot unmarshal event: proto: KeyValue: illegal tag 0 (wire type 0)' }))).toEqual({
      kind: 'refused',
      error: 'cannot unmarshal event: proto: KeyValue: illegal tag 0 (wire type 0)',
    });
    expect(openedFileRestore(details({ bbolt: false })).kind).toBe('refused');
  });

  it('a lone db without trailer: no plan (restore refuses it without --skip-hash-check); a data dir: not this panel', () => {
    expect(openedFileRestore(details({ input: 'db-file', dbFile: 'db' }))).toEqual({ kind: 'no-trailer' });
    expect(openedFileRestore(details({ input: 'db-file', dbFile: 'db', fatalError: 'freepages: failed to get all reachable pages' })).kind).toBe('refused');
    for (const input of ['data-dir', 'member-dir', 'wal-dir'] as const) expect(openedFileRestore(details({ input })).kind).toBe('not-a-file');
  });

  it('the sentences around it say the same in both languages, the error verbatim', () => {
    const error = 'expected sha256 [1 2 3], got [4 5 6]';
    expect(translate('en', 'etcdRepairUi.opened.refused', { error })).toContain(`(“${error}”)`);
    expect(translate('zh-CN', 'etcdRepairUi.opened.refused', { error })).toContain(`（“${error}”）`);
    expect(translate('zh-CN', 'etcdRepairUi.opened.title')).toBe('恢复此 snapshot.db');
  });
});
