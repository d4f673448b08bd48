import {
  addressFacts,
  dataDirFacts,
  diskFacts,
  etcdManifestFacts,
  etcdUnitDataDir,
  manifestListFacts,
  memoryFacts,
  parseEnvFile,
  parseSystem,
  unitFacts,
  type ProbeOutput,
} from '../../../shared/node/facts-parse';
import { isContainerName, parseDbMemberRecords, parseDockerInspect, parseIpOAddr } from '../../../shared/node/kind';
import { dataDirVariable, distributionConfigFile, distributionLayout, distributionRestoreCommands } from '../../../shared/node/k3s';
import { backupJobs, parseBackupScript, parseCrontabListing } from '../../../shared/node/cron';
import { K3S_INSTALL_UNIT } from '../../helpers/k3s-unit';
import { mutateText } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { FACTS_TOKENS } from './dictionaries';

/** What the probe commands print on a real node (Debian 12, kubeadm and MicroK8s). */
const OUTPUTS = {
  system: 'k8s-master\nLinux k8s-master 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) x86_64 GNU/Linux\n2024-03-13T12:33:27+08:00\n',
  df: 'Filesystem     Type 1K-blocks     Used Available Use% Mounted on\n/dev/sda1      ext4  30832548 29204412         0 100% /\n/dev/mapper/vg-var-lib-long-name\n               xfs   10475520  1048576   9426944  11% /var/lib\n',
  dfi: 'Filesystem      Inodes  IUsed   IFree IUse% Mounted on\n/dev/sda1      1966080 123456 1842624    7% /\n',
  stat: '  File: /var/lib/etcd\n  Size: 4096      \tBlocks: 8          IO Block: 4096   directory\nDevice: 801h/2049d\tInode: 131073      Links: 3\nAccess: (0700/drwx------)  Uid: (    0/    root)   Gid: (    0/    root)\nModify: 2024-03-13 12:30:01.000000000 +0800\n',
  isActive: 'active\ninactive\nfailed\nunknown\n',
  cat: '# /lib/systemd/system/etcd.service\n[Unit]\nDescription=etcd\n[Service]\nEnvironmentFile=-/etc/default/etcd\nExecStart=/usr/bin/etcd --data-dir=/var/lib/etcd --name node1\n\n# /etc/systemd/system/etcd.service.d/override.conf\n[Service]\nEnvironment=ETCD_DATA_DIR=/var/lib/etcd2\n',
  env: 'ETCD_NAME="node1"\nexport ETCD_DATA_DIR=/var/lib/etcd\n# comment\nETCD_LISTEN_PEER_URLS=\'https://10.0.0.1:2380\'\n',
  manifests:
    'total 16\n-rw------- 1 root root 2406 Mar 13 12:30 etcd.yaml\n-rw------- 1 root root 3872 Mar 13 12:30 kube-apiserver.yaml\nlrwxrwxrwx 1 root root   10 Mar 13 12:30 x.yaml -> /tmp/y.yaml\n',
  manifest:
    'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - command:\n    - etcd\n    - --advertise-client-urls=https://192.168.31.2:2379\n    - --data-dir=/var/lib/etcd\n    - --initial-advertise-peer-urls=https://192.168.31.2:2380\n    - --initial-cluster=k8s-master=https://192.168.31.2:2380\n    - "--listen-client-urls=https://127.0.0.1:2379,https://192.168.31.2:2379"\n',
  ip: 'lo               UNKNOWN        127.0.0.1/8 ::1/128\neth0@if12        UP             192.168.31.2/24 fe80::1/64\n',
  free: '               total        used        free      shared  buff/cache   available\nMem:         8123456     2345678     1234567       12345     4543211     5432100\nSwap:              0           0           0\n',
  // kind's Docker host: `docker inspect` of the node containers (the fields read, as Docker 20.10 prints them), the
  // member records read in place from a db, and `ip -o addr` inside a node container.
  dockerInspect:
    '[{"Id":"41714b0e82f1","Name":"/kind-control-plane","State":{"Status":"running","Running":true},"Config":{"Hostname":"kind-control-plane","Labels":{"io.x-k8s.kind.cluster":"kind","io.x-k8s.kind.role":"control-plane"}},"NetworkSettings":{"Networks":{"kind":{"IPAddress":"172.18.0.3","IPPrefixLen":16}}}},{"Id":"9c1d2e3f4a5b","Name":"/kind-worker","State":{"Status":"exited"},"Config":{"Labels":{"io.x-k8s.kind.cluster":"kind","io.x-k8s.kind.role":"worker"}},"NetworkSettings":{"Networks":{}}}]\n',
  dbMembers:
    '"id":915125659330601935,"peerURLs":["http://172.18.0.2:2380"],"name":"kind-control-plane"\n"id":12,"peerURLs":["https://10.0.0.2:2380","https://[fd00::2]:2380"],"isLearner":true\n',
  // The crontabs probe's listing and KubeKey's etcd-backup.sh (variables, comments, a continued etcdctl line).
  crontabs:
    '### /var/spool/cron/crontabs/root\n# m h dom mon dow command\nSHELL=/bin/bash\n*/30 * * * * sh /usr/local/bin/kube-scripts/etcd-backup.sh\n@daily /opt/backup.sh >> /var/log/b.log 2>&1\n### /etc/cron.daily/etcd-snapshot (run-parts)\n',
  backupScript:
    "#!/bin/bash\nETCDCTL_PATH='/usr/bin/etcdctl'\nENDPOINTS='https://10.0.0.1:2379'  # the member\nBACKUP_DIR=\"/var/backups/kube_etcd/etcd-$(date +%Y-%m-%d-%H-%M-%S)\"\nKEEPBACKUPNUMBER='5'\n[ ! -d $BACKUP_DIR ] && mkdir -p $BACKUP_DIR\nexport ETCDCTL_API=3;$ETCDCTL_PATH --endpoints=\"$ENDPOINTS\" snapshot save $BACKUP_DIR/snapshot.db \\\n  --cacert=/etc/ssl/etcd/ssl/ca.pem\nsh ${BACKUP_DIR}/../prune.sh\n",
  // k3s's server unit as its install script writes it, and a config.yaml that moves its data and snapshots.
  k3sUnit: K3S_INSTALL_UNIT + "\t'--data-dir=/data/k3s' \\\n\t'--etcd-snapshot-dir' '/backup/k3s snaps' \\\n",
  k3sConfig: 'write-kubeconfig-mode: "0644"\ndata-dir: /srv/k3s\netcd-snapshot-dir: /backup/k3s\ntls-san:\n  - cp.example\n',
  ipO: '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n2: eth0@if7    inet 172.18.0.3/16 brd 172.18.255.255 scope global eth0\\       valid_lft forever preferred_lft forever\n2: eth0@if7    inet6 fc00:f853:ccd:e793::3/64 scope global nodad\n',
};
type Key = keyof typeof OUTPUTS;
type Probe = { key: Key; out: ProbeOutput };

