/**
 * serve's logger (src/log/): JSON lines with levels and redacted secret fields, and the readable
 * terminal rendering that escapes control characters and indents continuation lines.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, defaultLogFormat } from '../src/log/logger.js';
import { formatRecord } from '../src/log/format-record.js';

function capture(format: 'json' | 'text') {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { logger: createLogger({ format, level: 'debug', out }), text: () => text };
}

describe('serve logger', () => {
  it('writes one JSON object per line with an ISO time, a level name and the fields', () => {
    const { logger, text } = capture('json');
    logger.child({ component: 'scheduler' }).warn({ round: 3 }, 'round 3: 1 ok, 1 failed');
    const record = JSON.parse(text());
    expect(record).toMatchObject({ level: 'warn', component: 'scheduler', round: 3, msg: 'round 3: 1 ok, 1 failed' });
    expect(new Date(record.time).toISOString()).toBe(record.time);
  });

  it('redacts authorization headers, passwords and tokens wherever a field carries them', () => {
    const { logger, text } = capture('json');
    logger.info(
      {
        req: { headers: { authorization: 'Bearer tok-123', cookie: 'sid=c00k' } },
        password: 'pw-456',
        smtp: { password: 'pw-789' },
        web: { token: 'tok-000' },
      },
      'x',
    );
    expect(text()).not.toMatch(/tok-123|c00k|pw-456|pw-789|tok-000/);
    expect(text()).toContain('[redacted]');
  });

  it('renders a readable line on a terminal: level, component, request id, fields', () => {
    const { logger, text } = capture('text');
    logger.child({ component: 'web', reqId: 'a1b2' }).error({ status: 500, url: '/api/hosts?x=1 2' }, 'request failed');
    expect(text()).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z ERROR web: request failed \[req a1b2\] status=500 url="\/api\/hosts\?x=1 2"\n$/,
    );
    expect(defaultLogFormat({ isTTY: true })).toBe('text');
    expect(defaultLogFormat({ isTTY: false })).toBe('json');
  });

  it('drops control characters and bidi overrides (the one sanitiser), and indents continuation lines so no record can be forged', () => {
    const line = formatRecord({
      time: 'T',
      level: 'warn',
      msg: 'FAIL \u001b[2Jbox\u202e\nT INFO  serve: forged',
      err: { type: 'Error', message: 'm', stack: 'Error: m\n    at x' },
    });
    expect(line).toBe('T WARN  FAIL [2Jbox\n    T INFO  serve: forged\n    Error: m\n        at x\n');
    expect(
      line
        .split('\n')
        .slice(1)
        .every((l) => l === '' || l.startsWith('    ')),
    ).toBe(true);
  });

  it('sanitises messages in JSON records too', () => {
    let out = '';
    const logger = createLogger({
      format: 'json',
      out: {
        write: (chunk: string) => {
          out += chunk;
          return true;
        },
      } as unknown as NodeJS.WritableStream,
    });
    logger.warn('host said \u001b]0;pwned\u0007 \u202eevil');
    const record = JSON.parse(out) as { msg: string };
    expect(record.msg).toBe('host said ]0;pwned evil');
  });
});
