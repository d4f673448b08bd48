import { analyzeListing } from '../../../shared/formats/dqlite/listing';
import { CopyOutError, parseFindListing, parseNodeHashes } from '../../../electron/services/ssh/copy-out';
import { parseSudoListing, SudoSourceError } from '../../../electron/services/ssh/sudo-source';
import { parseCrictlPs, parseDockerPs, parseKubectlPods } from '../../../renderer/src/features/node/logs-commands';
import { mutateText } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { fieldReportText } from './corpus';
import { FACTS_TOKENS } from './dictionaries';

/**
 * Listings read from a node or pasted by the user: an `ls -l` of a MicroK8s backend (the field report's, pasted
 * with its journal line), `crictl ps -a` / `docker ps` / `kubectl get pods -o name` for the Logs panel's picks, the
 * copy-out's `find -printf` records and the node's hashes, and the sudo directory listing. Each gives its rows, or
 * (the copy-out and sudo listings) refuses with its own error, never another exception.
 */
interface Corpus {
  lsListing: string;
  crictl: string;
  docker: string;
  kubectl: string;
  find: string;
  hashes: string;
  sudoList: string;
}
type Key = keyof Corpus;

export const nodeListings: FuzzTarget<{ key: Key; text: string }, Corpus> = {
  name: 'node-listings',
  what: 'ls -l listings (the MicroK8s field report), crictl/docker/kubectl pick lists, copy-out find records and hashes, the sudo directory listing: rows or their own refusal, never a throw',
  corpus: () => ({
    lsListing: fieldReportText('microk8s-backend-listing.txt'),
    crictl:
      'CONTAINER           IMAGE               CREATED             STATE               NAME                ATTEMPT             POD ID              POD\n' +
      '3f2a9c1b7d44        a0eed15eed449       2 hours ago         Exited              etcd                12                  5c1d0e2f3a4b        etcd-cp1\n' +
      '9e8d7c6b5a43        b1ffe25f6e55a       3 minutes ago       Running             kube-apiserver      3                   6d2e1f3a4b5c        kube-apiserver-cp1\n',
    docker: '41714b0e82f1 kind-control-plane Up 2 hours\n9c1d2e3f4a5b k8s_etcd_etcd-cp1_kube-system_0 Exited (2) 3 minutes ago\n',
    kubectl: 'pod/etcd-cp1\npod/kube-apiserver-cp1\npod/coredns-5d78c9869d-abcde\n',
    find: '1765000000.123456789\nd\x004096\x001765000000.5\x001765000000.5\x00\x00f\x0012\x001765000000.25\x001765000000.25\x00member/snap/db\x00d\x004096\x001765000000.5\x001765000000.5\x00member\x00',
    hashes: `${'ab'.repeat(32)} *member/snap/db\n${'cd'.repeat(32)} *member/wal/0000000000000000-0000000000000000.wal\n`,
    sudoList: '0\x00d\x004096\x001765000000.5\x00etcd\x00\x001\x00f\x0012\x001765000000.25\x00db\x00\x001\x00l\x009\x001765000000.25\x00wal\x00/srv/wal\x00',
  }),
  generate: (r, corpus) => {
    const key = r.pick(Object.keys(corpus) as Key[]);
    return { key, text: mutateText(r, corpus[key], [...FACTS_TOKENS, '\0', '  ', 'pod/'], 256 * 1024) };
  },
  run: ({ key, text }) => {
    const results: unknown[] = [];
    const refused = (e: unknown, what: string, ok: boolean): void => {
      check(ok, `${what} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    };
    switch (key) {
      case 'lsListing':
        results.push(analyzeListing(text), analyzeListing(text, { log: 'x' }));
        break;
      case 'crictl':
        results.push(parseCrictlPs(text));
        break;
      case 'docker':
        results.push(parseDockerPs(text));
        break;
      case 'kubectl':
        results.push(parseKubectlPods(text));
        break;
      case 'find':
        try {
          const l = parseFindListing(Buffer.from(text, 'utf8'), '/var/lib/etcd', 10_000);
          check(l.files.length <= 10_000 + 1, 'files within the cap');
          results.push(l);
        } catch (e) {
          refused(e, 'parseFindListing', e instanceof CopyOutError);
        }
        break;
      case 'hashes':
        results.push([...parseNodeHashes(text)]);
        break;
      case 'sudoList':
        try {
          results.push(parseSudoListing(Buffer.from(text, 'utf8'), '/var/lib/etcd'));
        } catch (e) {
          refused(e, 'parseSudoListing', e instanceof SudoSourceError);
        }
        break;
    }
    checkPlain(results, key);
  },
  files: ({ key, text }) => ({ [`${key}.txt`]: text }),
  size: ({ text }) => text.length,
};
