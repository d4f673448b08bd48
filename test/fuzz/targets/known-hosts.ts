import { checkHostKey, parseKnownHosts, preferredKeyTypes } from '../../../electron/services/ssh/known-hosts';
import { mutateText } from '../mutate';
import { check, type FuzzTarget } from '../target';
import { KNOWN_HOSTS_TOKENS } from './dictionaries';

// Real lines as ssh-keygen/ssh write them (ed25519 key blob of the test fixture key format).
const ED25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const SEED = [
  `node1,10.0.0.1 ssh-ed25519 ${ED25519}`,
  `[node2]:2222 ssh-ed25519 ${ED25519} comment`,
  `|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ssh-ed25519 ${ED25519}`,
  `@revoked * ssh-ed25519 ${ED25519}`,
  `@cert-authority *.example.com ssh-ed25519 ${ED25519}`,
  '# comment',
  `*.prod,!bastion.prod ssh-ed25519 ${ED25519}`,
].join('\n');
const KEY = Buffer.from(ED25519, 'base64');

export const knownHosts: FuzzTarget<string, string[]> = {
  name: 'known-hosts',
  what: 'known_hosts parser and OpenSSH lookup (patterns, hashed names, markers): a verdict and per-line problems, never a throw',
  corpus: () => [SEED],
  generate: (r, corpus) => mutateText(r, r.pick(corpus), KNOWN_HOSTS_TOKENS, 256 * 1024),
  run: (text) => {
    const parsed = parseKnownHosts(text);
    const lines = text.split('\n').length;
    for (const p of parsed.problems) check(p.line >= 1 && p.line <= lines, `problem on line ${p.line} of ${lines}`);
    for (const host of ['node1', 'node2', 'bastion.prod', 'x.example.com']) {
      for (const port of [22, 2222]) {
        const v = checkHostKey(parsed, host, port, KEY);
        check(typeof v.kind === 'string', 'verdict');
      }
    }
    preferredKeyTypes(parsed, 'node1', 22);
  },
  files: (t) => ({ known_hosts: t }),
  size: (t) => t.length,
};
