/**
 * The Stop's script run by a real sh on real processes, each case inside a
 * PID namespace of its own (`unshare --pid --mount-proc`: whatever the script
 * signals, it cannot reach this machine's other processes). A tagged
 * command's whole tree (the shell, a child in the background, a grandchild)
 * ends on TERM; a process that ignores TERM gets KILL after the grace;
 * untagged processes, and another run's, are left alone; the script does not
 * find itself though its text is in its environment (sudo's SUDO_COMMAND);
 * a damaged tag or a match of hundreds of processes signals nothing. The
 * output names what was ended, and the parser reads it (and nothing from
 * garbage).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quoteAlways } from '../../shared/node/shell';
import { MAX_TAGGED_PROCESSES, endTaggedScript, isRunTag, newRunTag, parseEndedProcesses, processNames, taggedCommand } from '../../shared/node/run-tag';

// With CI=true a missing unshare fails the run (the test then reports why) instead of skipping it.
const RUN = process.env.CI === 'true' || spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

interface Outcome {
  /** The script's exit status and output. */
  code: number;
  stdout: string;
  /** `sleep` processes alive in the namespace afterwards, by their command line. */
  alive: string[];
  seconds: number;
}

/**
 * Starts `setup` (sh, in the background) in a new PID namespace, then runs `script` as sudo would (its text in
 * SUDO_COMMAND), and lists the sleeps left.
 */
function inNamespace(setup: string, script: string): Outcome {
  const driver = [
    setup,
    'sleep 0.5',
    `s=${quoteAlways(script)}`,
    'start=$(date +%s%N)',
    'o=$(mktemp)',
    'SUDO_COMMAND="/bin/sh -c $s" sh -c "$s" > "$o"; code=$?',
    'end=$(date +%s%N)',
    'echo "CODE $code $(( (end - start) / 1000000 ))"',
    'cat "$o"; rm -f "$o"',
    "echo ALIVE; ps -eo args= | grep '^sleep ' || true",
  ].join('\n');
  const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', driver], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const [head, rest] = r.stdout.split(/^ALIVE\n/m) as [string, string];
  const m = /^CODE (\d+) (\d+)\n([\s\S]*)$/m.exec(head);
  expect(m, r.stdout).not.toBeNull();
  return { code: Number(m![1]), seconds: Number(m![2]) / 1000, stdout: m![3]!, alive: rest.split('\n').filter(Boolean).sort() };
}

