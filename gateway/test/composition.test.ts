import { describe, expect, it } from 'vitest';
import { composeSupergraph, subgraphSdl, SUBGRAPHS, type SubgraphName } from '../src/composition';

const urls = Object.fromEntries(SUBGRAPHS.map((n) => [n, `http://${n}.test/graphql`])) as Record<SubgraphName, string>;

describe('supergraph composition', () => {
  it('composes the four subgraphs, with Subject owned by subjects and extended by the others', () => {
    const sdl = composeSupergraph(urls);
    expect(sdl).toMatch(/type Subject\s+@join__type\(graph: APPEALS, key: "id"\)/);
    for (const field of ['appeals: [Appeal!]!', 'consents: [Consent!]!', 'auditTrail: [AuditEntry!]!', 'status: SubjectStatus!']) {
      expect(sdl).toContain(field);
    }
    // The contract's fixed names are present.
    for (const name of ['submitAppeal(input: SubmitAppealInput!): SubmitAppealPayload!', 'subjectByIin(iin: String!): Subject', 'enum AppealKind']) {
      expect(sdl).toContain(name);
    }
  });

  it('fails loudly when a subgraph breaks composition', () => {
    const broken = (name: SubgraphName) =>
      name === 'appeals' ? subgraphSdl(name).replace('appeals: [Appeal!]!', 'appeals: [Appeal!]!\n  status: Int') : subgraphSdl(name);
    expect(() => composeSupergraph(urls, broken)).toThrow(/composition failed/);
  });
});
