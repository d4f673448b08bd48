/**
 * A guided session as a post-mortem: Markdown and a self-contained HTML page
 * (inline styles, no script, no external resource; the app inlines the
 * font slices a Chinese report needs), in English or Chinese.
 * Timeline, node, every command with host, time, exit code and output,
 * findings, decisions, backups and quarantined files with their hashes,
 * what was lost and what is still open. Pure: from the replayed state.
 */
import type { Playbook, SessionEvent, SessionState } from '../contract/guided';
import { renderCommand } from './runner';
import { translateLocal } from '../i18n';

type Lang = 'en' | 'zh-CN';

const WORDS: Record<string, Record<Lang, string>> = {
  report: { en: 'Recovery session', 'zh-CN': '恢复会话' },
  node: { en: 'Node', 'zh-CN': '节点' },
  playbook: { en: 'Playbook', 'zh-CN': '剧本' },
  started: { en: 'Started', 'zh-CN': '开始' },
  outcome: { en: 'Outcome', 'zh-CN': '结果' },
  open: { en: 'still open', 'zh-CN': '尚未结束' },
  healthy: { en: 'cluster verified healthy', 'zh-CN': '集群已验证健康' },
  abandoned: { en: 'abandoned', 'zh-CN': '已放弃' },
  failed: { en: 'failed', 'zh-CN': '失败' },
  timeline: { en: 'Timeline', 'zh-CN': '时间线' },
  steps: { en: 'Steps', 'zh-CN': '步骤' },
  command: { en: 'Command', 'zh-CN': '命令' },
  exit: { en: 'exit', 'zh-CN': '退出码' },
  stopSent: { en: 'stopped on the node', 'zh-CN': '已在节点上结束' },
  backups: { en: 'Backups taken before changes', 'zh-CN': '变更前的备份' },
  quarantined: { en: 'Quarantined files', 'zh-CN': '隔离的文件' },
  uploaded: { en: 'Files uploaded to nodes', 'zh-CN': '上传到节点的文件' },
  uploadedFrom: { en: 'from', 'zh-CN': '来源' },
  findings: { en: 'Findings', 'zh-CN': '发现' },
  decisions: { en: 'Decisions', 'zh-CN': '决定' },
  openItems: { en: 'Open items', 'zh-CN': '未完成事项' },
  none: { en: 'none', 'zh-CN': '无' },
  torn: {
    en: "The journal's last line was cut by a crash and is not shown.",
    'zh-CN': '日志的最后一行因崩溃被截断，未显示。',
  },
  confirmedBy: { en: 'confirmed by', 'zh-CN': '确认人' },
  risk: { en: 'risk named', 'zh-CN': '告知的风险' },
  variables: { en: 'Settings used', 'zh-CN': '使用的配置' },
};

const STATUS: Record<string, Record<Lang, string>> = {
  pending: { en: 'not run', 'zh-CN': '未执行' },
  running: { en: 'running', 'zh-CN': '执行中' },
  passed: { en: 'passed', 'zh-CN': '通过' },
  failed: { en: 'failed', 'zh-CN': '失败' },
  skipped: { en: 'skipped', 'zh-CN': '已跳过' },
  interrupted: { en: 'interrupted', 'zh-CN': '被中断' },
  'done-in-terminal': { en: 'done in the terminal', 'zh-CN': '已在终端中完成' },
};

const time = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');

/** Output shown in a report: the end of it, where the error usually is. */
function tail(s: string, max = 4000): string {
  return s.length > max ? `… ${s.slice(-max)}` : s;
}

interface ReportModel {
  title: string;
  lines: { k: string; v: string }[];
  steps: { title: string; status: string; events: SessionEvent[] }[];
  backups: Extract<SessionEvent, { type: 'backup' }>[];
  quarantined: Extract<SessionEvent, { type: 'quarantined' }>[];
  uploaded: Extract<SessionEvent, { type: 'uploaded' }>[];
  findings: Extract<SessionEvent, { type: 'finding' }>[];
  decisions: { step: string; option: string }[];
  open: string[];
  torn: boolean;
}

