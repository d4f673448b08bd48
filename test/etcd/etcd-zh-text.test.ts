/**
 * The etcd report in Simplified Chinese carries no English of ours. Every
 * damaged data dir the oracle builds (test/helpers/etcd-damage.ts, real etcd
 * 3.4), every damaged snapshot.db, the bundled samples and the address check
 * are validated; the summary, the narrative, etcd's own repairs, the lost
 * range and every finding (title and message) are rendered in zh-CN from the
 * report's keys and params, the way the UI renders them. Any run of ASCII
 * letters left after removing what is allowed fails the test: file names and
 * paths, ids and hex, numbers and units, commands and flags in backticks,
 * product and field names (a short list), and engine quotes: text inside
 * “…” that is etcd's or bbolt's own error text (from the report, or a quote
 * the template itself holds). Inputs are hashed before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ValidationReport } from '../../shared/contract/report';
import type { LocalText } from '../../shared/contract/text';
import { localDirectory } from '../../electron/services/fs-source';
import { FEATURE_CATALOGS, MESSAGES, hasMessage, translate, translateLocal } from '../../shared/i18n';
import { applyAddressCheck } from '../../shared/formats/etcd/cross-check';
import { answerEtcdQuery, MAX_WAL_RECORDS_PER_QUERY } from '../../shared/formats/etcd/query';
import { parseStaticPodManifest, parseSystemdUnit, planRestore } from '../../shared/formats/etcd/restore-plan';
import { copyDir, hashTree, requireEtcd, tempDir } from '../helpers/etcd';
import { ETCD_DAMAGE_CASES, SNAPSHOT_DB_CASES, buildEtcdGoldens, type EtcdGoldens } from '../helpers/etcd-damage';
import { allKeysKnown, BBOLT_WORDED, englishLeaks, neutral, planLeaks } from '../helpers/zh-english';
import { validateLocally } from '../helpers/validate-local';

const HAVE_ETCD = requireEtcd();
const SAMPLES = path.resolve(__dirname, '../../resources/samples');

/** The engine's own texts a report quotes (never translated: they are what journalctl shows). */
function engineTexts(r: ValidationReport): Set<string> {
  const out = new Set<string>();
  const add = (s: string | null | undefined) => {
    if (s) out.add(s);
  };
  const e = r.etcd;
  add(e?.startup.fatalError);
  add(e?.bbolt?.openError);
  add(e?.bbolt?.freepagesPanic);
  add(e?.bbolt?.mvccRestoreError);
  for (const m of e?.bbolt?.metas ?? []) add(m.error);
  for (const s of e?.snaps ?? []) add(s.error);
  for (const f of r.findings) add(f.engineError);
  for (const p of e?.bbolt?.problems ?? []) if (BBOLT_WORDED.has(p.code)) add(p.text);
  return out;
}

/** One rendered sentence, named for the failure message. */
interface Rendered {
  where: string;
  text: string;
}

/** Everything of the report the UI shows in sentences, rendered in zh-CN from keys and params. */
function renderZh(r: ValidationReport): { rendered: Rendered[]; untranslated: string[] } {
  const rendered: Rendered[] = [];
  const untranslated: string[] = [];
  const local = (where: string, l: LocalText | undefined, english: string) => {
    if (!l || !hasMessage(l.key, 'zh-CN') || !allKeysKnown(l)) untranslated.push(`${where}: ${english}`);
    else rendered.push({ where, text: translateLocal('zh-CN', neutral(l)) });
  };
  local('summary', r.summaryText, r.summary);
  const s = r.etcd!.startup;
  s.narrative.forEach((en, i) => local(`narrative ${i}`, s.narrativeText?.[i], en));
  s.selfRepairs.forEach((en, i) => local(`self-repair ${i}`, s.selfRepairsText?.[i], en));
  r.lost.forEach((l, i) => local(`lost ${i}`, l.reasonText, l.reason));
  for (const f of r.findings) {
    const title = `finding.${f.code}`;
    if (!hasMessage(title, 'zh-CN')) untranslated.push(`title of ${f.code}`);
    else rendered.push({ where: `title ${f.code}`, text: translate('zh-CN', title) });
    local(`finding ${f.code}`, f.params ? { key: f.messageKey ?? `finding.${f.code}.message`, params: f.params } : undefined, f.message);
  }
  return { rendered, untranslated };
}

function leaksOf(r: ValidationReport): string[] {
  const engine = engineTexts(r);
  const { rendered, untranslated } = renderZh(r);
  const out = untranslated.map((u) => `not translatable: ${u}`);
  for (const x of rendered) {
    const leaks = englishLeaks(x.text, engine);
    if (leaks.length > 0) out.push(`${x.where}: [${leaks.join(', ')}] in "${x.text}"`);
  }
  return out;
}

