/** A node command that outlasted `ssh.exec`'s time limit, in the UI's language. */
import type { ExecStopped } from '../../../../shared/contract/ssh';
import { t } from '../../lib/i18n.svelte';

export function stoppedSentence(s: ExecStopped): string {
  if (s.endedOnNode === 'ended') return t('ssh.exec.stoppedEnded', { seconds: s.seconds });
  if (s.endedOnNode === 'gone') return t('ssh.exec.stoppedGone', { seconds: s.seconds });
  if (s.endedOnNode === 'unknown') return t('ssh.exec.stoppedUnknown', { seconds: s.seconds });
  return t('ssh.exec.stopped', { seconds: s.seconds });
}
