import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { localDirectory } from '../../electron/services/fs-source';
import { validateDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { decodeConfiguration, encodeConfiguration } from '../../shared/formats/dqlite/configuration';

const SAMPLES = path.join(__dirname, '..', '..', 'resources', 'samples');

describe('raft configuration roles', () => {
  it('decodes raft.h role codes (0 standby, 1 voter, 2 spare), not go-dqlite NodeRole order', () => {
    const bytes = encodeConfiguration([
      { id: '1', address: 'a:1', role: 'voter' },
      { id: '2', address: 'b:2', role: 'standby' },
      { id: '3', address: 'c:3', role: 'spare' },
    ]);
    // version(1) + n(8) + id(8) + "a:1\0"(4) -> role byte of the first server at 21.
    expect(bytes[21]).toBe(1);
    const decoded = decodeConfiguration(bytes);
    if (!decoded.ok) throw new Error(decoded.error);
    expect(decoded.servers.map((s) => s.role)).toEqual(['voter', 'standby', 'spare']);
  });

  it('a real single-node dqlite-demo snapshot shows its node as a voter, agreeing with cluster.yaml', async () => {
    const dir = localDirectory(path.join(SAMPLES, 'dqlite-healthy'));
    try {
      const report = await validateDqliteDirectory(dir);
      const m = report.dqlite!.membership;
      expect(m.servers).toHaveLength(1);
      expect(m.servers[0].role).toBe('voter');
      expect(m.clusterYaml?.[0].role).toBe('voter');
      expect(report.findings.filter((f) => f.code.startsWith('membership'))).toEqual([]);
    } finally {
      await dir.close();
    }
  });
});
