/** A node command that outlasted `ssh.exec`'s time limit, in the UI's language. */
import type { ExecStopped } from '../../../../shared/contract/ssh';
import { t } from '../../lib/i18n.svelte';

export function stoppedSentence(s: ExecStopped): string {
  return t('ssh.exec.stopped', { seconds: s.seconds });
}
