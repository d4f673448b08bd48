/**
 * One repair or salvage sentence in two forms from one template of
 * shared/i18n/etcd-repair-result-text.ts: the English text the report and the
 * CLI print, and the catalog key + params (+ nested sentences in `texts`)
 * the UI shows in its language.
 */
import type { LocalText, TextParams } from '../../contract/text';
import type { EtcdRepairResultKey } from '../../i18n/etcd-repair-result-text';
import { translateLocal } from '../../i18n/index';

export interface RepairSaid {
  text: string;
  local: LocalText;
}

/** A sentence of the repair catalog, for nesting in another one (`texts`). */
export function repairText(key: EtcdRepairResultKey, params?: TextParams, texts?: LocalText['texts']): LocalText {
  return { key, ...(params ? { params } : {}), ...(texts ? { texts } : {}) };
}

/** The English text and the local form of one sentence. */
export function sayRepair(key: EtcdRepairResultKey, params?: TextParams, texts?: LocalText['texts']): RepairSaid {
  const local = repairText(key, params, texts);
  return { text: translateLocal('en', local), local };
}

/** etcd's or bbolt's own error text, kept as it is (quoted in Chinese). */
export function engineText(error: string): LocalText {
  return repairText('etcd-repair.engine', { error });
}
