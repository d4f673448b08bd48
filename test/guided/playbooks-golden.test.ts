/**
 * Every playbook, as data, against the copy in test/fixtures/guided/playbooks.json.
 * The playbooks are built with small step builders shared between files; a
 * change to a builder must not change any playbook by accident. When a
 * playbook is meant to change, regenerate the copy with
 * `LIFEBOAT_PLAYBOOKS_GOLDEN=write npx vitest run test/guided/playbooks-golden.test.ts`
 * and review its diff.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PLAYBOOKS } from '../../shared/guided/playbooks';

const GOLDEN = path.join(__dirname, '..', 'fixtures', 'guided', 'playbooks.json');

describe('playbooks as data', () => {
  it('are exactly the reviewed copy (every step, command, text in both languages, in order)', async () => {
    const now = JSON.stringify(PLAYBOOKS, null, 2) + '\n';
    if (process.env.LIFEBOAT_PLAYBOOKS_GOLDEN === 'write') await fs.writeFile(GOLDEN, now);
    const golden = await fs.readFile(GOLDEN, 'utf8');
    // Values first (a readable diff of what differs), then the text itself (key order too).
    expect(JSON.parse(now)).toEqual(JSON.parse(golden));
    expect(now).toBe(golden);
  });
});
