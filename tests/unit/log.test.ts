import { describe, it, expect } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger, mask } from '../../src/log.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'info', format: 'json' }, stream) };
}

describe('logs', () => {
  it('are JSON and redact names, phone numbers, plates and secrets at any of the usual depths', () => {
    const { lines, log } = capture();
    log.info({ deviceId: 'gh-gt-in', plate: '川A12345', person: { displayName: '王婆婆', mobile: '13800001111' }, req: { headers: { authorization: 'Bearer abc' } }, contact: { detail: { phone: '13800002222' } } }, 'plate seen');
    const out = lines.join('');
    const entry = JSON.parse(out);
    expect(entry.msg).toBe('plate seen');
    expect(entry.deviceId).toBe('gh-gt-in');
    expect(entry.plate).toBe('[redacted]');
    expect(entry.person).toEqual({ displayName: '[redacted]', mobile: '[redacted]' });
    for (const secret of ['川A12345', '王婆婆', '13800001111', '13800002222', 'Bearer abc']) expect(out).not.toContain(secret);
  });

  it('masks a value for a line a person reads', () => {
    expect(mask('沪A12345')).toBe('沪*****5');
    expect(mask('13800001111')).toBe('1*********1');
  });
});
