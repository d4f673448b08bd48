import { forEachLeafItem } from '../../../shared/formats/etcd/bbolt-db';
import { memorySource } from '../../../shared/bytes/byte-source';
import { summarizeK8sValue } from '../../../shared/formats/etcd/k8s-value';
import {
  decodeKeyValue,
  decodeKeyValueFast,
  encodeKeyValue,
  gogoKeyValueError,
  gogoKeyValueErrorWithin,
  keyValueKeyFast,
  keyValueModRevisionAt,
  READS_PAST_READABLE,
  type KeyValue,
} from '../../../shared/formats/etcd/kv';
import { decodeRevisionKey } from '../../../shared/formats/etcd/revision';
import { encodeK8sProtobuf, type TestObject } from '../../etcd/k8s-encode';
import { mutateBytes, mutateText } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { enc, etcdSampleFiles } from './corpus';
import { JSON_TOKENS } from './dictionaries';

interface KvCorpus {
  /** mvcc KeyValue records from the samples' `key` bucket. */
  records: Uint8Array[];
  /** Revision keys of the same bucket. */
  keys: Uint8Array[];
  /** Values as Kubernetes stores them: k8s\0 protobuf, JSON, encrypted, plain. */
  values: Uint8Array[];
}

type KvInput = { record: Uint8Array; key: Uint8Array; value: Uint8Array };

const POD: TestObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  name: 'etcd-k8s-master',
  namespace: 'kube-system',
  uid: '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
  creationSeconds: 1710304413,
  labels: { component: 'etcd', tier: 'control-plane' },
  annotations: { 'kubernetes.io/config.hash': 'a1b2c3' },
  owners: [{ apiVersion: 'v1', kind: 'Node', name: 'k8s-master', uid: '11111111-2222-3333-4444-555555555555', controller: true }],
};

function sameKv(a: KeyValue, b: KeyValue): boolean {
  return (
    a.createRevision === b.createRevision &&
    a.modRevision === b.modRevision &&
    a.version === b.version &&
    a.lease === b.lease &&
    Buffer.from(a.key).equals(Buffer.from(b.key)) &&
    Buffer.from(a.value).equals(Buffer.from(b.value))
  );
}

