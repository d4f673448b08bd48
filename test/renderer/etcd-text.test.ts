/**
 * Every catalog key the etcd views build at run time exists in English and
 * Chinese. The unions are listed as Records so that the type checker fails
 * this file when the contract gains a value.
 */
import { describe, expect, it } from 'vitest';
import type { EtcdInputKind, EtcdLayout, WalRecordType } from '../../shared/contract/etcd';
import { PAGE_CODES } from '../../shared/contract/etcd';
import { MESSAGES } from '../../shared/i18n';
import type { WalMarkerKind, WalTone } from '../../renderer/src/features/etcd/wal-model';

const INPUTS: Record<EtcdInputKind, true> = { 'data-dir': true, 'member-dir': true, 'wal-dir': true, 'db-file': true, 'snapshot-db': true };
const LEFTOVERS: Record<EtcdLayout['leftovers'][number]['kind'], true> = { broken: true, tmp: true, 'snap-db': true, unknown: true };
const RECORDS: Record<WalRecordType, true> = { metadata: true, entry: true, state: true, crc: true, snapshot: true, unknown: true };
const TONES: Record<WalTone, true> = { ok: true, warning: true, torn: true, bad: true, 'not-read': true, 'before-snapshot': true, empty: true };
const MARKERS: Record<WalMarkerKind, true> = { commit: true, 'consistent-index': true, snapshot: true, 'snap-file': true, 'last-index': true };

const keys = [
  ...Object.keys(INPUTS).map((k) => `etcdUi.input.${k}`),
  ...Object.keys(LEFTOVERS).map((k) => `etcdUi.leftovers.${k}`),
  ...Object.keys(RECORDS).map((k) => `etcdUi.wal.recordType.${k}`),
  ...Object.keys(TONES).map((k) => `etcdUi.wal.tone.${k}`),
  ...Object.keys(MARKERS).map((k) => `etcdUi.wal.marker.${k}`),
  ...['snapshot', 'commit', 'consistent-index'].map((k) => `etcdUi.wal.legend.${k}`),
  ...Object.keys(PAGE_CODES).map((k) => `etcdUi.pages.kind.${k}`),
  ...['sample.etcdHealthy', 'sample.etcdFieldReport'].flatMap((k) => [`${k}.title`, `${k}.description`]),
];

describe('etcd view texts', () => {
  it('has every run-time key in both languages, and the Chinese is Chinese', () => {
    for (const k of keys) {
      expect(MESSAGES.en[k], k).toBeTruthy();
      expect(MESSAGES['zh-CN'][k], k).toBeTruthy();
    }
    const notHan = keys.filter((k) => !/[\u4e00-\u9fff]/.test(MESSAGES['zh-CN'][k]) && !/^(etcdUi\.wal\.recordType\.crc|etcdUi\.pages\.kind\.meta)$/.test(k));
    expect(notHan).toEqual([]);
  });
});
