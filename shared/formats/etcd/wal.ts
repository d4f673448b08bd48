/**
 * The WAL directory as etcd 3.4.23 reads it at start-up
 * (`etcdserver/server.go` NewServer with a WAL, `etcdserver/storage.go`
 * readWAL, `wal/wal.go`, `wal/repair.go`, `wal/util.go`):
 *
 *  1. `readWALNames`: names that parse as `%016x-%016x.wal`, sorted; none ->
 *     "wal: file not found" (etcd then has no WAL: a new member).
 *  2. `ValidSnapshotEntries`: every file from the first, one decoder, the CRC
 *     chain checked at every CRC record. `io.EOF` and `io.ErrUnexpectedEOF`
 *     end it quietly (anywhere!); any other error stops start-up with that
 *     error. Result: the snapshot records with index <= the last HardState's
 *     commit.
 *  3. The snap etcd loads (see snap-choice.ts) gives the snapshot to open at;
 *     `selectWALFiles`: the last file whose name index <= snapshot index, then
 *     `isValidSeq` over the files from there ("wal: file not found").
 *  4. `ReadAll` in write mode from that file with a fresh decoder (running
 *     CRC 0, so the first CRC record is taken on trust): entries (index >
 *     snapshot index, appended contiguously or "wal: slice bounds out of
 *     range"), HardState, metadata (must not change), CRC records, snapshot
 *     records (the one opened at must be there: "wal: snapshot not found",
 *     "wal: snapshot mismatch"), other types "unexpected block type %d". It
 *     must end with `io.EOF`.
 *  5. On `io.ErrUnexpectedEOF` (once): `wal.Repair` on the LAST file copies
 *     it to `.broken` and truncates it at the last good record; ReadAll runs
 *     again. An unexpected EOF in an earlier file is not repaired: the second
 *     ReadAll fails with "read wal error (unexpected EOF) and cannot be repaired".
 *
 * Where etcd 3.5 differs (not modelled; `EtcdStartup.model` is '3.4'): a
 * length word beyond the end of the file is `io.ErrUnexpectedEOF` wrapped in
 * "max entry size limit exceeded when decoding ..." (so repairable in the
 * last file) instead of 3.4's flat "wal: max entry size limit exceeded" at
 * 10 MiB; fatal lines are zap JSON ("failed to read WAL, cannot be
 * repaired", error field) instead of capnslog text. The sequence-gap text
 * "do not increase continuously" is newer still (3.6).
 *
 * `scanWal` models these steps over the files (read-only; the repair is
 * predicted, not done) and summarises every file; `listWalRecords` is the
 * inspection listing (continues past CRC errors); `readWalEntries` streams
 * the entries etcd would keep, for salvage.
 */
import type { DirectorySource, ByteSource } from '../../bytes/byte-source';
import type { WalConfChange, WalFileInfo, WalInfo, WalRecordSummary, WalSnapshotRecord } from '../../contract/etcd';
import type { Finding } from '../../contract/findings';
import { throwIfCancelled, type RunOptions } from '../../contract/progress';
import { idHex } from '../protobuf/wire';
import { classifyWalDirName, firstSeqBreak, parseWalName, searchIndex, sortNames, type WalName } from './wal-name';
import { readWalFile, nextRecord, readRange, plain, type DecodeError, type DecodedWalRecord, type FileDecodeState, type FileEnd } from './wal-file';
import { RECORD_TYPE, WAL_ERRORS, readVarint, recordTypeName, unmarshalRecord } from './wal-record';
import {
  confChangeTypeName,
  decodeConfChange,
  decodeConfChangeV2,
  decodeEntry,
  decodeEntryHead,
  decodeHardState,
  decodeMetadata,
  decodeWalSnapshot,
  entryOfHead,
  entryTypeName,
  newEntryHead,
  parseMemberJson,
  type HardState,
  type RaftEntry,
} from './raft-entry';
import { decodeInternalRequest, requestText, type InternalRequest } from './internal-request';
import type { LocalText } from '../../contract/text';
import { translateLocal } from '../../i18n/index';
import { hex32, walFinding } from './wal-text';
import { frameAfterGap, frameStartsAt } from './wal-unread';

/** An entry record without data decodes as the empty Entry. */
const NO_BYTES = new Uint8Array(0);

export type WalReadErrorKind =
  'torn-tail' | 'crc-mismatch' | 'boundary-crc-mismatch' | 'seq-gap' | 'no-wal' | 'bad-name' | 'decode' | 'snapshot-not-found' | 'other';

export interface WalReadError {
  kind: WalReadErrorKind;
  file: string | null;
  offset: number | null;
  /** The Go error value's text as etcd 3.4.23 has it (`walpb: crc mismatch`, `unexpected EOF`, `wal: file not found`, ...). */
  engineError: string;
  /** etcd's own `wal.Repair` fixes it at start-up (io.ErrUnexpectedEOF in the last file). */
  repairable: boolean;
  /** Which start-up step hits it (added field): decides the line etcd prints, see `etcdFatalText`. */
  stage?: 'list' | 'valid-snapshot-entries' | 'open' | 'read-all';
  /** The whole text after `C | <pkg>: ` that etcd 3.4.23 (capnslog) prints, when it stops start-up. */
  fatalText?: string | null;
}

export interface WalScan {
  info: WalInfo;
  findings: Finding[];
  /** The error that stops etcd's start-up (or the torn tail it repairs, `repairable: true`), null when none. */
  readError: WalReadError | null;
  bytesRead: number;
  /** Added: `ValidSnapshotEntries`' result (snapshot records with index <= commit), for the snap choice. */
  validSnapshots?: { index: number; term: number }[];
  /** Added: the snapshot the scan opened the WAL at (`opts.openAt`, or the newest valid WAL snapshot). */
  openedAt?: { index: number; term: number };
  /** Added: no entry's index is at or below one before it (set only when the scan found no error; see `walIndexesRise`). */
  indexesRise?: boolean;
}

export interface WalScanOptions extends RunOptions {
  /**
   * The snapshot etcd would open the WAL at (the chosen .snap's term/index).
   * Default: the newest snapshot record `ValidSnapshotEntries` returns,
   * assuming its .snap file is readable (etcd writes the .snap before the
   * record). {index: 0, term: 0} models "no .snap loaded".
   */
  openAt?: { index: number; term: number };
  /** Re-read the files for ReadAll instead of using what the first pass collected (tests compare both). */
  exactReadAll?: boolean;
  /**
   * Added: every entry the first pass reads before any error, in file order,
   * as `readWalEntries` gives it (its bytes valid until the promise settles).
   * Only when the scan ends with `walIndexesRise` are these exactly the
   * entries `readWalEntries` would give (no overwrite, nothing skipped): a
   * caller that replays them must otherwise start over with it.
   */
  onEntry?: (e: WalEntry) => void | Promise<void>;
}

/** Finding codes with English and Simplified Chinese titles (for `shared/i18n/etcd-text.ts`). */
export const WAL_FINDING_TITLES: Record<string, { en: string; zh: string }> = {
  'wal.none': { en: 'No WAL files', zh: '没有 WAL 文件' },
  'wal.ignored-file': { en: 'File etcd ignores in the WAL directory', zh: 'WAL 目录中 etcd 忽略的文件' },
  'wal.leftover-broken': { en: 'WAL file set aside by an earlier repair (.broken)', zh: '先前修复留下的 WAL 文件 (.broken)' },
  'wal.leftover-tmp': { en: 'Preallocated next WAL file (.tmp)', zh: '预分配的下一个 WAL 文件 (.tmp)' },
  'wal.seq-gap': { en: 'WAL file sequence has a gap', zh: 'WAL 文件序号不连续' },
  'wal.torn-tail': { en: 'Torn last WAL record (etcd repairs it)', zh: '最后一条 WAL 记录写入不完整（etcd 会自行修复）' },
  'wal.unexpected-eof': { en: 'WAL file ends inside a record before the last file', zh: 'WAL 文件在非最后文件中于记录中途结束' },
  'wal.record-crc': { en: 'WAL record checksum mismatch', zh: 'WAL 记录校验和不匹配' },
  'wal.chain-crc': { en: 'WAL CRC chain broken at a file boundary', zh: 'WAL 文件边界处 CRC 链断裂' },
  'wal.max-size': { en: 'WAL record length over the 10 MiB limit', zh: 'WAL 记录长度超过 10 MiB 上限' },
  'wal.decode': { en: 'WAL record does not decode', zh: 'WAL 记录无法解码' },
  'wal.file-not-found': { en: 'No WAL file for the snapshot etcd loads', zh: '找不到与 etcd 所加载快照对应的 WAL 文件' },
  'wal.snapshot-not-found': { en: 'Snapshot record missing from the WAL', zh: 'WAL 中缺少快照记录' },
  'wal.snapshot-mismatch': { en: 'WAL snapshot record has another term', zh: 'WAL 快照记录的任期不一致' },
  'wal.metadata-conflict': { en: 'WAL metadata changes between files', zh: 'WAL 元数据在文件之间不一致' },
  'wal.index-gap': { en: 'Gap in WAL entry indexes', zh: 'WAL 条目索引不连续' },
  'wal.unknown-record-type': { en: 'Unknown WAL record type', zh: '未知的 WAL 记录类型' },
  'wal.data-after-end': { en: 'Data after the end of the WAL (etcd zeroes it)', zh: 'WAL 结尾之后仍有数据（etcd 会清零）' },
  'wal.not-read': { en: 'WAL file etcd does not reach', zh: 'etcd 读取不到的 WAL 文件' },
};