export const nodeFacts: FuzzTarget<Probe, typeof OUTPUTS> = {
  name: 'node-facts',
  what: 'node facts parsers (df, stat, systemctl, EnvironmentFile, static pod manifest, ip, free; on a kind Docker host docker inspect, member records, ip -o addr; crontabs and a backup script; a k3s unit and config.yaml): facts, never a throw',
  corpus: () => OUTPUTS,
  generate: (r, corpus) => {
    const key = r.pick(Object.keys(corpus) as Key[]);
    const stdout = mutateText(r, corpus[key], FACTS_TOKENS, 256 * 1024);
    return {
      key,
      out: { code: r.pick([0, 0, 0, 1, 127, null]), stdout, stderr: r.chance(0.1) ? mutateText(r, 'No such file or directory', FACTS_TOKENS, 4096) : '' },
    };
  },
  run: ({ key, out }) => {
    const ok: ProbeOutput = { code: 0, stdout: '', stderr: '' };
    const results: unknown[] = [];
    switch (key) {
      case 'system':
        results.push(parseSystem(out));
        break;
      case 'df':
      case 'dfi':
        results.push(diskFacts(key === 'df' ? out : ok, key === 'dfi' ? out : ok, '/var/lib/etcd'));
        break;
      case 'stat':
        results.push(dataDirFacts(out, '/var/lib/etcd'));
        break;
      case 'isActive':
      case 'cat':
        results.push(unitFacts(key === 'isActive' ? out : { ...ok, stdout: OUTPUTS.isActive }, key === 'cat' ? out : { ...ok, stdout: OUTPUTS.cat }));
        results.push(
          etcdUnitDataDir(key === 'cat' ? out : { ...ok, stdout: OUTPUTS.cat }, [{ path: '/etc/default/etcd', output: { ...ok, stdout: OUTPUTS.env } }]),
        );
        break;
      case 'env':
        results.push([...parseEnvFile(out.stdout)]);
        results.push(etcdUnitDataDir({ ...ok, stdout: OUTPUTS.cat }, [{ path: '/etc/default/etcd', output: out }]));
        break;
      case 'manifests':
        results.push(manifestListFacts(out, '/etc/kubernetes/manifests'));
        break;
      case 'manifest':
        results.push(etcdManifestFacts(out, '/etc/kubernetes/manifests/etcd.yaml', ['192.168.31.2', '10.0.0.1']));
        break;
      case 'ip':
        results.push(addressFacts(out));
        break;
      case 'free':
        results.push(memoryFacts(out));
        break;
      case 'dockerInspect': {
        const containers = parseDockerInspect(out.stdout);
        // Every name that comes out may go into a docker exec: Docker's own alphabet only.
        for (const k of containers ?? []) check(isContainerName(k.name), `container name ${JSON.stringify(k.name).slice(0, 80)}`);
        results.push(containers);
        break;
      }
      case 'dbMembers':
        results.push(parseDbMemberRecords(out.stdout));
        break;
      case 'ipO':
        results.push(parseIpOAddr(out.stdout));
        break;
      case 'crontabs': {
        const listing = parseCrontabListing(out.stdout);
        results.push(listing, backupJobs(listing, new Map([['/usr/local/bin/kube-scripts/etcd-backup.sh', OUTPUTS.backupScript]])));
        break;
      }
      case 'backupScript':
        results.push(
          parseBackupScript(out.stdout),
          backupJobs(parseCrontabListing(OUTPUTS.crontabs), new Map([['/usr/local/bin/kube-scripts/etcd-backup.sh', out.stdout]])),
        );
        break;
      case 'k3sUnit':
      case 'k3sConfig': {
        const unit = key === 'k3sUnit' ? out.stdout : null;
        const config = key === 'k3sConfig' ? out.stdout : null;
        // The same text as a config.yaml.d drop-in after config.yaml, and as the service environment's values.
        const environment = new Map([[dataDirVariable('k3s'), { value: out.stdout, from: '/etc/systemd/system/k3s.service.env' }]]);
        const dropIns = config !== null ? [{ path: '/etc/rancher/k3s/config.yaml.d/50-x.yaml', text: config }] : [];
        distributionConfigFile('k3s', unit, environment);
        const layout = distributionLayout('k3s', unit, config, { dropIns, environment });
        // Whatever the files say, the commands stay three lines, each one shell word list.
        const commands = distributionRestoreCommands(layout, 'k3s.service', '/var/lib/rancher/k3s/server/db/snapshots/etcd-snapshot-a-1');
        check(commands.length === 3 && commands.every((c) => !c.includes('\n')), 'three one-line commands');
        results.push(layout, commands);
        break;
      }
    }
    checkPlain(results, key);
  },
  files: ({ key, out }) => ({ [`${key}.stdout`]: out.stdout, [`${key}.stderr`]: out.stderr }),
  size: ({ out }) => out.stdout.length + out.stderr.length,
};
