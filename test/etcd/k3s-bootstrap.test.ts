/**
 * A db of a k3s or RKE2 server says so: their bootstrap data lives under `/bootstrap/` in their etcd (k3s
 * pkg/cluster/storage.go), and such a db's snapshot is restored with their own reset, not etcdctl. Real etcd 3.4
 * writes the keys: a live bootstrap key counts, a deleted one and a key that only begins like it do not, and a db
 * without one has no such finding.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGoldenWith, requireEtcd, tempDir } from '../helpers/etcd';
import { validateLocally } from '../helpers/validate-local';
import { translate } from '../../shared/i18n';

const RUN = requireEtcd();

describe.runIf(RUN)("a k3s or RKE2 server's db (bootstrap data under /bootstrap/)", () => {
  let tmp = '';
  let k3sDir = '';
  let plainDir = '';

  beforeAll(async () => {
    tmp = await tempDir('k3s-bootstrap');
    k3sDir = (
      await makeGoldenWith(path.join(tmp, 'k3s'), {}, async (node) => {
        await node.put('/registry/namespaces/default', '{"kind":"Namespace"}');
        await node.put('/bootstrap/2b8a4d4e4c1f', '{"salt":"c2FsdA==","ciphertext":"Y2lwaGVydGV4dA=="}');
        // An older token's key, migrated away (deleted), and keys that only begin like one.
        await node.put('/bootstrap/0f0f0f0f0f0f', 'old');
        await node.del('/bootstrap/0f0f0f0f0f0f');
        await node.put('/bootstrap', 'no slash after it');
        await node.put('/bootstrapped-note', 'not bootstrap data');
      })
    ).dir;
    plainDir = (await makeGoldenWith(path.join(tmp, 'plain'), {}, async (node) => void (await node.put('/registry/namespaces/default', '{}')))).dir;
  }, 120_000);
  afterAll(async () => {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('counts the live bootstrap keys and says whose db it is and how its snapshot is restored', async () => {
    const r = await validateLocally(k3sDir);
    expect(r.startable).toBe(true);
    expect(r.etcd?.schema?.bootstrapKeys).toBe(1);
    const f = r.findings.filter((x) => x.code === 'etcd.k3s-bootstrap');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'info', params: { keys: 1 } });
    expect(translate('en', 'finding.etcd.k3s-bootstrap')).toBe("A k3s or RKE2 server's etcd (bootstrap data)");
    expect(translate('en', 'finding.etcd.k3s-bootstrap.message', { keys: 1 })).toContain('k3s server --cluster-reset --cluster-reset-restore-path=FILE');
  });

  it('a db without one has no such finding', async () => {
    const r = await validateLocally(plainDir);
    expect(r.etcd?.schema?.bootstrapKeys).toBeUndefined();
    expect(r.findings.map((x) => x.code)).not.toContain('etcd.k3s-bootstrap');
  });
});
