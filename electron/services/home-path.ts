/**
 * A path typed by the user that starts with \`~\`: its own module (no SSH import), so that the CLI's local commands
 * and the path confinement load without the SSH stack.
 */
import * as os from 'node:os';
import * as path from 'node:path';

/** \`~/.ssh/id_x\` typed into the form means the home directory, as in ssh_config. */
export function expandHome(p: string): string {
  return p === '~' ? os.homedir() : p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}
