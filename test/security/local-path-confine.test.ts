/**
 * The one "is this path inside that folder" rule every local confinement uses (web mode's copies
 * root, key files in ~/.ssh, the upload picker, the bundled samples): by path components, not by
 * string prefix, with the folder itself inside for `isInside` and not for `strictlyInside`.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInside, strictlyInside } from '../../electron/services/local-path-confine';
import { checkKeyFiles } from '../../electron/services/ssh/server-paths';

describe('isInside / strictlyInside', () => {
  const cases: [parent: string, child: string, inside: boolean, strictly: boolean][] = [
    ['/srv/copies', '/srv/copies', true, false],
    ['/srv/copies', '/srv/copies/', true, false],
    ['/srv/copies/', '/srv/copies', true, false],
    ['/srv/copies', '/srv/copies/a', true, true],
    ['/srv/copies', '/srv/copies/a/b/c.db', true, true],
    ['/srv/copies', '/srv/copies/a/../b', true, true],
    ['/srv/copies', '/srv/copies/a/../..', false, false],
    ['/srv/copies', '/srv/copies-other/a', false, false],
    ['/srv/copies', '/srv/copie', false, false],
    ['/srv/copies', '/srv', false, false],
    ['/srv/copies', '/', false, false],
    ['/srv/copies', '/etc/passwd', false, false],
    ['/', '/etc/passwd', true, true],
  ];
  it.each(cases)('%s holds %s: %s, strictly %s', (parent, child, inside, strictly) => {
    expect(isInside(parent, child)).toBe(inside);
    expect(strictlyInside(parent, child)).toBe(strictly);
  });
});

describe('web mode key files: strictly inside ~/.ssh, by name and after links', () => {
  let dir: string;
  let keys: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-confine-'));
    keys = path.join(dir, '.ssh');
    await fs.mkdir(keys);
    await fs.writeFile(path.join(keys, 'id_ed25519'), 'key');
    await fs.writeFile(path.join(dir, 'outside'), 'key');
    await fs.symlink(path.join(dir, 'outside'), path.join(keys, 'leads-out'));
  });
  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('takes a key inside, refuses the folder itself, a sibling folder with the same prefix and a link out', async () => {
    const web = (file: string) => checkKeyFiles({ identityFiles: [file] }, keys, 'web');
    await expect(web(path.join(keys, 'id_ed25519'))).resolves.toBeUndefined();
    for (const refused of [keys, `${keys}-other/id`, path.join(keys, '..', 'outside'), path.join(keys, 'leads-out')]) {
      await expect(web(refused), refused).rejects.toMatchObject({ code: 'forbidden' });
    }
    // Electron mode takes the user's own paths.
    await expect(checkKeyFiles({ identityFiles: [path.join(dir, 'outside')] }, keys, 'electron')).resolves.toBeUndefined();
  });
});
