import { crc32c } from '../../../shared/formats/etcd/crc32c';
import { decodeRaftSnapshot, type RaftSnapshot } from '../../../shared/formats/etcd/raft-entry';
import { decodeSnapBytes, encodeSnapFile } from '../../../shared/formats/etcd/snap';
import { bytesField, decodeMessage } from '../../../shared/formats/protobuf/wire';
import { mutateBytes, mutateText } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { etcdSampleFiles } from './corpus';
import { JSON_TOKENS } from './dictionaries';

interface SnapCorpus {
  files: Uint8Array[];
  /** The raftpb.Snapshot inside each file, decoded. */
  snapshots: RaftSnapshot[];
}

function varint(out: number[], v: number): void {
  let n = v;
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/** snappb.Snapshot{crc, data} around raw raftpb.Snapshot bytes, with the right CRC (so the mutation reaches the inner decoder). */
function wrap(data: Uint8Array): Uint8Array {
  const head: number[] = [0x08];
  varint(head, crc32c(data));
  head.push(0x12);
  varint(head, data.length);
  const out = new Uint8Array(head.length + data.length);
  out.set(head, 0);
  out.set(data, head.length);
  return out;
}

export const etcdSnap: FuzzTarget<Uint8Array, SnapCorpus> = {
  name: 'etcd-snap',
  what: 'etcd .snap decoder (snappb CRC, raftpb.Snapshot, v2 store members JSON) on mutated real .snap files and re-wrapped mutated snapshots: no throw, ok iff no error, plain data',
  corpus: () => {
    const files = etcdSampleFiles((n) => n.endsWith('.snap'));
    const snapshots: RaftSnapshot[] = [];
    for (const f of files) {
      const m = decodeMessage(f);
      const data = m.ok ? bytesField(m.fields, 2) : undefined;
      const s = data ? decodeRaftSnapshot(data) : null;
      check(s !== null && s.ok, 'a sample .snap does not decode');
      snapshots.push(s.value);
    }
    return { files, snapshots };
  },
  generate: (r, c) => {
    const i = r.int(c.files.length);
    const way = r.int(4);
    if (way === 0) return mutateBytes(r, c.files[i], 4096);
    const s = c.snapshots[i];
    if (way === 1) {
      const data = new TextEncoder().encode(
        mutateText(
          r,
          new TextDecoder().decode(s.data ?? new Uint8Array(0)),
          [...JSON_TOKENS, '"Children":', '"Value":', '"/0/members"', '"peerURLs":', '"removed"', '"attributes"', '\\"'],
          32 * 1024,
        ),
      );
      return encodeSnapFile({ ...s, data });
    }
    if (way === 2) {
      const confState = {
        ...s.confState,
        voters: r.chance(0.5) ? [] : [...s.confState.voters, BigInt(r.int(1 << 30)), 0n],
        learners: r.chance(0.8) ? s.confState.learners : [1n],
      };
      return encodeSnapFile({ ...s, index: r.pick([0, 1, s.index, 2 ** 53 - 1]), term: r.pick([0, s.term, 0xffffffff]), confState });
    }
    const raw = c.files[i];
    const m = decodeMessage(raw);
    const inner = m.ok ? bytesField(m.fields, 2) : undefined;
    return wrap(mutateBytes(r, inner ?? raw, 4096));
  },
  run: (bytes) => {
    const d = decodeSnapBytes(bytes);
    check(d.ok === (d.error === null), `ok ${d.ok} with error ${d.error}`);
    check(d.ok === (d.snapshot !== null), `ok ${d.ok} with snapshot ${d.snapshot === null ? 'null' : 'set'}`);
    if (d.snapshot)
      check(
        Number.isSafeInteger(d.snapshot.index) && d.snapshot.index >= 0 && Number.isSafeInteger(d.snapshot.term) && d.snapshot.term >= 0,
        `index ${d.snapshot.index} term ${d.snapshot.term}`,
      );
    check(d.members.length <= 4096, `${d.members.length} members`);
    for (const mem of d.members) check(typeof mem.id === 'string' && mem.id.length <= 16 && Array.isArray(mem.peerURLs), `member ${JSON.stringify(mem)}`);
    checkPlain(d, 'snap decode');
  },
  files: (b) => ({ '0000000000000002-0000000000000065.snap': b }),
  size: (b) => b.length,
};
