import {
  decodeConfChange,
  decodeConfChangeV2,
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMetadata,
  decodeRaftSnapshot,
  decodeWalSnapshot,
} from '../../../shared/formats/etcd/raft-entry';
import {
  decodeInternalRequest,
  decodeInternalRequestFromFields,
  encodeCompactionRequest,
  encodeDeleteRangeRequest,
  encodePutRequest,
  requestCountKey,
  summarizeRequest,
  type InternalRequest,
} from '../../../shared/formats/etcd/internal-request';
import { mutateBytes } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { enc } from './corpus';
import { etcdWalCorpus, raftSeeds, type RaftSeeds } from './etcd-corpus';

/** A decoded request as text (bigints and bytes spelled out), to compare two decoders' answers. */
function requestJson(r: InternalRequest | null): string {
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Array.from(v) : v));
}

function checkRequest(r: InternalRequest, depth: number): void {
  check(depth <= 17, `txn nested ${depth} deep (limit 16)`);
  if (r.kind !== 'txn') return;
  check(r.success.length + r.failure.length <= 20_000, `txn with ${r.success.length}+${r.failure.length} ops`);
  for (const x of [...r.success, ...r.failure]) checkRequest(x, depth + 1);
}

export const etcdRaft: FuzzTarget<Uint8Array, Uint8Array[]> = {
  name: 'etcd-raft',
  what: "raft messages in WAL records (Entry, HardState, ConfChange(V2), ConfState, Snapshot, walpb.Snapshot/Metadata) and InternalRaftRequest/v2 Request entry data, from the samples' WALs and .snap files: no throw, bounded lists and nesting, plain data",
  corpus: async () => {
    const s: RaftSeeds = raftSeeds(await etcdWalCorpus());
    const encoded = [
      encodePutRequest(7n, enc('/registry/pods/default/a'), enc('k8s\0value'), 0x1234n),
      encodeDeleteRangeRequest(8n, enc('/registry/'), enc('/registry0')),
      encodeCompactionRequest(9n, 12345, true),
    ];
    // A few of each kind: the WAL has hundreds of near-identical puts.
    return [...s.entries.slice(0, 40), ...s.requests.slice(0, 40), ...s.confChanges, ...s.hardStates.slice(0, 5), ...s.snapshots, ...encoded];
  },
  generate: (r, corpus) => mutateBytes(r, r.pick(corpus), 1024),
  run: (b) => {
    const results: unknown[] = [
      decodeHardState(b),
      decodeConfChange(b),
      decodeConfChangeV2(b),
      decodeConfState(b),
      decodeRaftSnapshot(b),
      decodeWalSnapshot(b),
      decodeMetadata(b),
    ];
    const e = decodeEntry(b);
    results.push(e);
    if (e.ok)
      check(
        Number.isSafeInteger(e.value.index) && e.value.index >= 0 && Number.isSafeInteger(e.value.term) && e.value.term >= 0,
        `entry index ${e.value.index} term ${e.value.term}`,
      );
    for (const data of [b, e.ok ? e.value.data : null]) {
      const req = decodeInternalRequest(data);
      check(requestJson(req) === requestJson(decodeInternalRequestFromFields(data)), 'direct request reader differs from the field-list decoder');
      if (!req) continue;
      checkRequest(req, 0);
      check(summarizeRequest(req).length <= 64 * 1024, 'request summary over 64 KiB');
      check(requestCountKey(req).length > 0, 'empty request count key');
      results.push(req);
    }
    const snap = results[4] as ReturnType<typeof decodeRaftSnapshot>;
    if (snap.ok)
      for (const list of [snap.value.confState.voters, snap.value.confState.learners]) check(list.length <= 4096, `${list.length} ids in a ConfState`);
    checkPlain(results, 'raft decodes');
  },
  files: (b) => ({ 'message.bin': b }),
  size: (b) => b.length,
};
