/**
 * Issue 11 part 1, the reproducers through the real validator (what `lifeboat
 * validate` calls): the alias file, 100,000 `[` and 20,000 `- ` in
 * go-dqlite's membership caches each give a finding naming the file (byte
 * offset, both languages), never a hang or a crash, and the rest of the
 * report is what the healthy sample gives. The bounds themselves are tested
 * in test/text/bounded-yaml.test.ts.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryDirectory } from '../../shared/bytes/byte-source';
import { MEMBERSHIP_YAML_BOUNDS, parseClusterYaml, parseInfoYaml } from '../../shared/formats/dqlite/cluster-yaml';
import { validateDirectory } from '../../shared/validate';

const SAMPLE = path.resolve(__dirname, '../../resources/samples/dqlite-healthy');
const sampleFiles = (): Record<string, Uint8Array> => {
  const out: Record<string, Uint8Array> = {};
  for (const n of [
    '0000000000001025-0000000000001034',
    '0000000000001035-0000000000001040',
    '0000000000001041-0000000000001046',
    'cluster.yaml',
    'info.yaml',
    'metadata1',
    'snapshot-1-1024-1243943',
    'snapshot-1-1024-1243943.meta',
    'failure-domain',
  ]) {
    out[n] = new Uint8Array(readFileSync(path.join(SAMPLE, n)));
  }
  return out;
};
const enc = (s: string) => new TextEncoder().encode(s);

/** The 15 KB file: one anchor, 5,000 aliases to itself. */
const ALIAS_BOMB = `a: &a [${'*a,'.repeat(5000)}]`;

describe('membership YAML bounds in the validator (issue 11 reproducers)', () => {
  for (const name of ['info.yaml', 'cluster.yaml']) {
    it(`a 15 KB alias ${name} is a finding on that file, and the rest of the report is unchanged`, async () => {
      const healthy = await validateDirectory(memoryDirectory('backend', sampleFiles()));
      const files = sampleFiles();
      files[name] = enc(ALIAS_BOMB);
      const r = await validateDirectory(memoryDirectory('backend', files));
      const f = r.findings.filter((x) => x.code === 'membership.yaml-out-of-bounds');
      expect(f).toEqual([expect.objectContaining({ severity: 'warning', file: name, offset: 7 })]);
      expect(f[0].message).toBe(
        `${name} uses YAML aliases (*name, first at byte 7), which go-dqlite never writes and which can expand without bound; it was not parsed. Look at it by hand before trusting it.`,
      );
      expect(r.startable).toBe(healthy.startable);
      expect(r.dataLoss).toBe(healthy.dataLoss);
    });
  }

  it('100,000 `[`, 20,000 and 5,000 `- ` in cluster.yaml: a size or depth finding, no crash', async () => {
    for (const text of ['['.repeat(100_000), '- '.repeat(20_000), '- '.repeat(5_000)]) {
      const files = sampleFiles();
      files['cluster.yaml'] = enc(text);
      const r = await validateDirectory(memoryDirectory('backend', files));
      const f = r.findings.filter((x) => x.file === 'cluster.yaml');
      if (text.length > MEMBERSHIP_YAML_BOUNDS.maxBytes) {
        expect(f).toEqual([expect.objectContaining({ code: 'membership.yaml-out-of-bounds', offset: null })]);
        expect(f[0].message).toContain(`cluster.yaml is ${text.length} bytes, more than the ${MEMBERSHIP_YAML_BOUNDS.maxBytes}`);
      } else {
        // The line's indentation is one level, each `-` one more: the dash at 2 * (maxDepth - 1) is one too many.
        expect(f).toEqual([expect.objectContaining({ code: 'membership.yaml-out-of-bounds', offset: 2 * (MEMBERSHIP_YAML_BOUNDS.maxDepth - 1) })]);
        expect(f[0].message).toContain(`more than ${MEMBERSHIP_YAML_BOUNDS.maxDepth} deep`);
      }
    }
  });

  it('an ID that is a list holding a 64-bit integer (fuzz seed 311531592): read as text, never a crash', async () => {
    const text = 'Address: 127.0.0.1:19001\nID:\n- -3297041220608546238\nRole: 0\n';
    const info = parseInfoYaml(text);
    expect(info.ok && { id: info.value.id, address: info.value.address }).toEqual({ id: '["-3297041220608546238"]', address: '127.0.0.1:19001' });
    const cluster = parseClusterYaml(`- ${text.trimEnd().split('\n').join('\n  ')}\n`);
    expect(cluster.ok && cluster.value[0]!.id).toBe('["-3297041220608546238"]');
    const files = sampleFiles();
    files['info.yaml'] = enc(text);
    const r = await validateDirectory(memoryDirectory('backend', files));
    expect(r.findings.length).toBeGreaterThan(0);
  });

  it('invalid YAML is templated with the byte offset (UTF-8, not characters)', async () => {
    const files = sampleFiles();
    files['info.yaml'] = enc('Address: "ü"\nID: [1, 2\n');
    const r = await validateDirectory(memoryDirectory('backend', files));
    const f = r.findings.filter((x) => x.code === 'membership.yaml-invalid');
    expect(f).toHaveLength(1);
    expect(f[0].file).toBe('info.yaml');
    expect(f[0].message).toMatch(/^info\.yaml is not valid YAML \(byte \d+\): /);
    expect(f[0].offset).toBeLessThanOrEqual(files['info.yaml'].length);
  });
});
