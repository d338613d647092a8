/**
 * One line per headline ratio of each scenario's result, for the table `npm run bench` prints at the
 * end: what was measured, against which baseline of the same run, the ratio, and the target where the
 * issues set one.
 */
export interface Row {
  scenario: string;
  measure: string;
  baseline: string;
  ratio: number;
  target?: string;
  met?: boolean;
}

type Json = Record<string, any>;

export function summarize(name: string, r: Json): Row[] {
  switch (name) {
    case 'intake':
      return [
        {
          scenario: name,
          measure: 'submitAppeal via gateway, answered per second',
          baseline: 'the same inserts straight into appeals',
          ratio: r.throughputRatio,
          target: '→ 0.5',
          met: r.throughputRatio >= 0.5,
        },
        {
          scenario: name,
          measure: 'submitAppeal, settled in every service per second',
          baseline: 'the same inserts straight into appeals',
          ratio: r.settledRatio,
        },
        {
          scenario: name,
          measure: 'submitAppeal via gateway, answered per second',
          baseline: 'every row of a submission straight into the 4 databases',
          ratio: r.throughputRatioFull,
        },
        {
          scenario: name,
          measure: 'submitAppeal, settled in every service per second',
          baseline: 'every row of a submission straight into the 4 databases',
          ratio: r.settledRatioFull,
        },
      ];
    case 'propagation':
      return [
        { scenario: name, measure: 'block → last receipt, p50, idle', baseline: 'raw JetStream round trip', ratio: r.p50RatioToRaw },
        { scenario: name, measure: 'block → last receipt, p50, under intake', baseline: 'raw JetStream round trip', ratio: r.p50RatioToRawUnderLoad },
      ];
    case 'console':
      return [
        {
          scenario: name,
          measure: `worklist page of 50 in Chromium, click → on screen, p50 ${r.click.p50} ms (target ≤ ${r.targetMs} ms)`,
          baseline: 'the same GraphQL request fetched from the page',
          ratio: r.ratioToRequest,
          target: `p50 ≤ ${r.targetMs} ms`,
          met: r.met,
        },
      ];
    case 'relay-restart':
      return [
        {
          scenario: name,
          measure: 'outbox → stream p50 after a PostgreSQL restart',
          baseline: 'before the restart',
          ratio: round(r.afterRestart.p50 / r.beforeRestart.p50),
        },
      ];
    case 'read':
      return [
        {
          scenario: name,
          measure: 'subject(id) + appeals + consents, per second',
          baseline: 'Hive Gateway, same subgraphs',
          ratio: r.subject.oursOverHive,
          target: '≥ 1.0',
          met: r.subject.oursOverHive >= 1,
        },
        { scenario: name, measure: 'subject(id) + appeals + consents, per second', baseline: 'plain SQL, three databases', ratio: r.subject.oursOverSql },
        {
          scenario: name,
          measure: 'consentTemplate, per second',
          baseline: 'Hive Gateway',
          ratio: r.consentTemplate.oursOverHive,
          target: '≥ 1.0',
          met: r.consentTemplate.oursOverHive >= 1,
        },
        { scenario: name, measure: 'consentTemplate, per second', baseline: 'the subgraph directly', ratio: r.consentTemplate.oursOverSubgraph },
      ];
    case 'worklist':
    case 'scale': {
      const big = name === 'worklist' ? '1M appeals' : '1M subjects / 2M appeals / 10M audit entries';
      return Object.entries(r.ratios as Record<string, { p50: number; p99: number }>).map(([key, v]) => ({
        scenario: name,
        measure: `${key}, p50 (p99 ${v.p99}) at ${big}`,
        baseline: 'the same at 10k',
        ratio: v.p50,
        target: '≤ 1.2',
        met: v.p50 <= 1.2 && v.p99 <= 1.2,
      }));
    }
    case 'revocation':
      return [
        {
          scenario: name,
          measure: `revokeAccess → first refusal on 2 gateways, p99 ${r.revokeToRefusedMs.p99} ms idle`,
          baseline: 'the 5 s target',
          ratio: round(r.revokeToRefusedMs.p99 / 5000),
          target: '≤ 1',
          met: r.revokeToRefusedMs.p99 <= 5000,
        },
        {
          scenario: name,
          measure: `the same under read load, p99 ${r.revokeToRefusedUnderLoadMs.p99} ms`,
          baseline: 'the 5 s target',
          ratio: round(r.revokeToRefusedUnderLoadMs.p99 / 5000),
          target: '≤ 1',
          met: r.revokeToRefusedUnderLoadMs.p99 <= 5000,
        },
        {
          scenario: name,
          measure: 'the registry check of a request (CPU)',
          baseline: 'the CPU of a read through the gateway',
          ratio: r.registryShareOfReadCpu,
          target: '≤ 0.05',
          met: r.registryShareOfReadCpu <= 0.05,
        },
      ];
    case 'limits':
      return [
        {
          scenario: name,
          measure: `consentTemplate per second, rate limits counted in PostgreSQL (p50 +${r.p50AddedMs} ms)`,
          baseline: 'the same, counted in memory',
          ratio: r.throughputRatio,
        },
      ];
    case 'audit':
      return [
        { scenario: name, measure: 'verifyAuditChain(full)', baseline: 'reading the same rows', ratio: r.verifyFull.ratio },
        { scenario: name, measure: 'verifyAuditChain() after 1000 new', baseline: 'reading those 1000 rows', ratio: r.verifyIncremental.ratio },
      ];
    case 'cipher':
      return [
        {
          scenario: name,
          measure: `one field opened on the read path, v2 (${r.perField.v2Ns} ns)`,
          baseline: 'the v1 decryption as it was',
          ratio: r.perField.ratio,
        },
        {
          scenario: name,
          measure: `re-encryption job, values a second (${r.reencryption.valuesPerSecond})`,
          baseline: 'opening and sealing them in the process alone',
          ratio: r.reencryption.ratio,
        },
      ];
    default:
      return [];
  }
}

const round = (x: number) => Number(x.toFixed(2));

export function table(rows: Row[]): string {
  const head = ['scenario', 'measure', 'baseline (same run)', 'ratio', 'target', ''];
  const lines = rows.map((r) => [r.scenario, r.measure, r.baseline, String(r.ratio), r.target ?? '', r.met === undefined ? '' : r.met ? 'met' : 'MISSED']);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}
