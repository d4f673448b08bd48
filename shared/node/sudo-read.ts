/**
 * The read-only commands "Validate in place" runs as root on a node (through sudo, or as `sh -c` for a root login):
 * written once, for the back end that sends them (electron/services/ssh/sudo-source.ts) and the renderer that
 * shows them before anything runs (renderer/src/features/node/commands.ts), so the text on screen is the text
 * that runs.
 */
import { quoteAlways } from './shell';

/**
 * The listing `find` prints: depth, type (of what a symbolic link leads to: `N` nowhere, `L` a loop), size, mtime
 * (s.fraction), name, link text (empty for no link); each field NUL-terminated.
 */
export function sudoListCommand(dir: string): string {
  return `find -H ${quoteAlways(dir)} -maxdepth 1 -printf '%d\\0%Y\\0%s\\0%T@\\0%f\\0%l\\0'`;
}

/** Size and mtime of what a symbolic link to a file leads to (the listing gives the link's own; run only for such links). */
export function sudoLinkedFileStatCommand(file: string): string {
  return `stat -L -c '%s %Y' -- ${quoteAlways(file)}`;
}

/**
 * Bytes [offset, offset+length) of `file`, nothing else (GNU dd; seeks, does not read the skipped part). Offset and
 * length may be placeholders such as `<offset>` where the command is shown before it runs.
 */
export function sudoReadCommand(file: string, offset: number | string, length: number | string): string {
  return `dd if=${quoteAlways(file)} bs=64K iflag=skip_bytes,count_bytes skip=${offset} count=${length} status=none`;
}
