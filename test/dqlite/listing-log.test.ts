/**
 * A pasted listing plus the k8s-dqlite journal line (the field report): the
 * line names the failing segment, so the listing view gives a verdict, the bad
 * file, and the plan as far as names and sizes allow.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeListing, engineErrorInLog } from '../../shared/formats/dqlite/listing';
import { MESSAGES, interpolate } from '../../shared/i18n';
import { FIELD_REPORTS } from '../helpers/field-reports';

const FIELD = readFileSync(`${FIELD_REPORTS}/microk8s-backend-listing.txt`, 'utf8');
const JOURNAL = readFileSync(`${FIELD_REPORTS}/microk8s-k8s-dqlite-journal.log`, 'utf8');
const BAD = '0000000014232389-0000000014232597';
const ENGINE = `load closed segment ${BAD}: entries batch 394 starting at byte 8384000: entries count in preamble is zero`;
const B = '/var/snap/microk8s/current/var/kubernetes/backend';

describe('the journal line names the failing segment', () => {
  it('reads the engine text, file and offset out of the real journal line (without the escaped newline)', () => {
    expect(engineErrorInLog(JOURNAL.split('\n'))).toEqual({ text: ENGINE, file: BAD, offset: 8384000 });
    expect(engineErrorInLog(['Feb 03 08:18:08 host systemd[1]: snap.microk8s.daemon-k8s-dqlite.service: Main process exited'])).toBeNull();
    // Bounded: a huge line is read up to a limit and never hangs.
    expect(engineErrorInLog(['x'.repeat(1_000_000)])).toBeNull();
  });

  it('listing + log: verdict "does not start", the bad file in red at its offset, and the field report fix as the plan', () => {
    const a = analyzeListing(FIELD, { log: JOURNAL });
    expect(a.startable).toBe(false);
    expect(a.engineError).toEqual({ text: ENGINE, file: BAD, offset: 8384000 });
    const bad = a.segments.filter((s) => s.status === 'bad');
    expect(bad.map((s) => [s.file, s.role, s.badOffset, s.validBytes])).toEqual([[BAD, 'fails', 8384000, 8384000]]);
    const f = a.findings.find((x) => x.code === 'listing.log-start-fails');
    expect(f).toMatchObject({ severity: 'error', file: BAD, offset: 8384000, engineError: ENGINE });
    const plan = a.plan!;
    expect(plan).toMatchObject({ needed: true, startsAfter: true, backend: { path: B, origin: 'microk8s-default' } });
    expect(plan.lost).toEqual([expect.objectContaining({ file: BAD, first: 14232389, last: 14232597, coveredBySnapshot: true })]);
    expect(plan.steps.filter((s) => s.command).map((s) => s.command)).toEqual([
      'sudo snap stop microk8s',
      `sudo tar -C /var/snap/microk8s/current/var/kubernetes -czf /root/lifeboat-backup-$(date +%Y%m%d-%H%M%S).tar.gz backend`,
      'sudo mkdir -p /var/snap/microk8s/current/var/kubernetes/lifeboat-quarantine',
      `sudo mv ${B}/${BAD} /var/snap/microk8s/current/var/kubernetes/lifeboat-quarantine/`,
      'sudo snap start microk8s',
      'sudo journalctl -u snap.microk8s.daemon-k8s-dqlite -n 50 --no-pager && microk8s kubectl --request-timeout=30s get nodes',
    ]);
    // What a copy-out would add is said in the plan.
    expect(plan.steps.some((s) => s.explanationText?.key === 'dqlite.listing.plan.copy-out-adds')).toBe(true);
    expect(plan.summary).toBe(
      `Move ${BAD} aside: it holds only entries 14232389..14232597, all inside snapshot 14233671, so nothing is lost. By names and sizes the rest of the log then loads; copy the files out to confirm it before you run the plan.`,
    );
    // The failing file leads the copy-out list, named once (the reason does not repeat its name).
    expect(a.copyOut[0]).toEqual({ file: BAD, why: 'the log says start-up fails on it', whyText: { key: 'dqlite.listing.why.log' } });
    for (const c of a.copyOut) expect(c.why).not.toContain(c.file);
  });

  it('the journal pasted into the same box as the listing works the same, and is not counted as unreadable listing lines', () => {
    const a = analyzeListing(`${FIELD}\n${JOURNAL}`);
    expect(a.startable).toBe(false);
    expect(a.engineError?.file).toBe(BAD);
    // Only the systemd "Main process exited" line is not a listing line.
    expect(a.findings.find((f) => f.code === 'listing.unparsed-lines')?.params).toEqual({ count: 1 });
  });

  it('the plan names the node path the listing came from', () => {
    const a = analyzeListing(FIELD, { log: JOURNAL, backend: { path: '/srv/dqlite', origin: 'in-place' } });
    expect(a.plan!.steps.find((s) => s.file === BAD)?.command).toBe(`sudo mv /srv/dqlite/${BAD} /srv/lifeboat-quarantine/`);
  });

  it('a failing segment not inside the snapshot: no guessed commands, the plan says what the copy-out must tell', () => {
    const listing = [
      '-rw-rw---- 1 root microk8s 8384512 Jan 28 00:41 0000000000000001-0000000000000100',
      '-rw-rw---- 1 root microk8s 4096 Jan 28 00:41 0000000000000101-0000000000000120',
      '-rw-rw---- 1 root microk8s 8388608 Jan 28 00:45 open-3',
    ].join('\n');
    const log =
      'raft_start(): io: load closed segment 0000000000000001-0000000000000100: entries batch 7 starting at byte 4000: entries count in preamble is zero';
    const a = analyzeListing(listing, { log });
    expect(a.startable).toBe(false);
    expect(a.plan).toMatchObject({
      needed: true,
      startsAfter: false,
      summaryText: { key: 'dqlite.listing.plan.needs-copy.truncate', params: { offset: 4000, first: 1, last: 100 } },
    });
    expect(a.plan!.steps.every((s) => s.command === '')).toBe(true);
  });

  it('a log naming a file the listing does not have is a warning, not a verdict', () => {
    const a = analyzeListing(FIELD, {
      log: 'load closed segment 0000000000000001-0000000000000002: entries batch 1 starting at byte 8: entries count in preamble is zero',
    });
    expect(a.startable).toBeNull();
    expect(a.plan).toBeNull();
    expect(a.findings.find((f) => f.code === 'listing.log-file-missing')?.severity).toBe('warning');
    expect(a.segments.some((s) => s.status === 'bad')).toBe(false);
  });

  it('without a log, the narrative and copy-out reasons come with catalog keys (Chinese UI), and counts are plural-correct', () => {
    const a = analyzeListing(FIELD);
    expect(a.startable).toBeNull();
    expect(a.narrativeText).toHaveLength(a.narrative.length);
    const zh = a.narrativeText!.map((l) => interpolate(MESSAGES['zh-CN'][l.key], l.params));
    expect(zh.every((l) => /[\u4e00-\u9fff]/.test(l))).toBe(true);
    for (const c of a.copyOut) expect(MESSAGES['zh-CN'][c.whyText!.key]).toBeTruthy();
    const open = a.findings.find((f) => f.code === 'listing.open-segments')!;
    expect(open.message).toBe(
      '3 open segments (open-28053, open-28054, open-28055) hold the newest entries; their first index is not in the name and is inferred from the segment before them.',
    );
    const one = analyzeListing('-rw-rw---- 1 root microk8s 73728 Jan 28 00:45 open-3').findings.find((f) => f.code === 'listing.open-segments')!;
    expect(one.message).toBe(
      '1 open segment (open-3) holds the newest entries; its first index is not in the name and is inferred from the segment before it.',
    );
  });
});