function model(s: SessionState, pb: Playbook | null, lang: Lang): ReportModel {
  const w = (k: string) => WORDS[k]![lang];
  const created = s.events.find((e) => e.type === 'created');
  const stepTitle = (id: string) => {
    const st = pb?.steps.find((x) => x.id === id);
    return st ? renderCommand(st.title[lang], s.variables).command : id;
  };
  // The journal keeps reasons and confirmed risks in English; the report says them in its own language.
  const inLanguage = (e: SessionEvent): SessionEvent => {
    if (e.type === 'step-finished' && e.local) return { ...e, reason: translateLocal(lang, e.local) };
    if (e.type === 'confirmed') {
      const risk = pb?.steps.find((x) => x.id === e.stepId)?.risk;
      if (risk && risk.en === e.risk) return { ...e, risk: risk[lang] };
    }
    return e;
  };
  const ordered: string[] = [];
  for (const e of s.events) if ('stepId' in e && e.stepId && !ordered.includes(e.stepId)) ordered.push(e.stepId);
  const outcome = s.finished ? w(s.finished.outcome) : w('open');
  return {
    title: `${w('report')}: ${pb ? pb.title[lang] : s.playbookId}`,
    lines: [
      { k: w('node'), v: s.node },
      { k: w('playbook'), v: pb ? `${pb.title[lang]} (${pb.id})` : s.playbookId },
      { k: w('started'), v: created ? time(created.at) : '?' },
      { k: w('outcome'), v: s.finished ? `${outcome}, ${time(s.finished.at)}` : outcome },
    ],
    steps: ordered.map((id) => ({
      title: stepTitle(id),
      status: STATUS[s.status[id] ?? 'pending']![lang],
      events: s.events.filter((e) => 'stepId' in e && e.stepId === id).map(inLanguage),
    })),
    backups: s.events.filter((e): e is Extract<SessionEvent, { type: 'backup' }> => e.type === 'backup'),
    quarantined: s.events.filter((e): e is Extract<SessionEvent, { type: 'quarantined' }> => e.type === 'quarantined'),
    uploaded: s.events.filter((e): e is Extract<SessionEvent, { type: 'uploaded' }> => e.type === 'uploaded'),
    findings: s.events
      .filter((e): e is Extract<SessionEvent, { type: 'finding' }> => e.type === 'finding')
      .map((f) => (f.local ? { ...f, text: translateLocal(lang, f.local) } : f)),
    decisions: s.events
      .filter((e): e is Extract<SessionEvent, { type: 'decision' }> => e.type === 'decision')
      .map((e) => {
        const opt = pb?.steps.find((x) => x.id === e.stepId)?.options?.find((o) => o.id === e.optionId);
        return { step: stepTitle(e.stepId), option: opt ? renderCommand(opt.label[lang], s.variables).command : e.optionId };
      }),
    open: Object.entries(s.status)
      .filter(([, st]) => st === 'failed' || st === 'interrupted' || st === 'running')
      .map(([id, st]) => `${stepTitle(id)}: ${STATUS[st]![lang]}`),
    torn: s.tornTail,
  };
}

