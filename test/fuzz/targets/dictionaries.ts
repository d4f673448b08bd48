/** Tokens the text mutators insert and repeat: the syntax of each format, and what has broken parsers before. */
export const YAML_TOKENS = ['&a ', '*a', '*a,', '&a [', '[', ']', '{', '}', '- ', '? ', ': ', ',', '\n  ', '\n- ', '|\n', '>-\n', '"', "'", '#', '!!binary ', '!!str ', '<<: *a', '---\n', '...\n', '%YAML 1.2\n', '\t', 'ID: ', 'Address: ', 'Role: ', '18446744073709551616', '0x10', '~', 'null', '\\u0000'];
export const JSON_TOKENS = ['{', '}', '[', ']', ',', ':', '"', '\\"', '\\u0000', '\\ud800', '1e309', '-0', '18446744073709551616', 'null', 'true', '"__proto__":', '"constructor":', ' ', '\n'];
export const LOG_TOKENS = [
  'load closed segment ',
  '0000000000000001-0000000000000002',
  ': entries batch ',
  ' starting at byte ',
  '.service',
  ': Main process exited, code=exited, status=1/FAILURE',
  'Scheduled restart job, restart counter is at ',
  'Start request repeated too quickly',
  'CrashLoopBackOff: "back-off 10s restarting failed container=etcd pod=',
  '_kube-system(',
  'dial tcp ',
  ':2379: connect: connection refused',
  ':2380',
  'dial unix ',
  'kine.sock',
  'panic: ',
  'freepages: failed to get all reachable pages (page ',
  'read wal error (',
  'XFS (',
  'Out of memory: Killed process 1 (',
  'raft_start(): ',
  'msg="',
  '{"level":"warn","ts":"2024-03-13T04:35:41.934Z","msg":"',
  '"local-member-id":"',
  'remote-peer-id":"',
  'Mar 13 12:33:33 k8s-master kubelet[3317]: ',
  'E0313 12:33:33.821994    3317 ',
  '2024-03-13T12:33:27+0800 ',
  '\u001b[31m',
  '\r',
  '\n\t',
  'goroutine 1 [running]:\n',
];
export const SSH_CONFIG_TOKENS = ['Host ', 'HostName ', 'User ', 'Port ', 'IdentityFile ', 'ProxyJump ', 'Match ', 'Include ', '=', '"', ' ', '\t', '*', '?', '!', ',', '%h', '%d', '%r', '%u', '%%', '~/', '[::1]:22', 'a@b:22', '\n  ', '#'];
export const KNOWN_HOSTS_TOKENS = ['@revoked ', '@cert-authority ', '|1|', '|', ',', '*', '?', '!', '[', ']:2222', ' ssh-ed25519 ', ' ssh-rsa ', 'AAAA', '=', '==', '#', '\r', '\t'];
export const FACTS_TOKENS = ['Filesystem ', 'Type ', '%', ' -> ', '@', '/24', 'File: ', 'Access: (', '0755/', 'drwxr-xr-x)', 'Uid: (', 'Gid: (', 'Modify: ', 'IO Block: 4096 ', '# /etc/systemd/system/', '.d/', '.conf', '[Service]', 'ExecStart=', 'Environment=', 'EnvironmentFile=-', 'export ', '=', '"', "'", '- --', '--data-dir=', '--initial-cluster=', 'https://', '[', ']', 'Mem:', 'UP ', 'command not found', ': not found', '\r', ' ', '\t'];