const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

interface WalFile {
  name: string;
  rel: string;
  parsed: WalName;
  size: number;
}

interface ListedDir {
  files: WalFile[];
  findings: Finding[];
  /** Files whose name ends in `.wal` but does not parse: etcd's `wal.Exist` counts them (so it has a WAL), `readWALNames` does not. */
  badNames: string[];
}

async function listWalDir(dir: DirectorySource, relDir: string): Promise<ListedDir> {
  const entries = await dir.list();
  const findings: Finding[] = [];
  const files: WalFile[] = [];
  const badNames: string[] = [];
  for (const e of entries) {
    if (e.kind !== 'file') continue;
    if (e.name.endsWith('.wal') && !parseWalName(e.name)) badNames.push(join(relDir, e.name));
    const kind = classifyWalDirName(e.name);
    const rel = join(relDir, e.name);
    if (kind === 'wal') files.push({ name: e.name, rel, parsed: parseWalName(e.name)!, size: e.size });
    else if (kind === 'broken') {
      findings.push(walFinding({ severity: 'info', code: 'wal.leftover-broken', file: rel, offset: null, params: { file: rel, size: e.size } }));
    } else if (kind === 'tmp') {
      findings.push(walFinding({ severity: 'info', code: 'wal.leftover-tmp', file: rel, offset: null, params: { file: rel, size: e.size } }));
    } else {
      findings.push(walFinding({ severity: 'info', code: 'wal.ignored-file', file: rel, offset: null, params: { file: rel } }));
    }
  }
  const byName = new Map(files.map((f) => [f.name, f]));
  return { files: sortNames([...byName.keys()]).map((n) => byName.get(n)!), findings, badNames };
}

/** What one record does to the state `ValidSnapshotEntries` / the summaries keep. */
interface Pass1State {
  hardState: HardState | null;
  snapshots: WalSnapshotRecord[];
  metadata: Uint8Array | null;
  nodeId: bigint | null;
  clusterId: bigint | null;
  confChanges: WalConfChange[];
  requestCounts: Record<string, number>;
  firstIndex: number | null;
  lastIndex: number | null;
  lastTerm: number | null;
}

const MAX_CONF_CHANGES = 10_000;
const MAX_SNAPSHOT_RECORDS = 100_000;

/** InternalRaftRequest field numbers -> request kind, for the counts. */
const REQUEST_KIND: Record<number, string> = {
  2: 'v2',
  3: 'range',
  4: 'put',
  5: 'delete-range',
  6: 'txn',
  7: 'compaction',
  8: 'lease-grant',
  9: 'lease-revoke',
  10: 'alarm',
  11: 'lease-checkpoint',
};

/**
 * The request kind of a Normal entry from its top-level fields only (one
 * per entry, millions per WAL: no nested decoding). Bytes that are not a
 * well-formed message count as 'undecodable'; a v2 Request (fallback of
 * etcd 3.4) has its Method in field 2 and counts as 'v2' too.
 */
export function peekRequestKind(data: Uint8Array | null): string {
  return data ? peekRequestKindIn(data, 0, data.length) : 'empty';
}

