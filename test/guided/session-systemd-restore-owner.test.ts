/**
 * A restore where the owner matters: a systemd etcd run as its own user (`User=etcd`, as distribution packages run
 * it) whose data directory root now owns (a copy or a restore by hand run with sudo), so etcd cannot even list it.
 * The guided restore (realistic node, real sshd and sudo, real etcd 3.4 run as etcd by the systemctl stand-in)
 * notes the owner from the unit's User=, not from the old directory, gives the restored directory to etcd, and
 * etcd starts on it and serves every key of the backup.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { SessionService } from '../../electron/services/sessions/session-service';
import { SessionStore } from '../../electron/services/sessions/session-store';
import { playbookById } from '../../shared/guided/playbooks';
import { variablesFromDatastore } from '../../shared/guided/variables';
import { detectNode } from '../../shared/node/detect';
import { makeGolden, requireEtcd, tempDir } from '../helpers/etcd';
import { realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { walkSession } from '../helpers/etcd-cluster-nodes';
import { BACKUP_SCRIPT, SYSTEMD_ETCD_UNIT, connectedNode, kubekeyEtcdFiles, releaseNode, sessionNodeOver, servedKeys } from '../helpers/guided-node';

const RUN = requireEtcd() && sshdAvailable() && realisticNodesAvailable();

describe.runIf(RUN)('guided session: restore for a unit with User=etcd over a data dir root owns', () => {
  let tmp: string;
  let node: RealisticNode;
  let conn: SshConnection;
  let backupKeys: Map<string, string>;
  let store: SessionStore;
  let clientUrl: string;

  beforeAll(async () => {
    tmp = await tempDir('guided-owner');
    const g = await makeGolden(path.join(tmp, 'etcd'), { keys: 30 });
    clientUrl = g.endpoint.clientUrl;
    const files = kubekeyEtcdFiles(g.endpoint, { clusterState: 'existing' });
    files['/etc/systemd/system/etcd.service'] = SYSTEMD_ETCD_UNIT.replace('User=root', 'User=etcd');
    ({ node, conn } = await connectedNode(tmp, { files, copies: { '/var/lib/etcd': g.dir } }));
    // A healthy member run as etcd, its cron backup, then the data dir handed to root (mode 700): etcd stops.
    const up = await node.exec('chown -R etcd:etcd /var/lib/etcd && chmod 700 /var/lib/etcd && systemctl start etcd');
    expect(up.code, up.stderr).toBe(0);
    let served = 0;
    for (let i = 0; i < 100 && served !== 30; i++) {
      await new Promise((r) => setTimeout(r, 200));
      served = await servedKeys(clientUrl).then(
        (k) => k.size,
        () => 0,
      );
    }
    expect(served).toBe(30);
    const r = await node.exec(`sh ${BACKUP_SCRIPT}`, 60_000);
    expect(r.code, r.stderr).toBe(0);
    backupKeys = await servedKeys(clientUrl);
    const broken = await node.exec('systemctl stop etcd && chown -R root:root /var/lib/etcd && systemctl start etcd; sleep 2; systemctl is-active etcd');
    expect(broken.stdout).toMatch(/inactive/);
    expect((await node.exec('journalctl -u etcd --no-pager')).stdout).toContain('error listing data dir: /var/lib/etcd');
    store = new SessionStore(path.join(tmp, 'guided'), playbookById);
  }, 240_000);

  afterAll(async () => {
    await store?.close();
    await releaseNode({ conn, node, tmp });
  });

  it('gives the restored directory to the unit’s user; etcd (as etcd) starts and serves every key', async () => {
    const sessionNode = sessionNodeOver(conn, node);
    const card = await detectNode(sessionNode, { sudo: true, target: sessionNode.host });
    const ds = card.datastores[0]!;
    expect(ds).toMatchObject({ managedBy: 'systemd', dataDir: '/var/lib/etcd', running: false });
    const service = new SessionService({ store, nodeFor: () => sessionNode });
    const s0 = await service.create({ playbookId: 'etcd-systemd-restore', connectionId: 'c1', variables: variablesFromDatastore(ds), language: 'en' });
    const { walked, state } = await walkSession(service, s0.sessionId, {
      skip: { 'kubectl-nodes': 'no kubectl on this test node: etcd is checked directly' },
    });
    expect(walked).toContain('chown');
    // The owner is the unit's user, not root (who owns the old directory).
    expect(state.variables).toMatchObject({ ownerUser: 'etcd', ownerGroup: 'etcd' });
    const chown = state.events.filter((e) => e.type === 'command-finished' && e.stepId === 'chown').at(-1);
    expect(chown?.type === 'command-finished' ? chown.command : '').toMatch(/^chown -R etcd:etcd \/var\/lib\/etcd && chmod 700 \/var\/lib\/etcd/);
    expect(state.status).toMatchObject({ owner: 'passed', chown: 'passed', 'start-etcd': 'passed', 'wait-healthy': 'passed', 'count-keys': 'passed' });

    // etcd, run as etcd, serves every key of the backup with its value from a directory etcd owns.
    expect(await servedKeys(clientUrl)).toEqual(backupKeys);
    const etcdUid = Number((await node.exec('id -u etcd')).stdout.trim());
    expect((await fs.stat(node.hostPath('/var/lib/etcd/member/snap/db'))).uid).toBe(etcdUid);
    expect((await node.exec('ps -o user= -p "$(cat /var/lib/lifeboat-standin/etcd.service.pid)"')).stdout.trim()).toBe('etcd');
    // The old directory is aside as it was: root's.
    const aside = (await fs.readdir(node.hostPath('/var/lib'))).filter((n) => n.startsWith('etcd.lifeboat-'));
    expect(aside).toHaveLength(1);
    expect((await fs.stat(node.hostPath(`/var/lib/${aside[0]}`))).uid).toBe(0);
    await service.finish(s0.sessionId, 'healthy');
  }, 300_000);
});
