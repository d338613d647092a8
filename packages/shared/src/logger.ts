import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

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
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * What of an error may be logged: its name, message, driver code and stack. Never the whole object:
 * a PostgreSQL error's `detail` quotes the stored values it tripped over.
 */
export function safeError(err: unknown): { name: string; message: string; code?: string; stack?: string } {
  if (!(err instanceof Error)) return { name: 'UnknownError', message: 'non-error thrown' };
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message.slice(0, 500), ...(typeof code === 'string' ? { code } : {}), ...(err.stack ? { stack: err.stack } : {}) };
}
