// pino: JSON by default, readable in a terminal. Personal data (names, phones, plates, secrets) is redacted
// wherever it appears under the usual keys; code that logs must still prefer ids over people.
import pino, { type Logger } from 'pino';

const PERSONAL = ['displayName', 'name', 'mobile', 'phone', 'dutyPhone', 'plate', 'plates', 'password', 'secret', 'token', 'authorization', 'accessKeySecret', 'secretKey'];

export const redactPaths = [
  ...PERSONAL,
  ...PERSONAL.map((k) => `*.${k}`),
  ...PERSONAL.map((k) => `*.*.${k}`),
  'req.headers.authorization',
];

export function createLogger(opts: { level: string; format: 'auto' | 'json' | 'pretty' }, destination?: pino.DestinationStream): Logger {
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && process.stdout.isTTY === true);
  const base: pino.LoggerOptions = {
    level: opts.level,
    base: { service: 'shaobing' },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (destination) return pino(base, destination);
  if (pretty) return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  return pino(base);
}

/** Keep the first and last character of a plate or phone number for a log line a person may read. */
export function mask(value: string): string {
  if (value.length <= 2) return '*'.repeat(value.length);
  return `${value[0]}${'*'.repeat(Math.max(1, value.length - 2))}${value[value.length - 1]}`;
}