export const etcdKv: FuzzTarget<KvInput, KvCorpus> = {
  name: 'etcd-kv',
  what: "mvcc KeyValue (decodeKeyValue and its fast path agree), revision keys, Kubernetes value summaries (k8s\\0 protobuf with ObjectMeta, JSON, k8s:enc:) from the samples' key bucket and built values: no throw, bounded maps, plain data",
  corpus: async () => {
    const records: Uint8Array[] = [];
    const keys: Uint8Array[] = [];
    for (const db of etcdSampleFiles((n) => n === 'member/snap/db')) {
      await forEachLeafItem(memorySource('db', db), (item) => {
        if (item.bucket !== 'key' || records.length >= 200) return;
        records.push(item.value.slice());
        keys.push(item.key.slice());
      });
    }
    check(records.length > 10, `only ${records.length} KeyValue records in the samples`);
    const pod = new Uint8Array(encodeK8sProtobuf(POD));
    const json = enc(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'kube-proxy',
          namespace: 'kube-system',
          uid: POD.uid,
          resourceVersion: '412',
          creationTimestamp: '2024-03-13T04:33:33Z',
          labels: { app: 'kube-proxy' },
        },
        data: { 'config.conf': 'x' },
      }),
    );
    const values = [
      pod,
      json,
      enc('k8s:enc:aescbc:v1:key1:\u0001\u0002\u0003ciphertext'),
      enc('plain text value'),
      ...records
        .slice(0, 20)
        .map((r) => decodeKeyValue(r))
        .flatMap((d) => (d.ok ? [d.kv.value] : [])),
    ];
    return { records, keys, values };
  },
  generate: (r, c) => {
    const i = r.int(c.records.length);
    let value = r.pick(c.values);
    if (r.chance(0.15) && value[0] === 0x7b) value = enc(mutateText(r, new TextDecoder().decode(value), JSON_TOKENS, 8192));
    else if (r.chance(0.9)) value = mutateBytes(r, value, 1024);
    let record = c.records[i];
    if (r.chance(0.3)) {
      const d = decodeKeyValue(record);
      if (d.ok)
        record = encodeKeyValue({
          ...d.kv,
          value,
          createRevision: r.pick([0, d.kv.createRevision, 2 ** 53 - 1]),
          lease: r.pick([0n, d.kv.lease, -1n, 1n << 62n]),
        });
    }
    if (r.chance(0.8)) record = mutateBytes(r, record, 512);
    return { record, key: r.chance(0.7) ? mutateBytes(r, c.keys[i], 24) : c.keys[i], value };
  },
  run: ({ record, key, value }) => {
    const kv = decodeKeyValue(record);
    const fast = decodeKeyValueFast(record);
    check(kv.ok === fast.ok, `decodeKeyValue ok ${kv.ok} but the fast path ${fast.ok}`);
    if (kv.ok && fast.ok) check(sameKv(kv.kv, fast.kv), 'decodeKeyValue and the fast path disagree on a KeyValue');
    if (!kv.ok) check(kv.offset >= 0 && kv.offset <= record.length, `error offset ${kv.offset} outside ${record.length} bytes`);
    // A value bbolt hands out past the end of the file: where gogo gives an answer within the bytes that can be
    // read, it is the answer it gives over the whole record (it read nothing past them); with every byte
    // readable it never reads past them.
    const whole = gogoKeyValueError(record);
    check(gogoKeyValueErrorWithin(record, record.length) === whole, 'gogoKeyValueErrorWithin over every byte differs from gogoKeyValueError');
    for (const cut of [0, 1, record.length >> 1, record.length - 1]) {
      if (cut < 0 || cut > record.length) continue;
      const within = gogoKeyValueErrorWithin(record.subarray(0, cut), record.length);
      check(
        within === READS_PAST_READABLE || within === whole,
        `gogo over the first ${cut} of ${record.length} bytes says ${String(within)}, over all ${whole}`,
      );
    }
    // The mod_revision a salvage pass reads in place (framed, as in a leaf) is the decoder's, wherever both read one.
    const framed = new Uint8Array(record.length + 6);
    framed.set(record, 3);
    const mod = keyValueModRevisionAt(framed, 3, 3 + record.length);
    check(mod >= -1, `keyValueModRevisionAt: ${mod}`);
    if (kv.ok && mod >= 0) check(Math.min(mod, Number.MAX_SAFE_INTEGER) === kv.kv.modRevision, `mod_revision in place ${mod}, decoded ${kv.kv.modRevision}`);
    const k = keyValueKeyFast(record);
    if (k) check(k.length < record.length, `keyValueKeyFast: ${k.length}-byte key from ${record.length} bytes`);
    const rev = decodeRevisionKey(key);
    if (rev) check(Number.isSafeInteger(rev.main) && rev.main >= 0 && Number.isSafeInteger(rev.sub) && rev.sub >= 0, `revision ${rev.main}_${rev.sub}`);
    const out: unknown[] = [kv, rev];
    for (const v of [value, kv.ok ? kv.kv.value : null]) {
      if (!v) continue;
      const s = summarizeK8sValue(v);
      check(Object.keys(s.labels ?? {}).length <= 256 && Object.keys(s.annotations ?? {}).length <= 256, 'more than 256 labels or annotations');
      check((s.ownerReferences ?? []).length <= 4096, `${s.ownerReferences?.length} owner references`);
      out.push(s);
    }
    checkPlain(out, 'kv decodes');
  },
  files: (x) => ({ 'record.bin': x.record, 'key.bin': x.key, 'value.bin': x.value }),
  size: (x) => x.record.length + x.key.length + x.value.length,
};
