/**
 * Test-only encoder for Kubernetes-shaped protobuf values (`k8s\0` +
 * runtime.Unknown{typeMeta, raw = object{metadata = ObjectMeta, spec}}), written
 * from the field numbers in apimachinery's generated.proto, independently of
 * the decoder under test.
 */
export interface TestObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid: string;
  creationSeconds: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  owners: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function field(no: number, bytes: Uint8Array | string): Buffer {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
  return Buffer.concat([Buffer.from([...varint((no << 3) | 2), ...varint(b.length)]), b]);
}

function intField(no: number, v: number): Buffer {
  return Buffer.from([...varint(no << 3), ...varint(v)]);
}

function mapEntries(no: number, m: Record<string, string>): Buffer[] {
  return Object.entries(m).map(([k, v]) => field(no, Buffer.concat([field(1, k), field(2, v)])));
}

export function encodeObjectMeta(o: TestObject): Buffer {
  return Buffer.concat([
    field(1, o.name),
    ...(o.namespace ? [field(3, o.namespace)] : []),
    field(5, o.uid),
    field(8, intField(1, o.creationSeconds)),
    ...mapEntries(11, o.labels),
    ...mapEntries(12, o.annotations),
    ...o.owners.map((r) =>
      field(
        13,
        Buffer.concat([
          field(1, r.kind),
          field(3, r.name),
          field(4, r.uid),
          field(5, r.apiVersion),
          ...(r.controller !== undefined ? [intField(6, r.controller ? 1 : 0)] : []),
        ]),
      ),
    ),
  ]);
}

export function encodeK8sProtobuf(o: TestObject): Buffer {
  const raw = Buffer.concat([field(1, encodeObjectMeta(o)), field(2, field(1, 'spec-bytes'))]);
  const unknown = Buffer.concat([field(1, Buffer.concat([field(1, o.apiVersion), field(2, o.kind)])), field(2, raw), field(3, ''), field(4, '')]);
  return Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), unknown]);
}
