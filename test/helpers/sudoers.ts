/**
 * A test-owned sudoers drop-in under /etc/sudoers.d/ for the test user. Each
 * test file names its own (with the pid) so parallel files never clobber each
 * other; the name decides sort order, and with it which rule wins.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SudoersDropIn {
  readonly path: string;
  /** Install `rule` only after visudo accepts it: a broken file would lock sudo for everyone. */
  install(rule: string): Promise<void>;
  remove(): Promise<void>;
}

/** `/etc/sudoers.d/<name>-<pid>`, not yet written. */
export function sudoersDropIn(name: string): SudoersDropIn {
  const file = `/etc/sudoers.d/${name}-${process.pid}`;
  return {
    path: file,
    async install(rule: string) {
      const staged = `${file}.staged`;
      await fs.writeFile(staged, `${rule}\n`, { mode: 0o440 });
      try {
        await run('/usr/sbin/visudo', ['-c', '-q', '-f', staged]);
        await fs.rename(staged, file);
      } finally {
        await fs.rm(staged, { force: true });
      }
    },
    async remove() {
      await fs.rm(file, { force: true });
    },
  };
}