export function sessionMarkdown(s: SessionState, pb: Playbook | null, lang: Lang = s.language): string {
  const m = model(s, pb, lang);
  const w = (k: string) => WORDS[k]![lang];
  const fence = (t: string) => '```\n' + t.replace(/```/g, '`\u200b``') + '\n```';
  const o: string[] = [`# ${m.title}`, ''];
  for (const l of m.lines) o.push(`- **${l.k}**: ${l.v}`);
  if (m.torn) o.push('', `> ${w('torn')}`);
  o.push('', `## ${w('steps')}`);
  for (const st of m.steps) {
    o.push('', `### ${st.title} — ${st.status}`);
    for (const e of st.events) {
      // A stop's script is shown as a command is, named as what it was.
      if (e.type === 'command-finished' || e.type === 'stop-sent') {
        o.push(
          '',
          `\`${time(e.at)}\` ${e.host}, ${e.type === 'stop-sent' ? `${w('stopSent')}, ` : ''}${w('exit')} ${String(e.code)}`,
          fence(`$ ${e.command}\n${tail(e.stdout)}${e.stderr ? `\n${tail(e.stderr, 2000)}` : ''}`),
        );
      } else if (e.type === 'confirmed') o.push('', `${w('confirmedBy')} ${e.by} (${time(e.at)}); ${w('risk')}: ${e.risk}`);
      else if (e.type === 'backup') o.push('', `${w('backups')}: \`${e.archive}\` sha256 \`${e.sha256}\` (${e.bytes} B) ← ${e.paths.join(', ')}`);
      else if (e.type === 'uploaded') o.push('', `${w('uploaded')}: ${e.host} \`${e.path}\` sha256 \`${e.sha256}\` (${e.bytes} B) ← ${e.from}`);
      else if (e.type === 'note') o.push('', `> ${e.text}`);
      else if (e.type === 'variable') o.push('', `\`${e.name}\` = \`${e.value}\``);
      else if (e.type === 'step-finished' && e.reason) o.push('', `_${e.reason}_`);
    }
  }
  o.push('', `## ${w('backups')}`);
  if (!m.backups.length) o.push('', w('none'));
  for (const b of m.backups) o.push(`- \`${b.archive}\` sha256 \`${b.sha256}\`, ${b.bytes} B, ${time(b.at)} (${b.paths.join(', ')})`);
  o.push('', `## ${w('quarantined')}`);
  if (!m.quarantined.length) o.push('', w('none'));
  for (const q of m.quarantined) o.push(`- \`${q.path}\` → \`${q.to}\`${q.sha256 ? ` sha256 \`${q.sha256}\`` : ''}`);
  o.push('', `## ${w('uploaded')}`);
  if (!m.uploaded.length) o.push('', w('none'));
  for (const u of m.uploaded) o.push(`- ${u.host} \`${u.path}\` sha256 \`${u.sha256}\`, ${u.bytes} B, ${time(u.at)} (${w('uploadedFrom')} ${u.from})`);
  o.push('', `## ${w('findings')}`);
  if (!m.findings.length) o.push('', w('none'));
  for (const f of m.findings) o.push(`- ${f.severity}: ${f.text}`);
  o.push('', `## ${w('decisions')}`);
  if (!m.decisions.length) o.push('', w('none'));
  for (const d of m.decisions) o.push(`- ${d.step}: ${d.option}`);
  o.push('', `## ${w('openItems')}`);
  if (!m.open.length) o.push('', w('none'));
  for (const x of m.open) o.push(`- ${x}`);
  return o.join('\n') + '\n';
}

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function sessionHtml(s: SessionState, pb: Playbook | null, lang: Lang = s.language): string {
  const m = model(s, pb, lang);
  const w = (k: string) => WORDS[k]![lang];
  const o: string[] = [];
  o.push(`<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">`);
  o.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; font-src data:">`);
  // No system-ui in the font stacks: on Linux, Chromium draws boxes for the Chinese its system font lacks instead of
  // falling through to the embedded Noto Sans SC (renderer/src/app.css says the same of the app).
  o.push(`<title>${esc(m.title)}</title><style>
body{font:14px/1.5 -apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","PingFang SC","Microsoft YaHei","Noto Sans SC",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
h1{font-size:1.4rem}h2{font-size:1.15rem;border-bottom:1px solid #d0d5dd;margin-top:2rem}h3{font-size:1rem;margin-bottom:.3rem}
pre{background:#f4f5f7;padding:.6rem;overflow:auto;white-space:pre-wrap;word-break:break-all;font:12px/1.4 ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,"Noto Sans SC",monospace}
.st{font-weight:600}.passed{color:#137333}.failed,.interrupted{color:#b3261e}.skipped{color:#8a5a00}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}code{font:12px ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,"Noto Sans SC",monospace;word-break:break-all}
</style></head><body>`);
  o.push(`<h1>${esc(m.title)}</h1><dl>`);
  for (const l of m.lines) o.push(`<dt>${esc(l.k)}</dt><dd>${esc(l.v)}</dd>`);
  o.push('</dl>');
  if (m.torn) o.push(`<p><em>${esc(w('torn'))}</em></p>`);
  o.push(`<h2>${esc(w('steps'))}</h2>`);
  for (const st of m.steps) {
    const cls = Object.entries(STATUS).find(([, v]) => v[lang] === st.status)?.[0] ?? '';
    o.push(`<h3>${esc(st.title)} — <span class="st ${cls}">${esc(st.status)}</span></h3>`);
    for (const e of st.events) {
      if (e.type === 'command-finished' || e.type === 'stop-sent') {
        const what = e.type === 'stop-sent' ? `${esc(w('stopSent'))}, ` : '';
        o.push(`<p><code>${esc(time(e.at))}</code> ${esc(e.host)}, ${what}${esc(w('exit'))} ${esc(String(e.code))}</p>`);
        o.push(`<pre>$ ${esc(e.command)}\n${esc(tail(e.stdout))}${e.stderr ? `\n${esc(tail(e.stderr, 2000))}` : ''}</pre>`);
      } else if (e.type === 'confirmed') o.push(`<p>${esc(w('confirmedBy'))} ${esc(e.by)} (${esc(time(e.at))}); ${esc(w('risk'))}: ${esc(e.risk)}</p>`);
      else if (e.type === 'backup') o.push(`<p>${esc(w('backups'))}: <code>${esc(e.archive)}</code> sha256 <code>${esc(e.sha256)}</code> (${e.bytes} B)</p>`);
      else if (e.type === 'uploaded')
        o.push(`<p>${esc(w('uploaded'))}: ${esc(e.host)} <code>${esc(e.path)}</code> sha256 <code>${esc(e.sha256)}</code> (${e.bytes} B) ← ${esc(e.from)}</p>`);
      else if (e.type === 'note') o.push(`<blockquote>${esc(e.text)}</blockquote>`);
      else if (e.type === 'variable') o.push(`<p><code>${esc(e.name)}</code> = <code>${esc(e.value)}</code></p>`);
      else if (e.type === 'step-finished' && e.reason) o.push(`<p><em>${esc(e.reason)}</em></p>`);
    }
  }
  const list = (title: string, items: string[]) => {
    o.push(`<h2>${esc(title)}</h2>`);
    o.push(items.length ? `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>` : `<p>${esc(w('none'))}</p>`);
  };
  list(
    w('backups'),
    m.backups.map((b) => `<code>${esc(b.archive)}</code> sha256 <code>${esc(b.sha256)}</code>, ${b.bytes} B, ${esc(time(b.at))} (${esc(b.paths.join(', '))})`),
  );
  list(
    w('quarantined'),
    m.quarantined.map((q) => `<code>${esc(q.path)}</code> → <code>${esc(q.to)}</code>${q.sha256 ? ` sha256 <code>${esc(q.sha256)}</code>` : ''}`),
  );
  list(
    w('uploaded'),
    m.uploaded.map(
      (u) =>
        `${esc(u.host)} <code>${esc(u.path)}</code> sha256 <code>${esc(u.sha256)}</code>, ${u.bytes} B, ${esc(time(u.at))} (${esc(w('uploadedFrom'))} ${esc(u.from)})`,
    ),
  );
  list(
    w('findings'),
    m.findings.map((f) => `${esc(f.severity)}: ${esc(f.text)}`),
  );
  list(
    w('decisions'),
    m.decisions.map((d) => `${esc(d.step)}: ${esc(d.option)}`),
  );
  list(w('openItems'), m.open.map(esc));
  o.push('</body></html>\n');
  return o.join('\n');
}
