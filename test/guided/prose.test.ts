/**
 * The checklist's step texts in parts (renderer/src/lib/prose.ts):
 * a command between backticks, a flag or a path in a sentence, each wraps
 * only between its words, and a label before a value stays whole. The walk
 * at 1024 px in Chinese showed `lifeboat salvage … --\nsnapshot …` and
 * "会修\n改：/var/lib/etcd…".
 */
import { describe, expect, it } from 'vitest';
import { aroundValue, proseParts } from '../../renderer/src/lib/prose';
import { kubeadmEtcdDb } from '../../shared/guided/playbooks';
import { renderCommand } from '../../shared/guided/runner';
import { translate } from '../../shared/i18n';

describe('step texts in parts', () => {
  it("the kubeadm salvage command is one code part, at the end, whose words are the command's words, flag and value apart", () => {
    const body = kubeadmEtcdDb.steps.find((s) => s.id === 'have-backup')!.body;
    for (const lang of ['en', 'zh-CN'] as const) {
      const text = renderCommand(body[lang], { backup: '/var/backups/etcd/snapshot.db', copyPath: '/home/op/copies/node-1/etcd' }).command;
      const code = proseParts(text).filter((p) => p.kind === 'code');
      expect(code).toEqual([
        {
          kind: 'code',
          words: ['lifeboat', 'salvage', '/home/op/copies/node-1/etcd', '--snapshot', '/home/op/copies/node-1/etcd.salvaged-snapshot.db'],
        },
      ]);
      // It ends the body: the checklist shows it as a block with its Copy button (the operator runs it by hand).
      expect(proseParts(text).at(-1)?.kind).toBe('code');
      // Nothing is lost or added around it (the backticks only mark it).
      const joined = proseParts(text)
        .map((p) => (p.kind === 'code' ? p.words.join(' ') : p.text))
        .join('');
      expect(joined).toBe(text.replace(/`/g, ''));
    }
  });

  it('keeps a quoted path with a space as one word, and an unpaired backtick as written', () => {
    expect(proseParts("run `mv '/srv/my backend' /q/`")).toEqual([
      { kind: 'text', text: 'run ' },
      { kind: 'code', words: ['mv', "'/srv/my backend'", '/q/'] },
    ]);
    expect(proseParts('a ` b')).toEqual([{ kind: 'text', text: 'a ` b' }]);
  });

  it('makes each flag and path in a sentence one word, in both languages, never a hyphenated word or a URL', () => {
    const zh = '在 /etc/kubernetes/manifests.lifeboat-stopped/etcd.yaml 中加入 --force-new-cluster 并启动（--cacert/--cert/--key）。';
    expect(proseParts(zh).filter((p) => p.kind === 'word')).toEqual([
      { kind: 'word', text: '/etc/kubernetes/manifests.lifeboat-stopped/etcd.yaml' },
      { kind: 'word', text: '--force-new-cluster' },
      { kind: 'word', text: '--cacert/--cert/--key' },
    ]);
    expect(proseParts('a read-only look at http://10.0.0.1:2380 and e.g. this').every((p) => p.kind === 'text')).toBe(true);
    expect(proseParts('(/var/lib/etcd.lifeboat-20261203T073838Z).')).toEqual([
      { kind: 'text', text: '(' },
      { kind: 'word', text: '/var/lib/etcd.lifeboat-20261203T073838Z' },
      { kind: 'text', text: ').' },
    ]);
  });

  it("splits the touched paths' sentence around its value so the label can stay whole, in both languages", () => {
    expect(aroundValue((paths) => translate('zh-CN', 'guided.step.touches', { paths }))).toEqual({ before: '会修改：', after: '' });
    expect(aroundValue((paths) => translate('en', 'guided.step.touches', { paths }))).toEqual({ before: 'Changes: ', after: '' });
    expect(aroundValue(() => 'no value here')).toEqual({ before: 'no value here', after: '' });
  });
});
