import { parseBoundedJson } from '../../../shared/text/bounded-json';
import { mutateText } from '../mutate';
import { check, type FuzzTarget } from '../target';
import { JSON_TOKENS } from './dictionaries';

/** etcdctl's real `member list -w json` and `endpoint status -w json` shapes, and a Kubernetes object. */
const SEEDS = [
  '{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"raft_term":2},"members":[{"ID":10276657743932975437,"name":"default","peerURLs":["http://localhost:2380"],"clientURLs":["http://localhost:2379"]}]}',
  '[{"Endpoint":"127.0.0.1:2379","Status":{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":1,"raft_term":2},"version":"3.4.23","dbSize":20480,"leader":10276657743932975437,"raftIndex":4,"raftTerm":2}}]',
  '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"etcd-k8s-master","namespace":"kube-system","labels":{"component":"etcd"}},"spec":{"containers":[{"name":"etcd","command":["etcd","--data-dir=/var/lib/etcd"]}]}}',
];

export const json: FuzzTarget<string, string[]> = {
  name: 'json',
  what: 'bounded JSON reader (etcd member lists, Kubernetes values): a value or a refusal within the bounds, same value as JSON.parse',
  corpus: () => SEEDS,
  generate: (r, corpus) => mutateText(r, r.pick(corpus), JSON_TOKENS, 128 * 1024),
  run: (text) => {
    const r = parseBoundedJson(text, { maxBytes: 96 * 1024, maxDepth: 32, maxItems: 10_000 });
    if (r.ok) check(JSON.stringify(r.value) === JSON.stringify(JSON.parse(text)), 'value differs from JSON.parse');
    else if (r.offset !== null) check(r.offset >= 0 && r.offset <= text.length, `offset ${r.offset} outside ${text.length}`);
    if (!r.ok && text.length >= 40) check(!r.detail.includes(text.slice(0, 40)), 'refusal echoes the text');
  },
  files: (t) => ({ 'input.json': t }),
  size: (t) => t.length,
};
