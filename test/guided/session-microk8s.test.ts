/**
 * Field report 1 end to end: a MicroK8s-like realistic node (real sshd in its
 * own mount namespace; `snap`/`microk8s` stand-ins that run the real dqlite,
 * dqlite-demo with libraft and libdqlite, on the MicroK8s backend path) whose
 * backend has a corrupt closed segment after a power cut, so dqlite will not
 * start. Detection finds the backend, the journal line matches the libraft
 * signature and suggests the MicroK8s playbook, the backend is copied off
 * through sudo and validated, and the playbook runs the validator's own
 * repair (quarantine, never delete) on the node: dqlite starts and serves
 * every key the report says is kept.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { sudoCopyOut } from '../../electron/services/ssh/sudo-copy';
import { SessionService } from '../../electron/services/sessions/session-service';
import { SessionStore } from '../../electron/services/sessions/session-store';
import { localDirectory } from '../../electron/services/fs-source';
import { analyzeLogText } from '../../shared/logs';
import { playbookById, suggestPlaybooks } from '../../shared/guided/playbooks';
import { dqliteRepairCommands, variablesFromDatastore } from '../../shared/guided/variables';
import { detectNode } from '../../shared/node/detect';
import { validateDirectory } from '../../shared/validate';
import { goldenStopped } from '../helpers/dqlite-goldens';
import { freePort, requireDqliteDemo, withLock } from '../helpers/dqlite-demo';
import { indexOfKeys, listSegments } from '../helpers/dqlite-files';
import { tempDir, hashTree } from '../helpers/etcd';
import { startRealisticNode, realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { connectByKey, keyClient } from '../helpers/ssh-node';
import { sshdAvailable } from '../helpers/sshd';
import { sessionNodeOver } from '../helpers/guided-node';

const RUN = requireDqliteDemo() && sshdAvailable() && realisticNodesAvailable();
const BACKEND = '/var/snap/microk8s/current/var/kubernetes/backend';
const PARENT = '/var/snap/microk8s/current/var/kubernetes/dqlite-demo';

describe.runIf(RUN)('guided session: MicroK8s with a corrupt dqlite segment (report 1)', () => {
  let tmp: string;
  let node: RealisticNode;
  let conn: SshConnection;
  let api: string;
  let keys: Map<string, string>;
  let dbAddress: string;
  let badSegment: string;

  beforeAll(async () => {
    tmp = await tempDir('guided-r1');
    const g = await goldenStopped();
    keys = g.keys;
    dbAddress = g.dbAddress;
    const damaged = path.join(tmp, 'damaged');
    await fs.cp(g.dataDir, damaged, { recursive: true });
    // A power cut: one byte of a middle closed segment's data is wrong (its batch CRC fails).
    const closed = (await listSegments(damaged)).filter((s) => !s.open);
    badSegment = closed[Math.floor(closed.length / 2)]!.name;
    const file = path.join(damaged, badSegment);
    const bytes = await fs.readFile(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x5a;
    await fs.writeFile(file, bytes);
    api = `127.0.0.1:${await freePort()}`;
    node = await startRealisticNode({
      files: { '/var/snap/microk8s/current/lifeboat-standin.env': `API=${api}\nDB=${dbAddress}\nPARENT=${PARENT}\n` },
      copies: { [`${PARENT}/${dbAddress}`]: damaged },
      setup: [`mkdir -p ${BACKEND} && mount --bind ${PARENT}/${dbAddress} ${BACKEND}`],
    });
    const client = await keyClient(node.sshd, tmp);
    conn = await connectByKey(node.sshd, client);
  }, 300_000);

  afterAll(async () => {
    conn?.close();
    await node?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('detects, matches the journal, copies and validates, repairs on the node, and dqlite serves every kept key', async () => {
    // dqlite-demo refuses another address than the one in info.yaml; the golden's address is shared with other suites.
    await withLock(`dqlite-${dbAddress}`, 300_000, async () => {
      const sessionNode = sessionNodeOver(conn, node);
      const exec = sessionNode;
      const sudo = sessionNode.sudo;

      // dqlite does not start on the damaged backend: what the operator sees in the journal.
      const start = await node.exec('snap start microk8s; rc=$?; cat /var/lib/lifeboat-standin/k8s-dqlite.log; exit $rc', 60_000);
      expect(start.code, start.stdout + start.stderr).not.toBe(0);
      const journal = start.stdout
        .split('\n')
        .filter((l) => /raft_start|load closed segment/.test(l))
        .map((l) => `Dec 02 04:33:10 node microk8s.daemon-k8s-dqlite[2211]: ${l}`);
      expect(journal.length).toBeGreaterThan(0);
      const logs = analyzeLogText('k8s-dqlite', journal.join('\n'));
      const matched = Object.keys(logs.counts).filter((id) => logs.counts[id]! > 0);
      expect(suggestPlaybooks(matched, null).map((p) => p.id)).toEqual(['microk8s-dqlite']);

      const card = await detectNode(exec, { sudo: true, target: sessionNode.host });
      const ds = card.datastores.find((d) => d.engine === 'dqlite')!;
      expect(ds).toMatchObject({ managedBy: 'snap', dataDir: BACKEND });

      const store = new SessionStore(path.join(tmp, 'guided'), playbookById);
      const service = new SessionService({ store, nodeFor: () => sessionNode });
      let s = await service.create({ playbookId: 'microk8s-dqlite', connectionId: 'c', variables: variablesFromDatastore(ds), language: 'en' });
      const id = s.sessionId;

      // The copy-validate step: copy the backend off through sudo (hashes compared) and validate the copy.
      const copy = await sudoCopyOut({ remotePath: BACKEND, localDir: path.join(tmp, 'copies'), sudo, force: false });
      expect(copy.allMatch).toBe(true);
      const copyHash = await hashTree(copy.localPath);
      const report = await validateDirectory(localDirectory(copy.localPath), { nodePath: { path: BACKEND, origin: 'copied-from' } });
      expect(await hashTree(copy.localPath)).toBe(copyHash);
      expect(report.startable).toBe(false);
      expect(report.findings.some((f) => f.file === badSegment && f.severity === 'error')).toBe(true);
      const repairCommands = dqliteRepairCommands(report.dqlite!.repair);
      expect(repairCommands).toContain(`${BACKEND}/`);
      // The step runs through sudo once: the plan's own sudo before each command is not in what is shown and run.
      expect(repairCommands).not.toMatch(/\bsudo\b/);
      s = await service.copyValidated(id, 'copy-validate', {
        ok: true,
        summary: report.summary,
        findings: report.findings.map((f) => ({ severity: f.severity, text: f.engineError ?? f.message })),
      });
      expect(s.status['copy-validate']).toBe('passed');
      s = await service.setVariable(id, 'repairCommands', repairCommands);

      for (const stepId of ['stop', 'quarantine', 'start']) {
        expect(s.current).toBe(stepId);
        await service.prepareChange(id, stepId);
        s = await service.run(id, stepId, { confirm: { by: 'test' } });
        expect(s.status[stepId], JSON.stringify(s.events.slice(-3))).toBe('passed');
      }
      const shown = s.events.filter((e) => e.type === 'command-shown' && e.stepId === 'quarantine').at(-1);
      expect(shown).toMatchObject({ command: repairCommands, sudo: true });
      s = await service.run(id, 'verify');
      expect(s.status['verify']).toBe('passed');
      s = await service.finish(id, 'healthy');
      expect(s.finished?.outcome).toBe('healthy');

      // dqlite serves every key the plan keeps, with its value; nothing was deleted (the quarantine holds the rest).
      const index = await indexOfKeys(copy.localPath);
      const lost = report.dqlite!.repair.lost.filter((r) => !r.coveredBySnapshot);
      const kept = [...keys].filter(([k]) => {
        const i = index.get(k);
        return i !== undefined && !lost.some((r) => i >= r.first && i <= r.last);
      });
      expect(kept.length).toBeGreaterThan(0);
      let served = 0;
      for (const [k, v] of kept) {
        const res = await fetch(`http://${api}/${k}`, { signal: AbortSignal.timeout(10_000) });
        const text = await res.text();
        if (text.replace(/\n$/, '') === v) served++;
      }
      expect(served).toBe(kept.length);
      const quarantine = await fs.readdir(node.hostPath('/var/snap/microk8s/current/var/kubernetes/lifeboat-quarantine'));
      expect(quarantine.length).toBeGreaterThan(0);
      await node.exec('snap stop microk8s', 30_000);
      await store.close();
    });
  }, 600_000);
});
