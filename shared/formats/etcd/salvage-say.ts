/**
 * Findings of etcd salvage and repair written from the templates of
 * shared/i18n/etcd-salvage-text.ts: the English `message` is the
 * interpolated English template (the CLI and JSON read as before), `params`
 * (+ `messageKey` for a variant) let the UI show it in the user's language.
 */
import type { Finding } from '../../contract/findings';
import salvageText from '../../i18n/etcd-salvage-text';
import { templatedFinding, type TemplatedFindingInput } from './templated-finding';

export function salvageFinding(f: TemplatedFindingInput): Finding {
  return templatedFinding(salvageText.en, f);
}

/**
 * Which template says where etcd stops reading the WAL: the plain one names a
 * file and a byte; the variants a file only, a byte only, or neither.
 */
export function walStopVariant(file: string | null, offset: number | null): 'file' | 'offset' | 'nowhere' | undefined {
  if (file !== null) return offset === null ? 'file' : undefined;
  return offset === null ? 'nowhere' : 'offset';
}

/** The params of a WAL stop point, without the ones its variant does not name. */
export function walStopParams(file: string | null, offset: number | null): Record<string, string | number> {
  return { ...(file !== null ? { file } : {}), ...(offset !== null ? { offset } : {}) };
}
