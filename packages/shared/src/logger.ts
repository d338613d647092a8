import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import { traceFields, tracingOn } from './tracing';

export type { Logger };

/**
 * Paths that may hold personal data. pino removes them before a line is written, so a careless
 * `log.info({ input })` cannot leak an IIN, a phone number or an appeal's text.
 */
const PD_FIELDS = ['iin', 'phone', 'email', 'description', 'fullName', 'ip', 'userAgent', 'value', 'newValue'];
const REDACT = [
  ...PD_FIELDS,
  ...PD_FIELDS.map((f) => `*.${f}`),
  ...PD_FIELDS.map((f) => `*.*.${f}`),
  'req.headers.authorization',
  'req.headers["x-pdp-actor"]',
  'headers.authorization',
  'variables',
  '*.variables',
];

export function createLogger(service: string, level = 'info', destination?: DestinationStream): Logger {
  const options = {
    name: service,
    level,
    base: { service },
    redact: { paths: REDACT, censor: '[REDACTED]' },
    serializers: { err: stdSerializers.err },
    // While tracing, each line written inside a trace carries its ids (trace_id, span_id); off, no mixin at all.
    ...(tracingOn() ? { mixin: traceFields } : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Strips what might be the caller's input from an error text: quoted values (PostgreSQL's
 * `invalid input syntax for type uuid: "…"`, JSON.parse's `"{\"iin\"…" is not valid JSON`), e-mail
 * addresses and runs of digits long enough to be an IIN or a phone number.
 */
export function scrubText(text: string): string {
  return text
    .replace(/"[\s\S]*"|"[\s\S]*$/g, '"…"')
    .replace(/'[^']*'/g, "'…'")
    .replace(/[^\s@"']+@[^\s@"']+/g, '…@…')
    .replace(/\+?\d[\d\s()-]{5,}\d/g, '…')
    .replace(/\d{3,}/g, '…');
}

/**
 * What of an error may be logged: its name, driver code, a scrubbed message and the stack frames.
 * Never the whole object: a PostgreSQL error's `detail` quotes the stored values it tripped over, its
 * message may quote the caller's input, and a stack's first line repeats the message.
 */
export function safeError(err: unknown): { name: string; message: string; code?: string; stack?: string } {
  if (!(err instanceof Error)) return { name: 'UnknownError', message: 'non-error thrown' };
  const code = (err as { code?: unknown }).code;
  const isDriverError = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
  // A driver error's schema names (constraint, table, column) say what tripped; its text may quote values.
  const where = ['constraint', 'table', 'column']
    .map((k) => [k, (err as unknown as Record<string, unknown>)[k]] as const)
    .filter(([, v]) => typeof v === 'string' && /^[\w.]{1,63}$/.test(v))
    .map(([k, v]) => `${k} ${String(v)}`);
  const message = isDriverError ? `database error ${code}${where.length ? ` (${where.join(', ')})` : ''}` : scrubText(err.message.slice(0, 500));
  const frames = err.stack
    ?.split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n');
  return { name: err.name, message, ...(typeof code === 'string' ? { code } : {}), ...(frames ? { stack: frames } : {}) };
}
