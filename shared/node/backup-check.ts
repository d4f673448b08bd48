/**
 * Is a backup on the node restorable, read in place? An `etcdctl snapshot
 * save` file is a bbolt db plus a 32-byte SHA-256 of it; `etcdctl snapshot
 * restore` assumes the trailer iff `size % 512 == 32` and refuses a mismatch
 * (`expected sha256 ...`) or a missing hash (`snapshot missing hash but
 * --skip-hash-check=false`). One read-only command per file prints its size,
 * the trailer, the SHA-256 of everything before it and the first two pages
 * (both bbolt meta pages at the usual 4 KiB page size); this module builds
 * that command and judges its output.
 */
import { decodeMeta } from '../formats/etcd/bbolt-meta';
import { quoteIfNeeded } from './shell';
import { translateLocal } from '../i18n';
import type { LocalText } from '../contract/text';

const HEAD_BYTES = 8192;

export function snapshotDbProbeCommand(path: string): string {
  const f = quoteIfNeeded(path);
  return (
    `s=$(stat -c %s -- ${f}) || exit 1; echo "size $s"; ` +
    `[ "$s" -ge 32 ] && echo "trailer $(tail -c 32 -- ${f} | od -An -tx1 -v | tr -d ' \\n')" && ` +
    `echo "body $(head -c $((s-32)) -- ${f} | sha256sum | cut -c1-64)"; ` +
    `echo "head $(head -c ${HEAD_BYTES} -- ${f} | od -An -tx1 -v | tr -d ' \\n')"`
  );
}

function hexBytes(hex: string): Uint8Array {
  const n = Math.min(hex.length >> 1, HEAD_BYTES);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16) || 0;
  return b;
}

export interface SnapshotDbVerdict {
  valid: boolean;
  /** In English (the CLI's and the record's language); `problemText` is the same for the UI's language. */
  problem?: string;
  problemText?: LocalText;
  size: number | null;
}

/** A refusal in English and as the catalog text the node card shows in the UI's language. */
function refused(size: number | null, problemText: LocalText): SnapshotDbVerdict {
  return { valid: false, problem: translateLocal('en', problemText), problemText, size };
}

export function checkSnapshotDbProbe(stdout: string, code: number | null): SnapshotDbVerdict {
  const field = (name: string) => new RegExp(`^${name} ([0-9a-f]*)$`, 'm').exec(stdout)?.[1] ?? null;
  const sizeText = /^size (\d+)$/m.exec(stdout)?.[1];
  if (code !== 0 && !sizeText) return refused(null, { key: 'guided.card.problem.unreadable' });
  const size = sizeText ? Number(sizeText) : null;
  if (size === null || size < 1024 + 32) return refused(size, { key: 'guided.upload.problem.tooSmall', params: { bytes: size ?? '?' } });
  const head = hexBytes(field('head') ?? '');
  const meta0 = decodeMeta(head.subarray(0, 4096), 0);
  const pageSize = meta0.ok ? meta0.pageSize : 4096;
  const meta1 = head.length >= pageSize + 80 ? decodeMeta(head.subarray(pageSize, pageSize * 2), 1) : null;
  if (!meta0.ok && !meta1?.ok) return refused(size, { key: 'guided.upload.problem.notBbolt', params: { error: meta0.error ?? 'unreadable' } });
  if (size % 512 !== 32) {
    return refused(size, { key: 'guided.upload.problem.noTrailer' });
  }
  const trailer = field('trailer');
  const body = field('body');
  if (!trailer || !body || trailer.length !== 64 || body.length !== 64) return refused(size, { key: 'guided.card.problem.trailerUnreadable' });
  if (trailer !== body) return refused(size, { key: 'guided.upload.problem.hashMismatch', params: { expected: trailer, got: body } });
  return { valid: true, size };
}
