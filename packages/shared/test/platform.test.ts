import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, SERVICES, commonEnv, createLogger, generateEventKeyPair, parseEnv, randomKeySpec, safeError, serviceEnv } from '../src';

describe('logs', () => {
  it('redact personal data wherever it sits in a log object', () => {
    const lines: string[] = [];
    const log = createLogger('test', 'info', { write: (line: string) => void lines.push(line) });
    log.info(
      {
        iin: '900517300019',
        input: { phone: '+77011234567', email: 'a@b.kz', description: 'secret story' },
        ip: '10.0.0.1',
        variables: { iin: '1' },
        appealId: 'kept',
      },
      'submitted',
    );
    const out = lines.join('');
    for (const pd of ['900517300019', '+77011234567', 'a@b.kz', 'secret story', '10.0.0.1']) expect(out).not.toContain(pd);
    expect(out).toContain('kept');
    expect(out).toContain('[REDACTED]');
  });
});

describe('configuration', () => {
  it('reports every problem at once and freezes the result', () => {
    const models = { ...commonEnv, service: serviceEnv(4001), extra: z.object({ SEAL: z.string().min(1) }) };
    try {
      parseEnv(models, { ACTOR_VERIFY_KEYS: '{"kty":"oct","k":"secret"}', PORT: 'x' });
      expect.fail('should throw');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).problems.join('\n');
      for (const name of [
        'ACTOR_VERIFY_KEYS',
        'PD_ENCRYPTION_KEYS',
        'BLIND_INDEX_KEY',
        'EVENT_SIGNING_KEY',
        'EVENT_VERIFY_KEYS',
        'DATABASE_URL',
        'PORT',
        'SEAL',
      ])
        expect(text).toContain(name);
    }
    const eventKey = generateEventKeyPair();
    const env = parseEnv(models, {
      ACTOR_VERIFY_KEYS: eventKey.publicJwk,
      PD_ENCRYPTION_KEYS: randomKeySpec('k1'),
      BLIND_INDEX_KEY: 'y'.repeat(32),
      DATABASE_URL: 'postgres://localhost/x',
      SEAL: 'jwk',
      EVENT_SIGNING_KEY: eventKey.privateJwk,
      EVENT_VERIFY_KEYS: JSON.stringify(Object.fromEntries(SERVICES.map((s) => [s, JSON.parse(eventKey.publicJwk)]))),
    });
    expect(env.service.PORT).toBe(4001);
    expect(env.events.EVENTS_PREFIX).toBe('pdp');
    expect(Object.isFrozen(env)).toBe(true);
  });
});

describe('error logging', () => {
  it('keeps name, message and code, never the driver detail that quotes a stored value', () => {
    const err = Object.assign(new Error('duplicate key value violates unique constraint "subjects_iin_bidx"'), {
      code: '23505',
      constraint: 'subjects_iin_bidx',
      detail: 'Key (iin_bidx)=(abc123) already exists.',
    });
    const logged = JSON.stringify(safeError(err));
    expect(logged).toContain('23505');
    expect(logged).toContain('subjects_iin_bidx');
    expect(logged).not.toContain('abc123');
  });
});
