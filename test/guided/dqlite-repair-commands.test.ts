/**
 * The MicroK8s playbook's quarantine step runs the validator's repair plan
 * through sudo once (the step's own `sudo: true`): the plan's commands,
 * written for an operator's shell with a `sudo` before each, must come
 * without it, so the command the checklist shows ("Runs exactly this
 * (through sudo)") is what runs, once, and runs the same for a user with
 * sudo and for root. Run here with sh (as root would run it) on a stand-in
 * backend whose path has a space and the word sudo in it.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepairPlan } from '../../shared/contract/dqlite';
import { planSteps } from '../../shared/formats/dqlite/repair-plan';
import { microk8sDqlite } from '../../shared/guided/playbooks';
import { renderCommand } from '../../shared/guided/runner';
import { dqliteRepairCommands, dqliteRepairLost, withoutLeadingSudo } from '../../shared/guided/variables';

describe('the quarantine step runs the repair plan through sudo once', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'guided-dqlite-sudo-'));
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('takes out only the sudo that opens a command, never one inside a quoted word', () => {
    expect(withoutLeadingSudo('sudo mkdir -p /q && sudo mv /a /q/')).toBe('mkdir -p /q && mv /a /q/');
    expect(withoutLeadingSudo("printf '\\001' | sudo tee '/x/sudo y' > /dev/null; sudo od '/x/sudo y'")).toBe(
      "printf '\\001' | tee '/x/sudo y' > /dev/null; od '/x/sudo y'",
    );
    expect(withoutLeadingSudo('echo "&& sudo rm" && sudo true || sudo false')).toBe('echo "&& sudo rm" && true || false');
    expect(withoutLeadingSudo('visudo -c && sudoedit x')).toBe('visudo -c && sudoedit x');
  });

  it('shows and runs the plan with no sudo of its own, and the commands work as root would run them', async () => {
    const backend = path.join(tmp, 'kubernetes', 'my sudo backend');
    await fs.mkdir(backend, { recursive: true });
    const seg = '0000000000000001-0000000000000010';
    const open = 'open-1';
    await fs.writeFile(path.join(backend, seg), 'closed segment');
    await fs.writeFile(path.join(backend, open), 'open segment bytes');
    await fs.writeFile(path.join(backend, 'metadata1'), 'old');
    const steps = planSteps(
      [
        { op: 'quarantine', file: seg },
        { op: 'truncate-rename', file: open, bytes: 4, newName: open },
        { op: 'quarantine', file: 'metadata1' },
        { op: 'write', file: 'metadata1', bytes: new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]) },
      ],
      [],
      [{ name: seg, kind: 'closed', first: 1, last: 16 }],
      { path: backend, origin: 'in-place' },
      '20261203-081500',
    );
    // The plan itself is for an operator's shell: every file operation through sudo.
    expect(steps.filter((s) => s.kind === 'quarantine').every((s) => s.command.startsWith('sudo '))).toBe(true);
    const plan: RepairPlan = { backend: { path: backend, origin: 'in-place' }, needed: true, startsAfter: true, steps, lost: [], summary: '' };
    const commands = dqliteRepairCommands(plan);
    expect(commands).not.toMatch(/(^|&&|\||;)\s*sudo\s/);
    expect(commands).toContain(`'${backend}/${seg}'`);

    // The step shows exactly this, and runs it through sudo (the runner wraps it once: sudo sh -c '…').
    const step = microk8sDqlite.steps.find((s) => s.id === 'quarantine')!;
    expect(step.sudo).toBe(true);
    expect(renderCommand(step.command!, { repairCommands: commands, dataDir: backend }).command).toBe(commands);

    const r = spawnSync('sh', ['-c', commands], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const quarantine = path.join(tmp, 'kubernetes', 'lifeboat-quarantine');
    expect((await fs.readdir(quarantine)).sort()).toEqual([seg, 'metadata1', `${open}.orig`].sort());
    expect(await fs.readFile(path.join(backend, open), 'utf8')).toBe('open');
    expect([...(await fs.readFile(path.join(backend, 'metadata1')))]).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(await fs.readdir(backend)).not.toContain(seg);
  });
});

describe('the repair choice names the entries the quarantine gives up', () => {
  const lost = (ranges: [number, number, boolean][]) =>
    ({ lost: ranges.map(([first, last, coveredBySnapshot]) => ({ first, last, coveredBySnapshot, file: 'f', reason: 'r' })) }) as unknown as RepairPlan;

  it('lists the ranges no snapshot covers, 0 when none, and bounds a long list', () => {
    expect(dqliteRepairLost(undefined)).toBe('0');
    expect(dqliteRepairLost(lost([[10, 20, true]]))).toBe('0');
    expect(
      dqliteRepairLost(
        lost([
          [10, 20, true],
          [21, 40, false],
          [45, 45, false],
        ]),
      ),
    ).toBe('21-40, 45');
    const many = lost(Array.from({ length: 11 }, (_, i) => [i * 10, i * 10 + 1, false] as [number, number, boolean]));
    expect(dqliteRepairLost(many)).toBe('0-1, 10-11, 20-21, 30-31, 40-41, 50-51, 60-61, 70-71, +3');
  });

  it("is said in the decision's text in both languages, as it is (not shell-quoted)", () => {
    const step = microk8sDqlite.steps.find((s) => s.id === 'choose-repair')!;
    for (const lang of ['en', 'zh-CN'] as const) {
      expect(renderCommand(step.body[lang], { repairLost: '21-40, 45' }).command).toContain(lang === 'en' ? '(here: 21-40, 45)' : '（此处为：21-40, 45）');
    }
  });
});