/** The WAL timeline's record lines and the page map's page details in zh-CN, for every WAL file and every problem page. */
async function viewLeaksOf(dir: string, r: ValidationReport): Promise<{ leaks: string[]; records: number; pages: number }> {
  const engine = engineTexts(r);
  const leaks: string[] = [];
  const check = (where: string, l: LocalText | undefined, english: string) => {
    if (!l || !allKeysKnown(l)) {
      leaks.push(`not translatable: ${where}: ${english}`);
      return;
    }
    const text = translateLocal('zh-CN', neutral(l));
    const found = englishLeaks(text, engine);
    if (found.length > 0) leaks.push(`${where}: [${found.join(', ')}] in "${text}"`);
  };
  let records = 0;
  let pages = 0;
  const src = localDirectory(dir);
  try {
    for (const f of r.etcd?.wal?.files ?? []) {
      const rows = await answerEtcdQuery(src, r, { kind: 'wal-records', file: f.file, fromRecord: 0, limit: MAX_WAL_RECORDS_PER_QUERY });
      for (const row of rows) {
        records++;
        // etcd's and the decoders' own error texts are quoted as they are.
        if (typeof row.problemText?.params?.error === 'string') engine.add(row.problemText.params.error);
        check(`${f.file} record ${row.number}`, row.summaryText, row.summary);
        if (row.problem !== null) check(`${f.file} record ${row.number} problem`, row.problemText, row.problem);
      }
    }
    const bbolt = r.etcd?.bbolt;
    if (bbolt && bbolt.pageCount > 0) {
      const wanted = new Set<number>([0, 1, 2, 3]);
      for (const p of bbolt.problems) if (p.page !== null && p.page < bbolt.pageCount) wanted.add(p.page);
      for (const page of [...wanted].filter((p) => p < bbolt.pageCount).slice(0, 24)) {
        const d = await answerEtcdQuery(src, r, { kind: 'page', page });
        pages++;
        d.problems.forEach((en, i) => check(`page ${page} problem ${i}`, d.problemTexts[i], en));
        for (const el of d.elements) if (el.problem !== null) check(`page ${page} element ${el.index}`, el.problemText, el.problem);
      }
    }
  } finally {
    await src.close();
  }
  return { leaks, records, pages };
}

describe('the English detector itself', () => {
  it('finds English words and lets allowed tokens, paths, ids and engine quotes through', () => {
    const engine = new Set(['walpb: crc mismatch']);
    expect(englishLeaks('etcd 无法启动，报错：“walpb: crc mismatch”。The db tree is damaged', engine)).toEqual(['The', 'tree', 'is', 'damaged']);
    expect(englishLeaks('没有可用的 db（member/snap/db is empty）', engine)).toEqual(['is', 'empty']);
    expect(englishLeaks('它在 db（consistent index 764）之上重放 WAL 条目 765..805；成员 b4363f592b6573dc 0x00e629b2', engine)).toEqual([]);
    // A quote that is no engine text of the report is our own English in disguise.
    expect(englishLeaks('报错：“page 2: element 0 runs past the end”', engine)).toEqual(['page', 'element', 'runs', 'past', 'the', 'end']);
    expect(englishLeaks('用 `etcdctl member update` 和 --force-new-cluster', engine)).toEqual([]);
  });

  it('every etcd template in zh-CN, placeholders aside, holds no English of ours', () => {
    const keys = [
      FEATURE_CATALOGS.etcdText,
      FEATURE_CATALOGS.etcdWalText,
      FEATURE_CATALOGS.etcdBboltText,
      FEATURE_CATALOGS.etcdRecordText,
      FEATURE_CATALOGS.etcdPlanText,
      FEATURE_CATALOGS.etcdRepairResultText,
    ].flatMap((c) => Object.keys(c['zh-CN']));
    const leaks: string[] = [];
    for (const key of keys) {
      const template = MESSAGES['zh-CN'][key]!;
      // Placeholders become neutral digits; quoted placeholders are engine texts by construction.
      const text = template.replace(/“\{[A-Za-z0-9_]+\}”/g, '“”').replace(/\{[A-Za-z0-9_]+\}/g, '0');
      const found = englishLeaks(text, new Set(['']));
      if (found.length > 0) leaks.push(`${key}: [${found.join(', ')}] in "${template}"`);
    }
    expect(leaks).toEqual([]);
  });
});

