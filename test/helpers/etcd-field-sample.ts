/**
 * The field report's damage as a sample for the web-mode back end: a real
 * etcd 3.4 member's data dir (300 keys) with a branch element of the key
 * bucket pointing at page 0 (etcd panics on it), laid out as a samples folder
 * (`<tmp>/samples/index.json` naming it `field`) so the back end opens it as
 * sample `field` (web mode never reads a path the client names). Its tree
 * hash is taken once it is damaged: the tests compare it again at the end.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { copyDir, hashTree, makeGolden, type EtcdGolden } from './etcd';
import { ETCD_DAMAGE_CASES } from './etcd-damage';

export const FIELD_CASE = 'bbolt: branch element points at page 0';

export interface FieldReportSample {
  /** The undamaged member: its keys and values are what a salvage must give back. */
  golden: EtcdGolden;
  /** The samples folder to give the web server (`samplesDir`). */
  samplesDir: string;
  /** The damaged data dir inside it. */
  input: string;
  /** hashTree(input) once damaged. */
  inputHash: string;
}

export async function makeFieldReportSample(tmp: string): Promise<FieldReportSample> {
  const golden = await makeGolden(path.join(tmp, 'golden'), { keys: 300, valueSize: 64 });
  const samplesDir = path.join(tmp, 'samples');
  const input = path.join(samplesDir, 'field', 'etcd-data');
  await fs.mkdir(path.dirname(input), { recursive: true });
  await copyDir(golden.dir, input);
  const damage = ETCD_DAMAGE_CASES.find((c) => c.name === FIELD_CASE);
  if (!damage) throw new Error(`no damage case named ${FIELD_CASE}`);
  await damage.damage(input);
  await fs.writeFile(
    path.join(samplesDir, 'index.json'),
    JSON.stringify([
      { id: 'field', dir: 'field/etcd-data', titleKey: 'sample.etcdFieldReport.title', descriptionKey: 'sample.etcdFieldReport.description', engine: 'etcd' },
    ]),
  );
  return { golden, samplesDir, input, inputHash: await hashTree(input) };
}
