import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { graphql } from './client';

/** The composed API schema as a client sees it (introspection is on in development). */
export async function apiSchema(url: string, token: string): Promise<GraphQLSchema> {
  const res = await graphql<IntrospectionQuery>(url, getIntrospectionQuery(), {}, { token });
  if (!res.data) throw new Error(`introspection failed: ${JSON.stringify(res.errors)}`);
  return buildClientSchema(res.data);
}

export interface RootField {
  operation: 'query' | 'mutation';
  type: 'Query' | 'Mutation';
  field: GraphQLField<unknown, unknown>;
}

/** Every Query and Mutation field of the supergraph (federation internals excluded). */
export function rootFields(schema: GraphQLSchema): RootField[] {
  const out: RootField[] = [];
  for (const [operation, type, root] of [
    ['query', 'Query', schema.getQueryType()],
    ['mutation', 'Mutation', schema.getMutationType()],
  ] as const) {
    if (!root) continue;
    for (const field of Object.values(root.getFields())) if (!field.name.startsWith('_')) out.push({ operation, type, field });
  }
  return out;
}

/** A request for a root field with every argument set: `overrides` by name, the rest valid dummies. */
export function requestFor(root: RootField, overrides: Record<string, unknown> = {}) {
  const { field, operation } = root;
  const selection = isObjectType(getNamedType(field.type)) || getNamedType(field.type).toString().endsWith('Connection') ? '{ __typename }' : '';
  const variables: Record<string, unknown> = {};
  for (const arg of field.args) {
    if (Object.hasOwn(overrides, arg.name)) variables[arg.name] = overrides[arg.name];
    else if (isNonNullType(arg.type)) variables[arg.name] = dummy(arg.type, arg.name);
  }
  const defs = field.args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
  const uses = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  return { query: `${operation}${defs ? `(${defs})` : ''} { ${field.name}${uses ? `(${uses})` : ''} ${selection} }`, variables };
}

/** A value of the type that passes the schema and the shared argument checks. */
export function dummy(type: GraphQLInputType, name = ''): unknown {
  if (isNonNullType(type)) return dummy(type.ofType, name);
  if (isListType(type)) return [dummy(type.ofType, name)];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) return Object.fromEntries(Object.values(type.getFields()).map((f) => [f.name, dummy(f.type, f.name)]));
  if (isScalarType(type)) {
    switch (type.name) {
      case 'ID':
        return crypto.randomUUID();
      case 'Int':
      case 'Float':
        return 1;
      case 'Boolean':
        return true;
      default:
        return /date|from|to|At$|On$/i.test(name) ? '2026-11-02' : 'phone';
    }
  }
  return null;
}
