import { buildSchema, graphql } from 'graphql';
import { describe, expect, it } from 'vitest';
import { guardArguments, type Operation } from '../src';

/**
 * The request pipeline of a subgraph (`guardArguments`), on a schema of its own: the permission
 * table is asked for every root field (one without a row stops the service at start), and a page
 * size has one rule — the schema's default when left out or null, 1..max otherwise.
 */
const SDL = `type Query {
  auditLog(limit: Int = 100): [Int!]!
  incidents(limit: Int = 100): [Int!]!
}`;

function pipeline(sdl: string, asked: Operation[], rules = {}) {
  const schema = buildSchema(sdl);
  for (const field of Object.values(schema.getQueryType()!.getFields())) field.resolve = (_, args: { limit: number }) => [args.limit];
  return guardArguments(schema, rules, async (_context, operation) => {
    asked.push(operation);
  });
}

describe('the request pipeline', () => {
  it('refuses to build a subgraph with a root field the permission table has no row for', () => {
    expect(() => pipeline('type Query { strayField: Int }', [])).toThrow('Query.strayField has no row in the permission table');
  });

  it('asks the table for each root field it runs, by its row', async () => {
    const asked: Operation[] = [];
    const res = await graphql({ schema: pipeline(SDL, asked), source: '{ auditLog incidents }', contextValue: {} });
    expect(res.errors).toBeUndefined();
    expect(asked.sort()).toEqual(['Query.auditLog', 'Query.incidents']);
  });

  it('a page size left out or sent as null is the schema default; out of 1..max it is BAD_USER_INPUT', async () => {
    const schema = pipeline(SDL, [], { pageMaxima: { 'Query.incidents.limit': 200 } });
    const run = (source: string) => graphql({ schema, source, contextValue: {} });
    expect((await run('{ auditLog }')).data).toEqual({ auditLog: [100] });
    expect((await run('{ auditLog(limit: null) }')).data).toEqual({ auditLog: [100] });
    expect((await run('{ auditLog(limit: 1000) }')).data).toEqual({ auditLog: [1000] });
    for (const [source, max] of [
      ['{ auditLog(limit: 1001) }', 1000],
      ['{ auditLog(limit: 0) }', 1000],
      ['{ incidents(limit: 201) }', 200],
    ] as const) {
      const error = (await run(source)).errors?.[0];
      expect(error?.extensions, source).toMatchObject({ code: 'BAD_USER_INPUT', field: 'limit' });
      expect(error?.message, source).toContain(String(max));
    }
  });
});