/** `peekRequestKind(data.subarray(start, end))` without the view; start < 0 or no `data`: no data field ('empty'). */
function peekRequestKindIn(data: Uint8Array | null, start: number, end: number): string {
  if (!data || start < 0 || end <= start) return 'empty';
  let i = start;
  const l = end;
  let kind: string | null = null;
  while (i < l) {
    const tag = readVarint(data, i, l);
    if (tag.next < 0) return 'undecodable';
    i = tag.next;
    const no = (tag.lo >>> 3) | (tag.hi << 29) | 0;
    const wire = tag.lo & 7;
    if (no <= 0) return 'undecodable';
    if (wire === 0) {
      const v = readVarint(data, i, l);
      if (v.next < 0) return 'undecodable';
      i = v.next;
    } else if (wire === 2) {
      const v = readVarint(data, i, l);
      if (v.next < 0 || v.hi !== 0 || v.next + v.lo > l) return 'undecodable';
      i = v.next + v.lo;
      if (kind === null) {
        if (REQUEST_KIND[no]) kind = REQUEST_KIND[no]!;
        else if (no >= 1000 && no < 1300) kind = 'auth';
      }
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else return 'undecodable';
  }
  if (i > l) return 'undecodable';
  return kind ?? 'other';
}

function newFileInfo(f: WalFile): WalFileInfo {
  return {
    file: f.rel,
    seq: f.parsed.seq,
    nameIndex: f.parsed.index,
    size: f.size,
    records: 0,
    entries: 0,
    firstEntryIndex: null,
    lastEntryIndex: null,
    terms: null,
    validBytes: 0,
    zeroTailBytes: 0,
    status: 'ok',
    badOffset: null,
    findingCodes: [],
    role: 'read',
  };
}

function codeFor(e: DecodeError): string {
  switch (e.failure) {
    case 'record-crc':
      return 'wal.record-crc';
    case 'chain-crc':
      return 'wal.chain-crc';
    case 'max-size':
      return 'wal.max-size';
    case 'proto':
      return 'wal.decode';
    default:
      return 'wal.torn-tail';
  }
}

function kindFor(e: DecodeError): WalReadErrorKind {
  switch (e.failure) {
    case 'record-crc':
      return 'crc-mismatch';
    case 'chain-crc':
      return 'boundary-crc-mismatch';
    case 'max-size':
    case 'proto':
      return 'decode';
    default:
      return 'torn-tail';
  }
}

/**
 * What etcd 3.4.23 prints (text after `C | <pkg>: `) when the WAL stops it:
 * ValidSnapshotEntries errors come back from NewServer (`etcdmain: <err>`),
 * wal.Open errors are `open wal error: <err>`, ReadAll errors
 * `read wal error (<err>) and cannot be repaired`.
 */
export function etcdFatalText(stage: WalReadError['stage'], engineError: string): string | null {
  switch (stage) {
    case 'valid-snapshot-entries':
      return engineError;
    case 'open':
      return `open wal error: ${engineError}`;
    case 'read-all':
      return `read wal error (${engineError}) and cannot be repaired`;
    default:
      return null;
  }
}

/** Scan the WAL directory `dir` (whose path relative to the validated root is `relDir`). */
export async function scanWal(dir: DirectorySource, relDir: string, opts: WalScanOptions = {}): Promise<WalScan> {
  const scan = await scanWalSteps(dir, relDir, opts);
  for (const f of scan.info.files) {
    if (f.role !== 'not-read') continue;
    f.findingCodes.push('wal.not-read');
    scan.findings.push(walFinding({ severity: 'info', code: 'wal.not-read', file: f.file, offset: null, params: { file: f.file } }));
  }
  return scan;
}

async function scanWalSteps(dir: DirectorySource, relDir: string, opts: WalScanOptions): Promise<WalScan> {
  const listed = await listWalDir(dir, relDir);
  const findings = [...listed.findings];
  const files = listed.files;
  const info: WalInfo = {
    dir: relDir,
    files: files.map(newFileInfo),
    nodeId: null,
    clusterId: null,
    hardState: null,
    snapshots: [],
    firstIndex: null,
    lastIndex: null,
    lastTerm: null,
    tornTail: null,
    confChanges: [],
    requestCounts: {},
  };
  let bytesRead = 0;
  if (files.length === 0 && listed.badNames.length > 0) {
    // wal.Exist sees *.wal, so etcd takes the member as existing; ValidSnapshotEntries finds no valid name.
    const stage = 'valid-snapshot-entries' as const;
    return {
      info,
      findings,
      readError: {
        kind: 'bad-name',
        file: listed.badNames[0]!,
        offset: null,
        engineError: WAL_ERRORS.fileNotFound,
        repairable: false,
        stage,
        fatalText: etcdFatalText(stage, WAL_ERRORS.fileNotFound),
      },
      bytesRead,
    };
  }
  if (files.length === 0) {
    findings.push(
      walFinding({
        severity: 'warning',
        code: 'wal.none',
        file: relDir || null,
        offset: null,
        params: { dir: relDir || '.' },
        engineError: WAL_ERRORS.fileNotFound,
      }),
    );
    return {
      info,
      findings,
      readError: { kind: 'no-wal', file: null, offset: null, engineError: WAL_ERRORS.fileNotFound, repairable: false, stage: 'list', fatalText: null },
      bytesRead,
    };
  }

  const total = files.reduce((s, f) => s + f.size, 0);
  const progress = (done: number, current: string | null) => opts.onProgress?.({ phase: 'wal', bytesDone: done, bytesTotal: total, currentFile: current });

  // ---------------------------------------------------------------- pass 1: ValidSnapshotEntries + summaries
  const st: Pass1State = {
    hardState: null,
    snapshots: [],
    metadata: null,
    nodeId: null,
    clusterId: null,
    confChanges: [],
    requestCounts: {},
    firstIndex: null,
    lastIndex: null,
    lastTerm: null,
  };
  /** The entry record being visited (one object for the whole pass). */
  const head = newEntryHead();
  let vseError: { file: number; error: DecodeError } | null = null;
  /** Where ValidSnapshotEntries stopped quietly on io.ErrUnexpectedEOF (file position), if it did. */
  let vseQuietStop: { file: number; error: DecodeError } | null = null;
  let crc = 0;
  const facts = newFacts(files.length);
  let lastRun: ReadAllFacts['runs'][number] | null = null;
  const fact = <T>(list: T[], item: T) => {
    if (list.length < MAX_FACTS) list.push(item);
    else facts.overflow = true;
  };
  for (let i = 0; i < files.length; i++) {
    throwIfCancelled(opts.signal);
    const f = files[i]!;
    const fi = info.files[i]!;
    const detached = vseError !== null || vseQuietStop !== null;
    let firstRecord = true;
    if (detached) fi.role = 'not-read';
    progress(bytesRead, f.rel);
    const src = await dir.open(f.name);
    let entryTermMin = Infinity;
    let entryTermMax = -Infinity;
    // The visitor copies what it keeps (metadata), so the read window can be reused.
    const r = await readWalFile(src, { isLast: i === files.length - 1, crc: detached ? 0 : crc, signal: opts.signal, reuseWindow: true }, (rec) => {
      if (firstRecord) {
        firstRecord = false;
        facts.firstRecordIsCrc[i] = rec.type === RECORD_TYPE.crc;
      }
      if (!detached && (rec.type < 1 || rec.type > 5) && !facts.unknownTypes.some((u) => u.file === i))
        fact(facts.unknownTypes, { file: i, offset: rec.offset, type: rec.type });
      if (rec.type === 2) {
        // The entry's fields into one reused head (no object per entry; Data only a position in the record).
        const e = head;
        const error = decodeEntryHead(rec.data ?? NO_BYTES, e);
        if (error !== null) {
          if (!detached && !facts.entryDecodeErrors.some((u) => u.file === i)) fact(facts.entryDecodeErrors, { file: i, offset: rec.offset, error });
          return;
        }
        if (!detached) {
          if (lastRun && lastRun.file === i && e.index === lastRun.last + 1) {
            lastRun.last = e.index;
            lastRun.lastTerm = e.term;
          } else {
            lastRun = { file: i, offset: rec.offset, first: e.index, last: e.index, lastTerm: e.term };
            fact(facts.runs, lastRun);
          }
        }
        fi.entries++;
        fi.firstEntryIndex ??= e.index;
        fi.lastEntryIndex = e.index;
        if (e.term < entryTermMin) entryTermMin = e.term;
        if (e.term > entryTermMax) entryTermMax = e.term;
        if (detached) return;
        st.firstIndex ??= e.index;
        st.lastIndex = e.index;
        st.lastTerm = e.term;
        if (e.type === 0) {
          const k = peekRequestKindIn(rec.data, e.dataStart, e.dataEnd);
          st.requestCounts[k] = (st.requestCounts[k] ?? 0) + 1;
        } else if (e.type === 1 || e.type === 2) {
          const k = e.type === 1 ? 'conf-change' : 'conf-change-v2';
          st.requestCounts[k] = (st.requestCounts[k] ?? 0) + 1;
          if (st.confChanges.length < MAX_CONF_CHANGES) st.confChanges.push(...confChangesOf(entryOfHead(e, rec.data)));
        }
        if (opts.onEntry && rec.data) return opts.onEntry(walEntryOf(entryOfHead(e, rec.data), f.rel, rec.offset));
      } else if (!detached) {
        if (rec.type === 3 && rec.data) {
          const h = decodeHardState(rec.data);
          if (h.ok) st.hardState = h.value;
        } else if (rec.type === 5) {
          const s = rec.data ? decodeWalSnapshot(rec.data) : { ok: true as const, value: { index: 0, term: 0 } };
          if (s.ok) {
            if (st.snapshots.length < MAX_SNAPSHOT_RECORDS) st.snapshots.push({ index: s.value.index, term: s.value.term, file: f.rel, offset: rec.offset });
            fact(facts.snapshots, { file: i, offset: rec.offset, index: s.value.index, term: s.value.term });
          } else if (!facts.snapDecodeErrors.some((u) => u.file === i)) fact(facts.snapDecodeErrors, { file: i, offset: rec.offset, error: s.error });
        } else if (rec.type === 1) {
          const bytes = rec.data ?? new Uint8Array(0);
          let v = facts.metaValues.findIndex((m) => bytesEqual(m, bytes));
          if (v < 0 && facts.metaValues.length < 64) v = facts.metaValues.push(bytes.slice()) - 1;
          if (v < 0) facts.overflow = true;
          else fact(facts.metadata, { file: i, offset: rec.offset, value: v });
          if (st.metadata === null && rec.data) {
            st.metadata = rec.data.slice();
            const m = decodeMetadata(rec.data);
            if (m.ok) {
              st.nodeId = m.value.nodeId;
              st.clusterId = m.value.clusterId;
            }
          }
        }
      }
    });
    bytesRead += r.bytesRead;
    fi.records = r.records;
    fi.validBytes = r.validBytes;
    fi.zeroTailBytes = r.zeroTailBytes;
    fi.terms = entryTermMin <= entryTermMax ? [entryTermMin, entryTermMax] : null;
    if (r.dataAfterEnd !== null) {
      fi.status = fi.status === 'ok' ? 'warning' : fi.status;
      fi.findingCodes.push('wal.data-after-end');
      findings.push(
        walFinding({
          severity: 'info',
          code: 'wal.data-after-end',
          file: f.rel,
          offset: r.dataAfterEnd,
          params: { file: f.rel, end: r.validBytes, offset: r.dataAfterEnd },
          ...(i === files.length - 1 ? { variant: 'last' } : {}),
        }),
      );
    }
    if (!detached) crc = r.crc;
    if (r.end.kind === 'error') {
      fi.badOffset = r.end.error.offset;
      if (!detached) {
        if (r.end.error.unexpectedEof) vseQuietStop = { file: i, error: r.end.error };
        else vseError = { file: i, error: r.end.error };
      }
    }
  }
  progress(bytesRead, null);

  info.nodeId = st.nodeId !== null ? idHex(st.nodeId) : null;
  info.clusterId = st.clusterId !== null ? idHex(st.clusterId) : null;
  info.hardState = st.hardState ? { term: st.hardState.term, vote: idHex(st.hardState.vote), commit: st.hardState.commit } : null;
  info.snapshots = st.snapshots;
  info.firstIndex = st.firstIndex;
  info.lastIndex = st.lastIndex;
  info.lastTerm = st.lastTerm;
  info.confChanges = st.confChanges;
  info.requestCounts = st.requestCounts;

  const commit = st.hardState?.commit ?? 0;
  const validSnapshots = st.snapshots.filter((s) => s.index <= commit).map((s) => ({ index: s.index, term: s.term }));

  // Sequence gaps: reported for every gap; they only stop etcd within the files it opens (below).
  const seqBreaks: number[] = [];
  for (let i = 1; i < files.length; i++) if (files[i]!.parsed.seqBig !== files[i - 1]!.parsed.seqBig + 1n) seqBreaks.push(i);

  const fail = (e: WalReadError): WalScan => ({ info, findings, readError: e, bytesRead, validSnapshots });

  if (vseError) {
    const { file, error } = vseError;
    const f = files[file]!;
    markBad(info.files[file]!, error, codeFor(error));
    const gapHere = seqBreaks.includes(file) && error.failure === 'chain-crc';
    findings.push(decodeFinding(f.rel, error, file === files.length - 1, gapHere ? files[file - 1]!.rel : null));
    for (let k = file + 1; k < files.length; k++) info.files[k]!.role = 'not-read';
    info.files[file]!.role = 'fails';
    addSeqGapFindings(findings, files, seqBreaks, 'info');
    const stage = 'valid-snapshot-entries' as const;
    return fail({
      kind: gapHere ? 'seq-gap' : kindFor(error),
      file: f.rel,
      offset: error.offset,
      engineError: error.engineError,
      repairable: false,
      stage,
      fatalText: etcdFatalText(stage, error.engineError),
    });
  }

  // ---------------------------------------------------------------- open at the snapshot
  const newest = validSnapshots
    .filter((s) => s.index > 0)
    .reduce<{ index: number; term: number } | null>(
      (best, s) => (best === null || s.term > best.term || (s.term === best.term && s.index > best.index) ? s : best),
      null,
    );
  const openAt = opts.openAt ?? newest ?? { index: 0, term: 0 };
  const nameIndex = searchIndex(
    files.map((f) => f.parsed),
    BigInt(openAt.index),
  );
  for (let k = 0; k < Math.max(0, nameIndex); k++) if (info.files[k]!.role === 'read') info.files[k]!.role = 'before-snapshot';
  if (nameIndex < 0) {
    findings.push(
      walFinding({
        severity: 'error',
        code: 'wal.file-not-found',
        file: files[0]!.rel,
        offset: null,
        params: { index: openAt.index, file: files[0]!.rel, first: files[0]!.parsed.index },
        engineError: WAL_ERRORS.fileNotFound,
      }),
    );
    addSeqGapFindings(findings, files, seqBreaks, 'info');
    return { ...fail(openError('snapshot-not-found', files[0]!.rel)), openedAt: openAt };
  }
  const seqBreak = firstSeqBreak(files.slice(nameIndex).map((f) => f.parsed));
  if (seqBreak >= 0) {
    const at = nameIndex + seqBreak;
    const f = files[at]!;
    const prev = files[at - 1]!;
    info.files[at]!.status = 'bad';
    info.files[at]!.findingCodes.push('wal.seq-gap');
    findings.push(
      walFinding({
        severity: 'error',
        code: 'wal.seq-gap',
        file: f.rel,
        offset: null,
        params: { file: f.rel, seq: f.parsed.seq, prev: prev.rel, prevSeq: prev.parsed.seq, startSeq: files[nameIndex]!.parsed.seq },
        engineError: WAL_ERRORS.fileNotFound,
      }),
    );
    addSeqGapFindings(
      findings,
      files,
      seqBreaks.filter((b) => b !== at),
      'info',
    );
    for (let k = nameIndex; k < files.length; k++) info.files[k]!.role = 'not-read';
    info.files[at]!.role = 'fails';
    return { ...fail(openError('seq-gap', f.rel)), openedAt: openAt };
  }
  addSeqGapFindings(findings, files, seqBreaks, 'info');

  // ---------------------------------------------------------------- pass 2: ReadAll from files[nameIndex]
  // ReadAll from the facts when pass 1 decoded those files exactly as a fresh decoder would (it
  // starts at file 0, or the file starts with a CRC record, which resets the chain either way).
  const quietFrom = vseQuietStop === null || vseQuietStop.file >= nameIndex;
  const sameDecode = nameIndex === 0 || facts.firstRecordIsCrc[nameIndex] === true;
  const ra =
    !opts.exactReadAll && !facts.overflow && quietFrom && sameDecode
      ? readAllFromFacts(facts, files, nameIndex, openAt, vseQuietStop)
      : await readAll(dir, files, nameIndex, openAt, opts);
  bytesRead += ra.bytesRead;
  // The log etcd keeps (entries after the snapshot, overwrites applied); when ReadAll fails, the WAL's last entry.
  if (ra.error === null && ra.lastIndex !== null) {
    info.lastIndex = ra.lastIndex;
    info.lastTerm = ra.lastTerm;
  }

  const result = (readError: WalReadError | null): WalScan => ({ info, findings, readError, bytesRead, validSnapshots, openedAt: openAt });

  if (ra.error && ra.error.kind === 'decode') {
    const { file, error } = ra.error;
    const f = files[file]!;
    const isLast = file === files.length - 1;
    if (error.unexpectedEof && isLast) {
      // wal.Repair: copy to .broken, truncate at the last good record, ReadAll again.
      const fi = info.files[file]!;
      fi.status = 'torn';
      fi.badOffset = error.offset;
      fi.validBytes = error.offset;
      fi.role = 'repaired';
      fi.findingCodes.push('wal.torn-tail');
      info.tornTail = { file: f.rel, offset: error.offset };
      findings.push(decodeFinding(f.rel, error, true, null));
      const after = ra.afterRepair;
      if (after) return result(after);
      return result({
        kind: 'torn-tail',
        file: f.rel,
        offset: error.offset,
        engineError: WAL_ERRORS.unexpectedEof,
        repairable: true,
        stage: 'read-all',
        fatalText: null,
      });
    }
    markBad(info.files[file]!, error, error.unexpectedEof ? 'wal.unexpected-eof' : codeFor(error));
    info.files[file]!.role = 'fails';
    for (let k = file + 1; k < files.length; k++) info.files[k]!.role = 'not-read';
    findings.push(decodeFinding(f.rel, error, isLast, null));
    return result({
      kind: error.unexpectedEof ? 'torn-tail' : kindFor(error),
      file: f.rel,
      offset: error.offset,
      engineError: error.engineError,
      repairable: false,
      stage: 'read-all',
      fatalText: etcdFatalText('read-all', error.engineError),
    });
  }
  if (ra.error) {
    findings.push(ra.error.finding);
    if (ra.error.fileIndex !== null) {
      const fi = info.files[ra.error.fileIndex]!;
      fi.status = 'bad';
      fi.badOffset = ra.error.finding.offset;
      fi.findingCodes.push(ra.error.finding.code);
      fi.role = 'fails';
    }
    return result(ra.error.readError);
  }
  // Non-zero bytes after the end of the last file (etcd zero-fills them) were reported as wal.data-after-end in pass 1.
  return { ...result(null), indexesRise: indexesRiseIn(facts, info) };

  function openError(kind: WalReadErrorKind, file: string): WalReadError {
    return {
      kind,
      file,
      offset: null,
      engineError: WAL_ERRORS.fileNotFound,
      repairable: false,
      stage: 'open',
      fatalText: etcdFatalText('open', WAL_ERRORS.fileNotFound),
    };
  }
}

/** Every file was read whole and each run of entry indexes starts above all before it (see `walIndexesRise`). */
function indexesRiseIn(facts: ReadAllFacts, info: WalInfo): boolean {
  if (facts.overflow || facts.entryDecodeErrors.length > 0 || info.files.some((f) => f.role === 'not-read')) return false;
  let max = -1;
  for (const run of facts.runs) {
    if (run.first <= max) return false;
    max = run.last;
  }
  return true;
}

function markBad(fi: WalFileInfo, e: DecodeError, code: string): void {
  fi.status = 'bad';
  fi.badOffset = e.offset;
  fi.validBytes = e.offset;
  fi.findingCodes.push(code);
}

function addSeqGapFindings(findings: Finding[], files: WalFile[], breaks: number[], severity: 'info' | 'warning'): void {
  for (const at of breaks) {
    const f = files[at]!;
    const prev = files[at - 1]!;
    if (findings.some((x) => x.code === 'wal.seq-gap' && x.file === f.rel)) continue;
    findings.push(
      walFinding({
        severity,
        code: 'wal.seq-gap',
        file: f.rel,
        offset: null,
        params: { file: f.rel, seq: f.parsed.seq, prev: prev.rel, prevSeq: prev.parsed.seq },
        variant: 'info',
      }),
    );
  }
}

function decodeFinding(rel: string, e: DecodeError, isLast: boolean, gapAfter: string | null): Finding {
  const base = { file: rel, offset: e.offset, detail: e.detail };
  const stored = hex32(e.record?.crcField ?? 0);
  const computed = hex32(e.record?.crcComputed ?? 0);
  const opts = { engineError: e.engineError };
  switch (e.failure) {
    case 'record-crc':
      return walFinding({ severity: 'error', code: 'wal.record-crc', file: rel, offset: e.offset, params: { ...base, stored, computed }, ...opts });
    case 'chain-crc':
      return gapAfter
        ? walFinding({
            severity: 'error',
            code: 'wal.chain-crc',
            file: rel,
            offset: e.offset,
            params: { ...base, stored, computed, prev: gapAfter },
            ...opts,
            variant: 'gap',
          })
        : walFinding({ severity: 'error', code: 'wal.chain-crc', file: rel, offset: e.offset, params: { ...base, stored, computed }, ...opts });
    case 'max-size':
      return walFinding({ severity: 'error', code: 'wal.max-size', file: rel, offset: e.offset, params: { ...base, length: e.record?.length ?? 0 }, ...opts });
    case 'proto':
      return walFinding({ severity: 'error', code: 'wal.decode', file: rel, offset: e.offset, params: { ...base, error: e.engineError }, ...opts });
    default:
      if (isLast)
        return walFinding({
          severity: 'warning',
          code: 'wal.torn-tail',
          file: rel,
          offset: e.offset,
          params: { ...base, base: rel.split('/').pop() ?? rel },
          ...opts,
        });
      return walFinding({ severity: 'error', code: 'wal.unexpected-eof', file: rel, offset: e.offset, params: base, ...opts });
  }
}

function confChangesOf(e: RaftEntry): WalConfChange[] {
  if (!e.data) return [];
  if (e.type === 1) {
    const cc = decodeConfChange(e.data);
    if (!cc.ok) return [];
    const out: WalConfChange = { index: e.index, term: e.term, type: confChangeTypeName(cc.value.type), nodeId: idHex(cc.value.nodeId) };
    const m = cc.value.context ? parseMemberJson(cc.value.context, cc.value.nodeId) : null;
    if (m?.name !== undefined) out.name = m.name;
    if (m?.peerURLs) out.peerURLs = m.peerURLs;
    return [out];
  }
  const v2 = decodeConfChangeV2(e.data);
  if (!v2.ok) return [];
  return v2.value.changes.map((c) => ({ index: e.index, term: e.term, type: confChangeTypeName(c.type), nodeId: idHex(c.nodeId) }));
}

// ---------------------------------------------------------------- ReadAll

interface ReadAllResult {
  error:
    { kind: 'decode'; file: number; error: DecodeError } | { kind: 'semantic'; fileIndex: number | null; finding: Finding; readError: WalReadError } | null;
  /** After the predicted repair of a torn last file: the error the second ReadAll hits, or null. */
  afterRepair: WalReadError | null;
  lastIndex: number | null;
  lastTerm: number | null;
  bytesRead: number;
}

type SemanticStop = Extract<NonNullable<ReadAllResult['error']>, { kind: 'semantic' }>;

function semantic(
  fileIndex: number,
  rel: string,
  offset: number,
  code: string,
  engineError: string,
  kind: WalReadErrorKind,
  params: Record<string, string | number>,
  variant?: string,
): SemanticStop {
  return {
    kind: 'semantic',
    fileIndex,
    finding: walFinding({ severity: 'error', code: code, file: rel, offset: offset, params: params, engineError, ...(variant ? { variant } : {}) }),
    readError: { kind, file: rel, offset, engineError, repairable: false, stage: 'read-all', fatalText: etcdFatalText('read-all', engineError) },
  };
}

/** The ways ReadAll stops on a record that decoded: same texts from the streaming pass and from the summary. */
const STOP = {
  entryDecode: (i: number, rel: string, off: number, err: string) =>
    semantic(i, rel, off, 'wal.decode', `unmarshal should never fail (${err})`, 'decode', { file: rel, offset: off, error: err }, 'entry'),
  gap: (i: number, rel: string, off: number, index: number, prev: number) =>
    semantic(i, rel, off, 'wal.index-gap', WAL_ERRORS.sliceOutOfRange, 'other', { file: rel, offset: off, index, prev }),
  metadata: (i: number, rel: string, off: number) =>
    semantic(i, rel, off, 'wal.metadata-conflict', WAL_ERRORS.metadataConflict, 'other', { file: rel, offset: off }),
  snapDecode: (i: number, rel: string, off: number, err: string) =>
    semantic(i, rel, off, 'wal.decode', `unmarshal should never fail (${err})`, 'decode', { file: rel, offset: off, error: err }, 'snapshot'),
  snapMismatch: (i: number, rel: string, off: number, index: number, term: number, snapTerm: number) =>
    semantic(i, rel, off, 'wal.snapshot-mismatch', WAL_ERRORS.snapshotMismatch, 'other', { file: rel, offset: off, index, term, snapTerm }),
  unknownType: (i: number, rel: string, off: number, type: number) =>
    semantic(i, rel, off, 'wal.unknown-record-type', `unexpected block type ${type}`, 'other', { file: rel, offset: off, type: String(type) }),
};

async function readAll(
  dir: DirectorySource,
  files: WalFile[],
  nameIndex: number,
  start: { index: number; term: number },
  opts: RunOptions,
): Promise<ReadAllResult> {
  let metadata: Uint8Array | null = null;
  let match = false;
  let crc = 0;
  /** Last index of the kept entries (`ents`), and its term. */
  let last = start.index;
  let lastTerm: number | null = null;
  let anyEntry = false;
  let bytesRead = 0;
  let semantic: SemanticStop | null = null;
  const stopWith = (stop: SemanticStop) => {
    semantic = stop;
    return false;
  };
  let decodeEnd: { file: number; end: FileEnd } | null = null;
  for (let i = nameIndex; i < files.length; i++) {
    throwIfCancelled(opts.signal);
    const f = files[i]!;
    const src = await dir.open(f.name);
    const r = await readWalFile(src, { isLast: i === files.length - 1, crc, scanTail: false, signal: opts.signal, reuseWindow: true }, (rec) => {
      switch (rec.type) {
        case 2: {
          const d = rec.data ? decodeEntry(rec.data) : { ok: true as const, value: { type: 0, term: 0, index: 0, data: null } as RaftEntry };
          if (!d.ok) {
            return stopWith(STOP.entryDecode(i, f.rel, rec.offset, d.error));
          }
          const e = d.value;
          if (e.index > start.index) {
            const up = e.index - start.index - 1;
            const len = anyEntry ? last - start.index : 0;
            if (up > len) {
              return stopWith(STOP.gap(i, f.rel, rec.offset, e.index, anyEntry ? last : start.index));
            }
            last = e.index;
            lastTerm = e.term;
            anyEntry = true;
          }
          return;
        }
        case 3:
          return;
        case 1:
          if (metadata !== null && !bytesEqual(metadata, rec.data ?? new Uint8Array(0))) {
            return stopWith(STOP.metadata(i, f.rel, rec.offset));
          }
          metadata = (rec.data ?? new Uint8Array(0)).slice();
          return;
        case 4:
          return; // the chain check is done by the file reader
        case 5: {
          const s = rec.data ? decodeWalSnapshot(rec.data) : { ok: true as const, value: { index: 0, term: 0 } };
          if (!s.ok) return stopWith(STOP.snapDecode(i, f.rel, rec.offset, s.error));
          if (s.value.index === start.index) {
            if (s.value.term !== start.term) {
              return stopWith(STOP.snapMismatch(i, f.rel, rec.offset, start.index, s.value.term, start.term));
            }
            match = true;
          }
          return;
        }
        default:
          return stopWith(STOP.unknownType(i, f.rel, rec.offset, rec.type));
      }
    });
    bytesRead += r.bytesRead;
    crc = r.crc;
    if (semantic) break;
    if (r.end.kind === 'error') {
      decodeEnd = { file: i, end: r.end };
      break;
    }
  }
  const base = { lastIndex: anyEntry ? last : null, lastTerm, bytesRead };
  const decodeError = decodeEnd && decodeEnd.end.kind === 'error' ? { file: decodeEnd.file, error: decodeEnd.end.error } : null;
  return finishReadAll(base, semantic, decodeError, match, files, nameIndex, start);
}

function finishReadAll(
  base: Pick<ReadAllResult, 'lastIndex' | 'lastTerm' | 'bytesRead'>,
  semantic: SemanticStop | null,
  decodeError: { file: number; error: DecodeError } | null,
  match: boolean,
  files: WalFile[],
  nameIndex: number,
  start: { index: number; term: number },
): ReadAllResult {
  if (semantic) return { ...base, error: semantic, afterRepair: null };
  const snapshotNotFound = (): WalReadError => ({
    kind: 'snapshot-not-found',
    file: null,
    offset: null,
    engineError: WAL_ERRORS.snapshotNotFound,
    repairable: false,
    stage: 'read-all',
    fatalText: etcdFatalText('read-all', WAL_ERRORS.snapshotNotFound),
  });
  if (decodeError)
    return { ...base, error: { kind: 'decode', file: decodeError.file, error: decodeError.error }, afterRepair: match ? null : snapshotNotFound() };
  if (!match) {
    const rel = files[nameIndex]!.rel;
    return {
      ...base,
      error: {
        kind: 'semantic',
        fileIndex: null,
        finding: walFinding({
          severity: 'error',
          code: 'wal.snapshot-not-found',
          file: rel,
          offset: null,
          params: { file: rel, index: start.index, term: start.term },
          engineError: WAL_ERRORS.snapshotNotFound,
        }),
        readError: snapshotNotFound(),
      },
      afterRepair: null,
    };
  }
  return { ...base, error: null, afterRepair: null };
}

/**
 * What pass 1 remembers so ReadAll need not read the files a second time:
 * runs of consecutive entry indexes, metadata records, snapshot records and
 * the records ReadAll would stop on. Bounded; `overflow` sends the scan back
 * to a real second pass.
 */
interface ReadAllFacts {
  firstRecordIsCrc: boolean[];
  runs: { file: number; offset: number; first: number; last: number; lastTerm: number }[];
  metadata: { file: number; offset: number; value: number }[];
  metaValues: Uint8Array[];
  unknownTypes: { file: number; offset: number; type: number }[];
  entryDecodeErrors: { file: number; offset: number; error: string }[];
  snapDecodeErrors: { file: number; offset: number; error: string }[];
  snapshots: { file: number; offset: number; index: number; term: number }[];
  overflow: boolean;
}

const MAX_FACTS = 200_000;

function newFacts(files: number): ReadAllFacts {
  return {
    firstRecordIsCrc: new Array<boolean>(files).fill(false),
    runs: [],
    metadata: [],
    metaValues: [],
    unknownTypes: [],
    entryDecodeErrors: [],
    snapDecodeErrors: [],
    snapshots: [],
    overflow: false,
  };
}

/** ReadAll from `files[k]` opened at `start`, computed from pass 1's facts (same result as `readAll`). */
function readAllFromFacts(
  facts: ReadAllFacts,
  files: WalFile[],
  k: number,
  start: { index: number; term: number },
  decodeError: { file: number; error: DecodeError } | null,
): ReadAllResult {
  const cands: { file: number; offset: number; stop: SemanticStop }[] = [];
  const rel = (i: number) => files[i]!.rel;
  let L = start.index;
  let any = false;
  let lastTerm: number | null = null;
  for (const run of facts.runs) {
    if (run.file < k || run.last <= start.index) continue;
    if (run.first > start.index) {
      const len = any ? L - start.index : 0;
      if (run.first - start.index - 1 > len) {
        cands.push({ file: run.file, offset: run.offset, stop: STOP.gap(run.file, rel(run.file), run.offset, run.first, any ? L : start.index) });
        break;
      }
    }
    L = run.last;
    lastTerm = run.lastTerm;
    any = true;
  }
  const metas = facts.metadata.filter((m) => m.file >= k);
  const conflict = metas.find((m) => m.value !== metas[0]!.value);
  if (conflict) cands.push({ file: conflict.file, offset: conflict.offset, stop: STOP.metadata(conflict.file, rel(conflict.file), conflict.offset) });
  const unknown = facts.unknownTypes.find((u) => u.file >= k);
  if (unknown)
    cands.push({ file: unknown.file, offset: unknown.offset, stop: STOP.unknownType(unknown.file, rel(unknown.file), unknown.offset, unknown.type) });
  const ed = facts.entryDecodeErrors.find((u) => u.file >= k);
  if (ed) cands.push({ file: ed.file, offset: ed.offset, stop: STOP.entryDecode(ed.file, rel(ed.file), ed.offset, ed.error) });
  const sd = facts.snapDecodeErrors.find((u) => u.file >= k);
  if (sd) cands.push({ file: sd.file, offset: sd.offset, stop: STOP.snapDecode(sd.file, rel(sd.file), sd.offset, sd.error) });
  const mismatch = facts.snapshots.find((x) => x.file >= k && x.index === start.index && x.term !== start.term);
  if (mismatch)
    cands.push({
      file: mismatch.file,
      offset: mismatch.offset,
      stop: STOP.snapMismatch(mismatch.file, rel(mismatch.file), mismatch.offset, start.index, mismatch.term, start.term),
    });
  cands.sort((a, b) => a.file - b.file || a.offset - b.offset);
  const first = cands[0] ?? null;
  const match = facts.snapshots.some(
    (x) =>
      x.file >= k && x.index === start.index && x.term === start.term && (!first || x.file < first.file || (x.file === first.file && x.offset < first.offset)),
  );
  const base = { lastIndex: any ? L : null, lastTerm, bytesRead: 0 };
  return finishReadAll(base, first?.stop ?? null, decodeError && decodeError.file >= k ? decodeError : null, match, files, k, start);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------- inspection listing

/** One line for a decoded record: the English `summary`, and `summaryText` to say it in any language. */
export function summarizeRecord(
  type: number,
  data: Uint8Array | null,
  crcField: number,
): Pick<WalRecordSummary, 'summary' | 'summaryText' | 'index' | 'term' | 'entryType'> & { summaryText: LocalText; problem?: string; problemText?: LocalText } {
  const s = recordText(type, data, crcField);
  return { ...s, summary: translateLocal('en', s.summaryText), ...(s.problemText ? { problem: translateLocal('en', s.problemText) } : {}) };
}

/** A record that passes its checksum but does not decode: the decoder's error, or no data at all. */
function decodeProblem(error: string | null): LocalText {
  return error === null ? { key: 'wal-record.problem.no-data' } : { key: 'wal-record.problem.undecodable', params: { error } };
}

function recordText(
  type: number,
  data: Uint8Array | null,
  crcField: number,
): Pick<WalRecordSummary, 'index' | 'term' | 'entryType'> & { summaryText: LocalText; problemText?: LocalText } {
  const say = (key: string, params?: LocalText['params'], texts?: LocalText['texts']): LocalText => ({
    key,
    ...(params ? { params } : {}),
    ...(texts ? { texts } : {}),
  });
  switch (type) {
    case 1: {
      const m = data ? decodeMetadata(data) : null;
      if (!m || !m.ok) return { summaryText: say('wal-record.metadata.undecodable'), problemText: decodeProblem(m && !m.ok ? m.error : null) };
      return { summaryText: say('wal-record.metadata', { node: idHex(m.value.nodeId), cluster: idHex(m.value.clusterId) }) };
    }
    case 3: {
      const h = data ? decodeHardState(data) : null;
      if (!h || !h.ok) return { summaryText: say('wal-record.hard-state.undecodable'), problemText: decodeProblem(h && !h.ok ? h.error : null) };
      return { summaryText: say('wal-record.hard-state', { term: h.value.term, vote: idHex(h.value.vote), commit: h.value.commit }), term: h.value.term };
    }
    case 4:
      return { summaryText: say('wal-record.crc', { crc: hex32(crcField) }) };
    case 5: {
      const s = data ? decodeWalSnapshot(data) : { ok: true as const, value: { index: 0, term: 0 } };
      if (!s.ok) return { summaryText: say('wal-record.snapshot.undecodable'), problemText: decodeProblem(s.error) };
      return { summaryText: say('wal-record.snapshot', { index: s.value.index, term: s.value.term }), index: s.value.index, term: s.value.term };
    }
    case 2: {
      const d = data ? decodeEntry(data) : { ok: true as const, value: { type: 0, term: 0, index: 0, data: null } as RaftEntry };
      if (!d.ok) return { summaryText: say('wal-record.entry.undecodable'), problemText: decodeProblem(d.error) };
      const e = d.value;
      const head = { index: e.index, term: e.term, entryType: entryTypeName(e.type) };
      if (e.type === 0) {
        if (!e.data || e.data.length === 0) return { ...head, summaryText: say('wal-record.entry.empty') };
        const r = decodeInternalRequest(e.data);
        return { ...head, summaryText: r ? requestText(r) : say('wal-record.entry.opaque', { size: e.data.length }) };
      }
      const cc = confChangesOf(e);
      if (cc.length === 0)
        return {
          ...head,
          summaryText: say('wal-record.entry.conf-undecodable', { size: e.data?.length ?? 0 }, { type: [enumText('entry-type', head.entryType)] }),
        };
      const changes = cc.map((c) => {
        const variant = c.name && c.peerURLs?.length ? '.named-urls' : c.name ? '.named' : c.peerURLs?.length ? '.urls' : '';
        const params: Record<string, string> = { node: c.nodeId };
        if (c.name) params.name = c.name;
        if (c.peerURLs?.length) params.urls = c.peerURLs.join(',');
        return say(`wal-record.conf-change${variant}`, params, { type: [enumText('conf-type', c.type)] });
      });
      return { ...head, summaryText: say('wal-record.conf-changes', undefined, { all: changes }) };
    }
    default:
      return { summaryText: say('wal-record.unknown-type', { type, size: data?.length ?? 0 }), problemText: say('wal-record.problem.unknown-type', { type }) };
  }
}

/** `unknown(N)` names of decoded enums → the catalog's `unknown` case with N. */
function enumText(prefix: string, name: string): LocalText {
  const m = /^unknown\((\d+)\)$/.exec(name);
  return m ? { key: `wal-record.${prefix}.unknown`, params: { n: Number(m[1]) } } : { key: `wal-record.${prefix}.${name}` };
}

function summaryOf(rec: DecodedWalRecord, crcOk: boolean | null, problem: { text: string; local: LocalText } | null): WalRecordSummary {
  const s = summarizeRecord(rec.type, rec.data, rec.crcField);
  const out: WalRecordSummary = {
    number: rec.number,
    offset: rec.offset,
    length: rec.length,
    padding: rec.padding,
    type: recordTypeName(rec.type),
    rawType: rec.type,
    crc: rec.crcAfter,
    crcOk,
    summary: s.summary,
    summaryText: s.summaryText,
    problem: problem?.text ?? s.problem ?? null,
  };
  const problemText = problem?.local ?? s.problemText;
  if (problemText) out.problemText = problemText;
  if (s.index !== undefined) out.index = s.index;
  if (s.term !== undefined) out.term = s.term;
  if (s.entryType !== undefined) out.entryType = s.entryType;
  return out;
}

/** Most records one listing call returns. */
export const MAX_LISTED_RECORDS = 5000;

/**
 * List records `fromRecord .. fromRecord+limit-1` of one WAL file with
 * offsets, CRCs and one-line summaries, like etcd-dump-logs --raw: the CRC
 * chain starts from the file's own CRC record, and a record that fails its
 * checksum is listed with the problem and the listing continues after it
 * (the chain then continues from the stored CRC). A length word that cannot
 * be followed ends the listing with a row saying so.
 */
export async function listWalRecords(src: ByteSource, file: string, fromRecord: number, limit: number): Promise<WalRecordSummary[]> {
  const out: WalRecordSummary[] = [];
  const max = Math.max(0, Math.min(limit, MAX_LISTED_RECORDS));
  const from = Math.max(0, Math.floor(fromRecord));
  if (max === 0) return out;
  const st: FileDecodeState = { fileSize: src.size, isLast: true, crc: 0, offset: 0, recordNo: 0 };
  let win: Uint8Array = new Uint8Array(0);
  let winOff = 0;
  /** Running CRC before the current record (what a CRC record must carry). */
  let prevCrc = 0;
  for (;;) {
    const r = nextRecord(win, winOff, st, false);
    if (r.kind === 'need') {
      const want = Math.max(r.until, Math.min(st.fileSize, st.offset + 4 * 1024 * 1024)) - st.offset;
      win = plain(await readRange(src, st.offset, want));
      winOff = st.offset;
      if (win.length < r.until - st.offset) st.fileSize = st.offset + win.length;
      continue;
    }
    if (r.kind === 'record') {
      const rec = r.record;
      if (rec.number >= from) {
        let crcOk: boolean | null = true;
        let problem: { text: string; local: LocalText } | null = null;
        if (rec.type === RECORD_TYPE.crc) {
          // The chain value before this record is what the previous record left.
          crcOk = prevCrc === 0 ? null : rec.crcField === prevCrc;
          if (crcOk === false) {
            const local: LocalText = {
              key: 'wal-record.problem.chain-crc-listed',
              params: { error: WAL_ERRORS.chainCrc, stored: hex32(rec.crcField), computed: hex32(prevCrc) },
            };
            problem = { text: translateLocal('en', local), local };
          }
        }
        out.push(summaryOf(rec, crcOk, problem));
        if (out.length >= max) return out;
      }
      prevCrc = rec.crcAfter;
      continue;
    }
    const end = r.end;
    if (end.kind === 'eof') return out;
    const e = end.error;
    const number = st.recordNo;
    const frame = e.record;
    const followable = frame !== undefined && e.failure !== 'max-size' && e.failure !== 'short-record';
    if (number >= from) {
      let typeName: WalRecordSummary['type'] = 'unknown';
      // The decoder's own description stays the English summary; the UI names the row and its problem line says why.
      let summary = e.detail;
      let summaryText: LocalText = { key: 'wal-record.unreadable' };
      // The English problem keeps the decoder's numbers; the catalog sentence says the same without them, in any language.
      const problemText: LocalText = { key: `wal-record.problem.${e.failure}`, params: { error: e.engineError } };
      let index: number | undefined;
      let term: number | undefined;
      if (frame && frame.type !== null) {
        typeName = recordTypeName(frame.type);
        // Decode what the record claims to be, for the listing: its content is suspect.
        const bytes = await readRange(src, e.offset + 8, frame.length);
        const u = unmarshalRecord(bytes);
        if (u.ok) {
          const s = summarizeRecord(u.record.type, u.record.data, u.record.crc);
          summaryText = { key: 'wal-record.suspect', texts: { record: [s.summaryText] } };
          summary = translateLocal('en', summaryText);
          index = s.index;
          term = s.term;
        }
      }
      const row: WalRecordSummary = {
        number,
        offset: e.offset,
        length: frame?.length ?? 0,
        padding: frame?.padding ?? 0,
        type: typeName,
        rawType: frame?.type ?? 0,
        crc: frame?.crcComputed ?? st.crc,
        crcOk: e.failure === 'record-crc' || e.failure === 'torn' || e.failure === 'chain-crc' ? false : null,
        summary,
        summaryText,
        problem: `${e.engineError}: ${e.detail}${e.failure === 'torn' ? ' (a 512-byte sector of it is all zero: a torn write if this is the last file)' : ''}`,
        problemText,
      };
      if (index !== undefined) row.index = index;
      if (term !== undefined) row.term = term;
      out.push(row);
      if (out.length >= max) return out;
    }
    if (!followable) return out;
    // Step over the bad record and go on, chaining from its stored CRC when it had one.
    st.offset = e.offset + 8 + frame.length + frame.padding;
    st.crc = frame.crcField ?? st.crc;
    prevCrc = st.crc;
    st.recordNo++;
  }
}

// ---------------------------------------------------------------- entries for salvage

export interface WalEntry {
  index: number;
  term: number;
  /** 'normal', 'conf-change', 'conf-change-v2', or the raw type number as text for an unknown type. */
  type: string;
  request: InternalRequest | null;
  /** Conf-change entries: what they change (added field). */
  confChanges?: WalConfChange[];
  /** The WAL file and offset of the record (added field). */
  file?: string;
  offset?: number;
}

/** A record `readWalEntries` stepped over (`skipDamaged`): what was lost there. */
export interface SkippedRecord {
  file: string;
  offset: number;
  engineError: string;
  detail: string;
  /** The rest of the file could not be followed (garbage length, cut file): skipped to the next file. */
  restOfFile: boolean;
  /** Where the reader went on when it searched for the next frame (the length word gave none): the records between are lost. */
  resumeAt?: number;
  /** A zero length word with records after it: etcd's decoder reads it as the end of the log (`engineError` is Go's `EOF`). */
  zeroWord?: boolean;
  /** The record's type as it decoded (a record that failed only its checksum): a HardState or CRC record writes no key. */
  recordType?: number | null;
}

export interface ReadWalEntriesOptions {
  /**
   * Salvage mode: step over a record that fails its checksum or does not
   * decode (etcd would stop there) and go on with the records after it,
   * chaining the CRC from the bad record's stored value; when a length word
   * cannot be followed, go on with the next file. Default: stop at the first
   * bad record, as etcd does.
   */
  skipDamaged?: boolean;
  onSkip?: (s: SkippedRecord) => void;
  /**
   * Read each file's windows into one reused buffer (see `readWalFile`): an
   * entry's bytes are then valid only until `onEntry`'s promise settles, so
   * the consumer must copy what it keeps.
   */
  reuseWindow?: boolean;
  /**
   * The caller has read these files already (`walIndexesRise` of a scan that
   * found no error): no entry is overwritten by a later one, so the first
   * pass that looks for overwrites is left out (one CRC pass instead of two).
   */
  indexesRise?: boolean;
}

/**
 * Whether a scan saw every entry's index above the one before it (no entry
 * of the log was overwritten by a later leader): then `readWalEntries` needs
 * only one pass (`indexesRise`). False when the scan stopped on an error or
 * could not keep all its facts.
 */
export function walIndexesRise(scan: WalScan): boolean {
  return scan.readError === null && scan.indexesRise === true;
}

/**
 * Stream the entries with index >= `fromIndex` that etcd's log would hold
 * after reading the whole WAL from its first file (a later entry with the
 * same or a lower index replaces the earlier ones, as raft's log does), in
 * index order, stopping at the first record that does not decode or fails
 * its checksum (nothing after it can be trusted) unless `skipDamaged`. Two
 * passes over the files: the first finds where the log was overwritten, the
 * second emits.
 */
export async function readWalEntries(
  dir: DirectorySource,
  relDir: string,
  fromIndex: number,
  onEntry: (e: WalEntry) => void | Promise<void>,
  opts: ReadWalEntriesOptions = {},
): Promise<void> {
  const { files } = await listWalDir(dir, relDir);
  const skip = opts.skipDamaged ?? false;
  const reuse = opts.reuseWindow ?? false;
  // Pass A: ordinal of every entry is implicit; remember overwrite events (ordinal, index).
  const events: { ordinal: number; index: number }[] = [];
  let ordinal = 0;
  let maxIndex = -1;
  const stop = opts.indexesRise
    ? null
    : await walkEntries(
        dir,
        files,
        (e) => {
          if (e.index <= maxIndex) events.push({ ordinal, index: e.index });
          if (e.index > maxIndex) maxIndex = e.index;
          ordinal++;
        },
        null,
        skip,
        opts.onSkip,
        reuse,
      );
  // suffixMin[k] = min index over events[k..]
  const suffixMin = new Array<number>(events.length + 1);
  suffixMin[events.length] = Infinity;
  for (let k = events.length - 1; k >= 0; k--) suffixMin[k] = Math.min(events[k]!.index, suffixMin[k + 1]!);
  let ev = 0;
  ordinal = 0;
  await walkEntries(
    dir,
    files,
    async (e, rel, offset) => {
      while (ev < events.length && events[ev]!.ordinal <= ordinal) ev++;
      ordinal++;
      if (e.index < fromIndex) return;
      if (suffixMin[ev]! <= e.index) return; // replaced later
      await onEntry(walEntryOf(e, rel, offset));
    },
    stop,
    skip,
    // Skips are told by the pass that runs first (pass A, unless it was left out).
    opts.indexesRise ? opts.onSkip : undefined,
    reuse,
  );
}

/** An entry as `readWalEntries` hands it out. */
function walEntryOf(e: RaftEntry, rel: string, offset: number): WalEntry {
  const out: WalEntry = {
    index: e.index,
    term: e.term,
    type: entryTypeName(e.type),
    request: e.type === 0 ? decodeInternalRequest(e.data) : null,
    file: rel,
    offset,
  };
  if (e.type === 1 || e.type === 2) out.confChanges = confChangesOf(e);
  return out;
}

/** Walks entry records of all files with the CRC chain; returns where it stopped (null: the end, or salvage mode). */
async function walkEntries(
  dir: DirectorySource,
  files: WalFile[],
  onEntry: (e: RaftEntry, rel: string, offset: number) => void | Promise<void>,
  stopAt: { file: number; offset: number } | null,
  skipDamaged: boolean,
  onSkip?: (s: SkippedRecord) => void,
  reuseWindow = false,
): Promise<{ file: number; offset: number } | null> {
  let crc = 0;
  let lastIndex = 0;
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const src = await dir.open(f.name);
    let startOffset = 0;
    let startRecord = 0;
    let resync = false;
    for (;;) {
      let stopped = false;
      // Salvage looks past a zero length word (etcd's end of the log) for records after it.
      const scanTail = skipDamaged;
      const r = await readWalFile(src, { isLast: i === files.length - 1, crc, scanTail, startOffset, startRecord, resync, reuseWindow }, (rec) => {
        if (stopAt && stopAt.file === i && rec.offset >= stopAt.offset) {
          stopped = true;
          return false;
        }
        if (rec.type !== 2 || !rec.data) return;
        const d = decodeEntry(rec.data);
        if (!d.ok) return;
        lastIndex = d.value.index;
        return onEntry(d.value, f.rel, rec.offset) as void | Promise<void>;
      });
      crc = r.crc;
      if (stopped) return stopAt;
      if (r.end.kind === 'eof') {
        // A zero length word with records after it (a zeroed run over whole records): etcd's decoder ends the log
        // there; salvage reads on from the next frame that is etcd's, and the records between are lost.
        const resume = skipDamaged && r.end.zeroWord && r.dataAfterEnd !== null ? await frameAfterGap(src, r.dataAfterEnd, { afterIndex: lastIndex }) : null;
        if (resume === null) break;
        onSkip?.({
          file: f.rel,
          offset: r.end.offset,
          engineError: 'EOF',
          detail: `a zero length word where a record should be (etcd's decoder ends the log there); records go on at byte ${resume}`,
          restOfFile: false,
          resumeAt: resume,
          zeroWord: true,
        });
        startOffset = resume;
        startRecord = r.records + 1;
        resync = true;
        continue;
      }
      const e = r.end.error;
      if (!skipDamaged) return { file: i, offset: e.offset };
      const frame = e.record;
      const followed = frame !== undefined && e.failure !== 'max-size' && e.failure !== 'short-record' ? e.offset + 8 + frame.length + frame.padding : null;
      // The length word may be the damaged part: where it leads must be a frame of etcd's, else the reader looks for
      // the next one (a length that lands in the zero tail would skip every record after it).
      const followable = followed !== null && (await frameStartsAt(src, followed));
      // Where the length word leads is no frame of etcd's: read on from the next frame that is, if any.
      const found = followable ? null : await frameAfterGap(src, e.offset + 8, { afterIndex: lastIndex });
      if (frame && followed !== null && found === null) {
        // Stepped over whole: a record that only failed its checksum, or a torn last one whose length leads to the
        // end of the records.
        onSkip?.({
          file: f.rel,
          offset: e.offset,
          engineError: e.engineError,
          detail: e.detail,
          restOfFile: false,
          ...(followable ? { recordType: frame.type } : {}),
        });
        startOffset = followed;
        startRecord = r.records + 1;
        // A record that only failed its checksum still says what the chain was; one that did not decode does not.
        resync = frame.crcField === null;
        crc = frame.crcField ?? crc;
        continue;
      }
      onSkip?.({
        file: f.rel,
        offset: e.offset,
        engineError: e.engineError,
        detail: e.detail,
        restOfFile: found === null,
        ...(found !== null ? { resumeAt: found } : {}),
      });
      if (found === null) {
        crc = 0; // the next file's CRC record restarts the chain
        break;
      }
      startOffset = found;
      startRecord = r.records + 1;
      resync = true;
    }
  }
  return null;
}