describe.skipIf(!HAVE_ETCD)('etcd reports in zh-CN: no English of ours in any damaged case', () => {
  let work = '';
  let g: EtcdGoldens;
  const goldenHashes = new Map<string, string>();

  beforeAll(async () => {
    work = await tempDir('etcd-zh-text');
    g = await buildEtcdGoldens(work, ['small', 'snaps', 'multiwal'], true);
    for (const [name, gold] of Object.entries(g.goldens)) goldenHashes.set(name, await hashTree(gold!.dir));
  }, 300_000);

  afterAll(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('every damaged data dir: summary, narrative, repairs, lost range and findings read in Chinese', async () => {
    const problems: string[] = [];
    const codes = new Set<string>();
    let viewRecords = 0;
    let viewPages = 0;
    for (const [k, c] of ETCD_DAMAGE_CASES.entries()) {
      const copy = path.join(work, `case-${k}`);
      await copyDir(g.goldens[c.golden]!.dir, copy);
      await c.damage(copy);
      const before = await hashTree(copy);
      let report = await validateLocally(copy);
      const view = await viewLeaksOf(copy, report);
      problems.push(...view.leaks.map((p) => `${c.name}: ${p}`));
      viewRecords += view.records;
      viewPages += view.pages;
      expect(await hashTree(copy), c.name).toBe(before);
      // The address check too: the node now has an address no member was registered at.
      report = applyAddressCheck(report, ['172.18.0.7']);
      for (const f of report.findings) codes.add(f.code);
      problems.push(...leaksOf(report).map((p) => `${c.name}: ${p}`));
      await fs.rm(copy, { recursive: true, force: true });
    }
    expect(problems).toEqual([]);
    // The cases reach the findings this is about (a case list that stops producing them would make the test toothless).
    for (const code of [
      'startup.db-created',
      'startup.wal-repaired',
      'snap.unreadable-skipped',
      'bbolt.freepages-panic',
      'wal.record-crc',
      'cross.stale-address',
    ])
      expect(codes, code).toContain(code);
    // The WAL listings and page details were really read (thousands of records, dozens of pages).
    expect(viewRecords).toBeGreaterThan(1000);
    expect(viewPages).toBeGreaterThan(ETCD_DAMAGE_CASES.length);
    for (const [name, gold] of Object.entries(g.goldens)) expect(await hashTree(gold!.dir), name).toBe(goldenHashes.get(name));
  }, 400_000);

  it('every damaged snapshot.db and both bundled samples read in Chinese', async () => {
    const problems: string[] = [];
    for (const [k, c] of SNAPSHOT_DB_CASES.entries()) {
      const dir = path.join(work, `snapdb-${k}`);
      await fs.mkdir(dir);
      const file = path.join(dir, 'snapshot.db');
      await fs.copyFile(g.snapshotDb!.file, file);
      await c.damage(file);
      problems.push(...leaksOf(await validateLocally(dir)).map((p) => `${c.name}: ${p}`));
    }
    const samplesHash = await hashTree(SAMPLES);
    for (const sample of ['etcd-healthy', 'etcd-field-report']) {
      problems.push(...leaksOf(await validateLocally(path.join(SAMPLES, sample))).map((p) => `${sample}: ${p}`));
    }
    expect(await hashTree(SAMPLES)).toBe(samplesHash);
    expect(problems).toEqual([]);
  }, 120_000);

  it('the WAL record lines of a healthy member name every record kind it holds, in Chinese', async () => {
    const dir = g.goldens.multiwal!.dir;
    const report = await validateLocally(dir);
    const src = localDirectory(dir);
    const keys = new Set<string>();
    try {
      for (const f of report.etcd!.wal!.files)
        for (const row of await answerEtcdQuery(src, report, { kind: 'wal-records', file: f.file, fromRecord: 0, limit: MAX_WAL_RECORDS_PER_QUERY }))
          keys.add(row.summaryText!.key);
    } finally {
      await src.close();
    }
    for (const k of ['wal-record.metadata', 'wal-record.hard-state', 'wal-record.crc', 'wal-record.snapshot', 'wal-record.entry.empty', 'wal-request.put'])
      expect([...keys], k).toContain(k);
    expect((await viewLeaksOf(dir, report)).leaks).toEqual([]);
  }, 120_000);

  it('restore plans for this member (systemd and static pod, one and three members) read in Chinese', () => {
    const gold = g.goldens.small!;
    const peer = gold.endpoint.peerUrl;
    const unit = parseSystemdUnit(
      `[Service]\nExecStart=/usr/bin/etcd --name n1 --data-dir ${gold.dir} --initial-advertise-peer-urls ${peer} --initial-cluster n1=${peer}\n`,
      'etcd.service',
    );
    const pod = parseStaticPodManifest(
      [
        'apiVersion: v1',
        'kind: Pod',
        'spec:',
        '  containers:',
        '  - name: etcd',
        '    command:',
        '    - etcd',
        '    - --name=n1',
        `    - --data-dir=${gold.dir}`,
        `    - --initial-advertise-peer-urls=${peer}`,
        `    - --initial-cluster=n1=${peer},n2=https://10.0.0.12:2380,n3=https://10.0.0.13:2380`,
        '    - --initial-cluster-token=tok-1',
        '',
      ].join('\n'),
      '/etc/kubernetes/manifests/etcd.yaml',
    );
    const noSources = { ...unit, sources: [], initialAdvertisePeerUrls: null };
    // Configurations with problems: an EnvironmentFile not read, no data dir, no peer URL; a manifest that is not YAML; one without containers.
    const envMissing = parseSystemdUnit('[Service]\nEnvironmentFile=-/etc/etcd.env\nExecStart=/usr/bin/etcd --name n1\n', 'etcd.service');
    const badYaml = parseStaticPodManifest('spec: [unclosed\n', '/etc/kubernetes/manifests/etcd.yaml');
    const yamlError = badYaml.problemTexts![0]!.params!.error as string;
    const noContainers = parseStaticPodManifest('apiVersion: v1\nkind: Pod\nspec: {}\n', '/etc/kubernetes/manifests/etcd.yaml');
    // A member known only from the validation report: the source is a sentence, not a path.
    const fromReport = {
      ...unit,
      sources: ['the validation report (WAL member ID, members bucket)'],
      sourceLabels: { 'the validation report (WAL member ID, members bucket)': { key: 'etcd-plan.restore.sources.report' } },
    };
    const plans = [
      planRestore({ snapshot: '/var/backups/snapshot.db', member: unit }),
      planRestore({ snapshot: '/var/backups/snapshot.db', member: pod, expectedKeys: gold.keys.size }),
      planRestore({ snapshot: '/var/backups/snapshot.db', member: noSources }),
      planRestore({ snapshot: '/var/backups/snapshot.db', member: envMissing }),
      planRestore({ snapshot: '/var/backups/snapshot.db', member: badYaml }),
      planRestore({ snapshot: '/var/backups/snapshot.db', member: noContainers }),
      planRestore({ snapshot: '/var/backups/snapshot.db', member: fromReport }),
    ];
    const leaks = plans.flatMap((p, i) => planLeaks(p, new Set([yamlError])).map((l) => `plan ${i}: ${l}`));
    expect(leaks).toEqual([]);
    // The problems are the ones these configurations have, in both languages, the English as it always was.
    expect(plans[3]!.problems).toEqual([
      'the unit reads /etc/etcd.env, which was not provided: flags set there are unknown',
      'no --data-dir / ETCD_DATA_DIR found: etcd would use "<name>.etcd" in its working directory; name the data dir explicitly',
      'no --initial-advertise-peer-urls found: the restored member would advertise http://localhost:2380',
    ]);
    expect(plans[3]!.problemTexts!.map((l) => translateLocal('zh-CN', l))).toEqual([
      '该单元读取 /etc/etcd.env，但没有提供这个文件：其中设置的参数未知',
      '未找到 --data-dir 或 `ETCD_DATA_DIR`：etcd 会使用其工作目录中的 `<name>.etcd`；请明确指定数据目录',
      '未找到 --initial-advertise-peer-urls：恢复后的成员会通告 `http://localhost:2380`',
    ]);
    expect(plans[4]!.problems[0]).toBe(`/etc/kubernetes/manifests/etcd.yaml is not valid YAML: ${yamlError}`);
    expect(translateLocal('zh-CN', plans[4]!.problemTexts![0]!)).toBe(`/etc/kubernetes/manifests/etcd.yaml 不是有效的 YAML：“${yamlError}”`);
    expect(translateLocal('zh-CN', plans[5]!.problemTexts![0]!)).toBe('/etc/kubernetes/manifests/etcd.yaml 中没有容器，不是 etcd 的静态 Pod 清单');
    const reportRestore = plans[6]!.steps.find((s) => s.kind === 'restore')!;
    expect(reportRestore.explanation).toContain('from the validation report (WAL member ID, members bucket): name n1,');
    expect(translateLocal('zh-CN', reportRestore.explanationText!)).toContain('（来自 校验报告中的 WAL 成员 ID 和 db 成员桶）：名称 n1，');
    // Each variant is reached, and the English is the same sentence the template gives.
    const restore = plans[1]!.steps.find((s) => s.kind === 'restore')!;
    expect(restore.explanation).toContain(`, cluster token tok-1.`);
    expect(restore.explanation).toContain('The cluster has 3 members');
    expect(translate('zh-CN', 'etcd-plan.title.restore')).toBe('恢复快照');
    expect(translateLocal('zh-CN', restore.explanationText!)).toContain('集群有 3 个成员');
    expect(translateLocal('zh-CN', plans[1]!.steps.at(-1)!.explanationText!)).toContain(`（至少 ${gold.keys.size} 个）`);
    expect(translateLocal('en', plans[2]!.steps.find((s) => s.kind === 'restore')!.explanationText!)).toContain(
      'from the given configuration: name n1, peer URL (default)',
    );
  });
});
