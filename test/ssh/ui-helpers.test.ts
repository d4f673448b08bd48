/**
 * The SSH workspace's pure helpers: the connection form's fields to a
 * target (ProxyJump entries like ssh's `-J`), base64 decoding of terminal
 * bytes (must equal Node's, including split UTF-8), and ack batching (every
 * rendered byte acknowledged exactly once, or the channel stays paused).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fieldsFromTarget, parseEndpoint, targetFromFields, targetLabel, type ConnectionFields } from '../../renderer/src/features/ssh/targets';
import { decodeBase64 } from '../../renderer/src/features/terminal/base64';
import { AckBatcher } from '../../renderer/src/features/terminal/ack-batcher';

const form = (patch: Partial<ConnectionFields> = {}): ConnectionFields => ({
  host: 'node1.example',
  port: '22',
  user: 'ubuntu',
  identityFile: '',
  jumps: '',
  useAgent: true,
  ...patch,
});

describe('connection form', () => {
  it('builds a target with a ProxyJump chain, first hop first, defaulting user and port', () => {
    const r = targetFromFields(form({ port: '2222', identityFile: ' ~/.ssh/id_ed25519 ', jumps: 'ops@bastion:2200, inner , [fd00::5]:22' }));
    expect(r).toEqual({
      target: {
        host: 'node1.example',
        port: 2222,
        user: 'ubuntu',
        useAgent: true,
        identityFiles: ['~/.ssh/id_ed25519'],
        jumps: [
          { host: 'bastion', port: 2200, user: 'ops' },
          { host: 'inner', port: 22, user: 'ubuntu' },
          { host: 'fd00::5', port: 22, user: 'ubuntu' },
        ],
      },
    });
  });

  it('names the problem instead of connecting somewhere unintended', () => {
    expect(targetFromFields(form({ host: ' ' }))).toEqual({ problem: { kind: 'need-host' } });
    expect(targetFromFields(form({ user: '' }))).toEqual({ problem: { kind: 'need-host' } });
    for (const port of ['0', '65536', '22a', '-1', '']) {
      const r = targetFromFields(form({ port }));
      if (port === '') expect(r).toHaveProperty('target.port', 22);
      else expect(r).toEqual({ problem: { kind: 'bad-port' } });
    }
    expect(targetFromFields(form({ jumps: 'ops@bastion:99999' }))).toEqual({ problem: { kind: 'bad-jump', entry: 'ops@bastion:99999' } });
    expect(targetFromFields(form({ jumps: 'a b' }))).toEqual({ problem: { kind: 'bad-jump', entry: 'a b' } });
    expect(parseEndpoint('@host', 'u')).toBeNull();
  });

  it('round-trips an imported ssh-config host through the form', () => {
    const target = {
      host: '10.0.0.7',
      port: 22,
      user: 'root',
      label: 'cp1',
      identityFiles: ['/k/id'],
      jumps: [{ host: 'b', port: 2201, user: 'j' }],
      useAgent: false,
    };
    const back = targetFromFields(fieldsFromTarget(target));
    expect(back).toEqual({
      target: { host: '10.0.0.7', port: 22, user: 'root', identityFiles: ['/k/id'], jumps: [{ host: 'b', port: 2201, user: 'j' }], useAgent: false },
    });
    expect(targetLabel(target)).toBe('cp1 (root@10.0.0.7)');
    expect(targetLabel({ host: 'h', port: 2022, user: 'u' })).toBe('u@h:2022');
  });
});

describe('terminal bytes', () => {
  it('decodes base64 exactly like Node, for every length and for UTF-8 split across chunks', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = randomBytes(n);
      expect(Buffer.from(decodeBase64(bytes.toString('base64')))).toEqual(bytes);
    }
    const text = Buffer.from('数据 ok 🚑 raft', 'utf8');
    const parts = [text.subarray(0, 1), text.subarray(1, 5), text.subarray(5, 13), text.subarray(13)];
    const joined = Buffer.concat(parts.map((p) => Buffer.from(decodeBase64(p.toString('base64')))));
    expect(joined.toString('utf8')).toBe('数据 ok 🚑 raft');
    expect(() => decodeBase64('ab$d')).toThrow(/invalid base64/);
  });
});

describe('ack batching', () => {
  afterEach(() => vi.useRealTimers());

  it('acknowledges every byte exactly once, in few messages', () => {
    vi.useFakeTimers();
    const sent: number[] = [];
    const acks = new AckBatcher((n) => sent.push(n), 64 * 1024, 15);
    let total = 0;
    for (let i = 0; i < 1000; i++) {
      const n = 1 + ((i * 7919) % 4096);
      total += n;
      acks.add(n);
    }
    vi.advanceTimersByTime(20);
    expect(sent.reduce((a, b) => a + b, 0)).toBe(total);
    expect(sent.length).toBeLessThan(total / (64 * 1024) + 2);
    // A small write alone is still acknowledged (after the short delay), never forgotten.
    acks.add(10);
    expect(sent.at(-1)).not.toBe(10);
    vi.advanceTimersByTime(20);
    expect(sent.at(-1)).toBe(10);
    acks.add(5);
    acks.dispose();
    vi.advanceTimersByTime(50);
    expect(sent.at(-1)).toBe(10);
  });
});