describe.runIf(RUN)('ending a stopped command by its run tag (in a PID namespace of its own)', () => {
  const tag = 'lb-0123456789abcdef';
  const other = 'lb-fedcba9876543210';

  it('ends the tagged tree with TERM and leaves the rest alone', () => {
    const setup = [
      // A shell with a child in the background and a grandchild in the foreground.
      `${taggedCommand('sleep 4399 & sh -c "sleep 4398"; echo never', tag)} &`,
      // The same sleep untagged, and tagged by another run: neither may be touched.
      'sleep 4397 &',
      `${taggedCommand('exec sleep 4396', other)} &`,
    ].join('\n');
    const r = inNamespace(setup, endTaggedScript(tag));
    expect(r.code).toBe(0);
    const ended = parseEndedProcesses(r.stdout);
    // The outer shell (env exec'd it with the tag), the inner shell and both sleeps.
    expect(ended.termed.map((p) => p.name).sort()).toEqual(['sh', 'sh', 'sleep', 'sleep']);
    expect(ended.killed).toEqual([]);
    expect(ended.left).toEqual([]);
    expect(processNames(ended.termed)).toBe('sh, sleep');
    expect(r.alive).toEqual(['sleep 4396', 'sleep 4397']);
    expect(r.seconds).toBeLessThan(4);
  }, 60_000);

  it('signals nothing when nothing carries the tag', () => {
    const r = inNamespace('sleep 4397 &', endTaggedScript(tag));
    expect(r).toMatchObject({ code: 0, stdout: '', alive: ['sleep 4397'] });
  }, 60_000);

  it('sends KILL to what ignores TERM, after the grace', () => {
    // SIG_IGN is inherited across exec: the shell and its sleep both ignore TERM.
    const r = inNamespace(`${taggedCommand("trap '' TERM; sleep 4399", tag)} &`, endTaggedScript(tag));
    expect(r.code).toBe(0);
    const ended = parseEndedProcesses(r.stdout);
    expect(ended.termed.map((p) => p.name).sort()).toEqual(['sh', 'sleep']);
    expect(ended.killed.map((p) => p.name).sort()).toEqual(['sh', 'sleep']);
    expect(r.seconds).toBeGreaterThanOrEqual(4.5);
    expect(r.alive).toEqual([]);
  }, 60_000);

  it('signals nothing for a damaged tag, or when the match is hundreds of processes', () => {
    const setup = `${taggedCommand('exec sleep 4399', tag)} &\nsleep 4397 &`;
    // The tag's second half lost (what a `$t0123…` once did: a variable of another name, empty).
    const damaged = endTaggedScript(tag).replace('0123456789abcdef', '');
    const r = inNamespace(setup, damaged);
    expect(r).toMatchObject({ code: 2, stdout: 'BAD-TAG\n', alive: ['sleep 4397', 'sleep 4399'] });

    const many = `for i in $(seq ${MAX_TAGGED_PROCESSES + 1}); do ${taggedCommand('exec sleep 4395', tag)} & done`;
    const crowd = inNamespace(many, endTaggedScript(tag));
    expect(crowd).toMatchObject({ code: 3, stdout: 'TOO-MANY\n' });
    expect(crowd.alive).toHaveLength(MAX_TAGGED_PROCESSES + 1);
  }, 60_000);
});

describe('run tags and the script’s answer', () => {
  it('accepts only plain tags, quotes the command, and parses only its own lines', () => {
    expect(isRunTag('lb-0123456789abcdef')).toBe(true);
    const fresh = new Set(Array.from({ length: 1000 }, () => newRunTag()));
    expect(fresh.size).toBe(1000);
    for (const t of fresh) expect(isRunTag(t)).toBe(true);
    for (const bad of ['', 'lb-0123456789abcde', 'lb-0123456789abcdef0', 'lb-0123456789ABCDEF', 'lb-$(reboot)0000000', 'lb 0123456789abcdef']) {
      expect(isRunTag(bad)).toBe(false);
      expect(() => taggedCommand('true', bad)).toThrow(/not a run tag/);
      expect(() => endTaggedScript(bad)).toThrow(/not a run tag/);
    }
    expect(taggedCommand("echo 'a b'", 'lb-0123456789abcdef')).toBe(`env LIFEBOAT_RUN=lb-0123456789abcdef sh -c 'echo '\\''a b'\\'''`);
    const tagged = spawnSync('sh', ['-c', taggedCommand(`printf '%s|%s' "$LIFEBOAT_RUN" 'a b'`, 'lb-0123456789abcdef')], { encoding: 'utf8' });
    expect(tagged.stdout).toBe('lb-0123456789abcdef|a b');
    // The script's text never holds the whole tag (sudo puts it in the environment the script's processes share).
    expect(endTaggedScript('lb-0123456789abcdef')).not.toContain('lb-0123456789abcdef');

    expect(parseEndedProcesses('motd line\nTERM 12 etcdctl\nTERM 13\nKILL 12 etcdctl\nLEFT 12 99\nTERM x y\n' + 'TERM 1 ' + 'n'.repeat(100))).toEqual({
      termed: [
        { pid: 12, name: 'etcdctl' },
        { pid: 13, name: '?' },
      ],
      killed: [{ pid: 12, name: 'etcdctl' }],
      left: [12, 99],
    });
    expect(parseEndedProcesses('\u0000'.repeat(100_000) + '\n'.repeat(50_000))).toEqual({ termed: [], killed: [], left: [] });
  });
});
