import { decodeMessage } from '../../../shared/formats/protobuf/wire';
import { mutateBytes } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';

/** Wire-format messages shaped like etcd's raftpb.Entry and walpb.Record (varints, length-delimited, fixed32/64). */
const SEEDS = [
  Uint8Array.from([0x08, 0x02, 0x10, 0x05, 0x18, 0x00, 0x22, 0x04, 0x74, 0x65, 0x73, 0x74]),
  Uint8Array.from([
    0x08, 0x04, 0x10, 0xb4, 0xc6, 0x9b, 0x8d, 0x05, 0x1a, 0x06, 0x0a, 0x04, 0x08, 0x01, 0x10, 0x02, 0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x2d, 1, 2, 3, 4,
  ]),
];

export const protobuf: FuzzTarget<Uint8Array, Uint8Array[]> = {
  name: 'protobuf',
  what: 'schema-less protobuf wire reader (etcd WAL records, raft entries): fields or an error, bounded field count',
  corpus: () => SEEDS,
  generate: (r, corpus) => mutateBytes(r, r.pick(corpus), 256),
  run: (bytes) => {
    const m = decodeMessage(bytes);
    check(m.fields.length <= 4096, `${m.fields.length} fields`);
    if (!m.ok) check(m.offset >= 0 && m.offset <= bytes.length, `error offset ${m.offset} outside ${bytes.length} bytes`);
    checkPlain(m, 'message');
  },
  files: (b) => ({ 'message.bin': b }),
  size: (b) => b.length,
};
