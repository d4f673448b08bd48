/**
 * A file that starts dockerd but is missing from DOCKER_FILES would run beside
 * the browser tests again, and their page loads would fail now and then with
 * `net::ERR_NETWORK_CHANGED` (a CI run failed that way). Keep the list whole.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MACHINE_WIDE_FILES } from './alone-files';
import { DOCKER_FILES } from './docker-files';

const REPO = path.resolve(__dirname, '../..');

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...testFiles(rel));
    else if (entry.name.endsWith('.test.ts')) out.push(rel);
  }
  return out;
}

/** Helpers that start a dockerd of their own (directly or through another helper). */
const DOCKER_HELPERS = /from '[./]*(?:helpers\/)?(?:dockerd|kind-docker-host)'/;

describe('the suite runs Docker apart from the browser tests', () => {
  it('every test file that starts dockerd is in DOCKER_FILES, and every listed file exists and starts it', () => {
    const starting = testFiles('test').filter((f) => DOCKER_HELPERS.test(readFileSync(path.join(REPO, f), 'utf8')));
    expect(starting.sort()).toEqual([...DOCKER_FILES].sort());
  });
});

describe('the suite runs machine-wide sudoers changes apart from the other sudo tests', () => {
  it('every test file that installs a NOPASSWD rule in /etc/sudoers.d is in MACHINE_WIDE_FILES, and each listed file does', () => {
    const toggling = testFiles('test').filter((f) => {
      const text = readFileSync(path.join(REPO, f), 'utf8');
      return /sudoersDropIn\(/.test(text) && /NOPASSWD/.test(text.replace(/^\s*(?:\/\/|\*).*$/gm, ''));
    });
    expect(toggling.sort()).toEqual([...MACHINE_WIDE_FILES].sort());
  });
});
