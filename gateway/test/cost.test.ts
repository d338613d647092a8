import { buildSchema, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAGE_COST, requestCost } from '../src/cost';

const schema = buildSchema(`
  type Entry { seq: ID!  type: String!  note: String }
  type Page { items: [Entry!]!  total: Int! }
  type Query { entries(first: Int): Page!  entry: Entry  counts(limit: Int): [Int!]! }
`);

const cost = (query: string, variables: Record<string, unknown> = {}) => {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return requestCost(schema, document, operation, variables);
};

describe('the cost of a request', () => {
  it('multiplies a page by its size, written as a literal, sent as a variable or left to its default', () => {
    const literal = cost('{ entries(first: 10) { items { seq type } } }');
    // entries: (2 + 1.5 × items(2 + 1.5 × (1 + 1))) × 10
    expect(literal).toBe((2 + 1.5 * (2 + 1.5 * 2)) * 10);
    expect(cost('query($n: Int) { entries(first: $n) { items { seq type } } }', { n: 10 })).toBe(literal);
    expect(cost('query($n: Int = 10) { entries(first: $n) { items { seq type } } }')).toBe(literal);
    // Left out, or null: the largest default page.
    const unsized = cost('{ entries { items { seq type } } }');
    expect(unsized).toBe((literal / 10) * DEFAULT_PAGE_COST);
    expect(cost('query($n: Int) { entries(first: $n) { items { seq type } } }', { n: null })).toBe(unsized);
    // Over the largest page a subgraph serves: priced as that page (the subgraph refuses it, naming `first`).
    expect(cost('{ entries(first: 1000000) { items { seq } } }')).toBe(cost('{ entries(first: 1000) { items { seq } } }'));
  });

  it('counts fragments as their fields, aliases each, and a chain of fragments spread twice in linear time', () => {
    const plain = cost('{ entries(first: 5) { items { seq type note } } }');
    expect(
      cost('{ entries(first: 5) { ...page } } fragment page on Page { items { ... on Entry { seq } ...rest } } fragment rest on Entry { type note }'),
    ).toBe(plain);
    expect(cost('{ a: entry { seq } b: entry { seq } }')).toBe(2 * cost('{ entry { seq } }'));
    // f0 spreads f1 twice, f1 spreads f2 twice, … : 2^40 spreads if walked, one walk each here.
    const depth = 40;
    const chain = Array.from({ length: depth }, (_, i) => `fragment f${i} on Entry { seq ${i + 1 < depth ? `...f${i + 1} ...f${i + 1}` : ''} }`).join(' ');
    // (Walked 2^40 times, this would not finish before the test's timeout.)
    expect(cost(`{ entry { ...f0 } } ${chain}`)).toBeGreaterThan(2 ** 30);
  });
});
