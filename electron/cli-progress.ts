/**
 * The CLI's one progress line on stderr (a terminal only: a pipe or a log gets
 * none), redrawn at most every 100 ms and cleared before the result prints.
 */
import type { Progress } from '../shared/contract/progress';

export function progressPrinter(): { onProgress?: (p: Progress) => void; done(): void } {
  if (!process.stderr.isTTY) return { done() {} };
  let last = 0;
  let shown = false;
  let phase = '';
  return {
    onProgress(p: Progress) {
      const now = Date.now();
      // A new phase is shown at once (a short one would otherwise never be seen); within a phase at most every 100 ms.
      if (now - last < 100 && p.phase === phase) return;
      last = now;
      phase = p.phase;
      const pct = p.bytesTotal > 0 ? ` ${Math.floor((100 * p.bytesDone) / p.bytesTotal)}%` : '';
      const file = p.currentFile ? ` ${p.currentFile}` : '';
      const line = `${p.phase}${pct}${file}`.slice(0, (process.stderr.columns || 80) - 1);
      process.stderr.write(`\r\x1b[2K${line}`);
      shown = true;
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[2K');
    },
  };
}
