import { hostsFromConfigText } from '../../../electron/services/ssh/ssh-config';
import { mutateText } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { SSH_CONFIG_TOKENS } from './dictionaries';

const SEED = `Host bastion
  HostName 203.0.113.10
  User ops
  Port 2222
  IdentityFile ~/.ssh/id_ed25519

Host node1 node2
  HostName %h.cluster.internal
  ProxyJump bastion
  User root

Host *.prod !db.prod
  ProxyJump ops@bastion:2222,jump2

Match host x
  User y
`;
const ENV = { home: '/home/fuzz', localUser: 'fuzz' };

export const sshConfig: FuzzTarget<string, string[]> = {
  name: 'ssh-config',
  what: 'ssh_config import (hosts, ProxyJump chains, tokens): hosts and problems, never a throw',
  corpus: () => [SEED],
  generate: (r, corpus) => mutateText(r, r.pick(corpus), SSH_CONFIG_TOKENS, 256 * 1024),
  run: (text) => {
    const r = hostsFromConfigText(text, ENV);
    for (const h of r.hosts) check(Number.isInteger(h.target.port) && h.target.port > 0 && h.target.port < 65536, `port ${h.target.port}`);
    checkPlain(r, 'import');
  },
  files: (t) => ({ config: t }),
  size: (t) => t.length,
};
