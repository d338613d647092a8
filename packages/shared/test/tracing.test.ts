import { describe, expect, test } from 'vitest';
import { sanitizeStatement, tracingRequested } from '../src/tracing';

describe('tracing: when it is on', () => {
  test('only when told where to send spans, and never when the SDK is disabled', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' })).toBe(false);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' })).toBe(false);
  });
});

describe('tracing: statements are recorded without values', () => {
  test('parameters stay placeholders; literals, dollar-quoted strings and numbers become ?', () => {
    expect(sanitizeStatement('select "id" from "subjects" where "iin_index" = $1 limit $2')).toBe(
      'select "id" from "subjects" where "iin_index" = $1 limit $2',
    );
    expect(sanitizeStatement("update subjects set phone = '+7 705 913 42 86', note = 'O''Brien' where iin = 790321450123")).toBe(
      'update subjects set phone = ?, note = ? where iin = ?',
    );
    expect(sanitizeStatement("select $tag$Тлеубердиева$tag$, $$x$$, E'a\\b', 1.5e3 from t2 where c3 > -7")).toBe('select ?, ?, ?, ? from t2 where c3 > ?');
    expect(sanitizeStatement('insert into "audit_entries" ("seq") values ($1), ($2)\n  returning  "seq"')).toBe(
      'insert into "audit_entries" ("seq") values ($1), ($2) returning "seq"',
    );
  });
});
