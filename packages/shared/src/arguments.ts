import {
  defaultFieldResolver,
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { BadUserInputError } from './errors';
import type { MessageKey } from './i18n';
import { DEFAULT_LOCALE, type Locale } from './i18n';
import { isOperation, type Operation } from './auth/permissions';

/** How an `ID` argument is checked: a UUID (the default), a `seq` (a positive 64-bit number), or a cursor. */
export type IdFormat = 'uuid' | 'seq' | 'cursor';

export interface ArgumentRules {
  /** Exceptions to "every ID is a UUID", by `Type.field.argument`, e.g. `Query.auditLog.afterSeq: 'seq'`. */
  ids?: Record<string, IdFormat>;
  /**
   * String arguments with a fixed set or shape of values (a service's name), by `Type.field.argument`:
   * checked with the others, so every bad argument is named at once.
   */
  texts?: Record<string, RegExp>;
  /**
   * Page-size arguments (`limit`, `first`) must be within 1..maxPage; a page size left out (or sent
   * as null) is the default its schema declares. This is the one page-size rule: resolvers take the
   * number as it comes.
   */
  maxPage?: number;
  /** A smaller maximum for some page-size arguments, by `Type.field.argument`, e.g. `Query.parkedEvents.first: 200`. */
  pageMaxima?: Record<string, number>;
  /** No list argument (or list field of an input) may hold more items than this. */
  maxListItems?: number;
  /** No string argument may be longer than this; fields with their own rules are stricter. */
  maxStringLength?: number;
}

/**
 * Asks the permission table about a root field (`Query.x`, `Mutation.y`) before anything else: a
 * caller without the role is refused, and the refusal recorded with the subject the row says where
 * to find in `args`.
 */
export type RootAuthorizer = (context: unknown, operation: Operation, args: Record<string, unknown>) => Promise<void>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SEQ = /^(0|[1-9]\d{0,17})$/;
const CURSOR = /^[\w-]{1,200}$/;
const PAGE_ARGS = new Set(['limit', 'first']);
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this pattern exists to find.
const BAD_CHARACTER = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

interface Problem {
  field: string;
  key: MessageKey;
  params?: Record<string, number>;
}

/**
 * A subgraph's request pipeline, the one place a root field is authorized: every Query and Mutation
 * field asks the permission table first (`authorize`; a root field without a row stops the service
 * at start, so none is open by omission), then its arguments are checked, then its resolver runs.
 *
 * The check is one shared check of every argument of every field of a subgraph, before its resolver runs: an `ID`
 * that is not a UUID (or the declared format), a page size out of range, an over-long list or string,
 * a string holding NUL or a lone surrogate are BAD_USER_INPUT naming the argument — so nothing the caller sent reaches PostgreSQL as a value
 * it cannot cast, and no driver error quoting it reaches a log. Wraps the resolvers in place.
 */
export function guardArguments(schema: GraphQLSchema, rules: ArgumentRules = {}, authorize?: RootAuthorizer): GraphQLSchema {
  const maxPage = rules.maxPage ?? 1000;
  const maxList = rules.maxListItems ?? 100;
  const maxString = rules.maxStringLength ?? 20_000;

  const check = (value: unknown, type: GraphQLInputType, path: string, idFormat: IdFormat, problems: Problem[]): void => {
    if (value === null || value === undefined) return;
    if (isNonNullType(type)) {
      check(value, type.ofType, path, idFormat, problems);
      return;
    }
    if (isListType(type)) {
      const items = Array.isArray(value) ? value : [value];
      if (items.length > maxList) {
        problems.push({ field: path, key: 'list.tooLong' });
        return;
      }
      for (const item of items) check(item, type.ofType, path, idFormat, problems);
      return;
    }
    if (isInputObjectType(type)) {
      const fields = type.getFields();
      for (const [name, field] of Object.entries(fields)) {
        check((value as Record<string, unknown>)[name], field.type, name, 'uuid', problems);
      }
      return;
    }
    if (isScalarType(type) && type.name === 'ID') {
      const ok = idFormat === 'seq' ? SEQ.test(String(value)) : idFormat === 'cursor' ? CURSOR.test(String(value)) : UUID.test(String(value));
      if (!ok) problems.push({ field: path, key: 'id.invalid' });
      return;
    }
    if (typeof value === 'string' && value.length > maxString) problems.push({ field: path, key: 'text.tooLong' });
    // PostgreSQL's text cannot hold NUL, nor UTF-8 a lone surrogate (a canonical JSON signature
    // refuses it too): refused here, not as a driver or signing error after the work began.
    else if (typeof value === 'string' && BAD_CHARACTER.test(value)) problems.push({ field: path, key: 'text.badChar' });
  };

  const roots = new Set([schema.getQueryType()?.name, schema.getMutationType()?.name]);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      // `_entities` and `_service` take representations the gateway built from subgraph data.
      if (field.name.startsWith('_')) continue;
      // A root field asks the permission table first: a caller without the role is FORBIDDEN (and
      // recorded) whatever arguments it sent; then the arguments are checked.
      const operation = roots.has(type.name) && authorize ? `${type.name}.${field.name}` : null;
      if (operation !== null && !isOperation(operation))
        throw new Error(`${operation} has no row in the permission table (packages/shared/src/auth/permissions.ts)`);
      if (field.args.length === 0 && !operation) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      const specs = field.args.map((arg) => ({
        name: arg.name,
        type: arg.type,
        idFormat: rules.ids?.[`${type.name}.${field.name}.${arg.name}`] ?? (arg.name === 'after' ? 'cursor' : 'uuid'),
        isPage: PAGE_ARGS.has(arg.name) && getNamedType(arg.type).name === 'Int',
        maxPage: rules.pageMaxima?.[`${type.name}.${field.name}.${arg.name}`] ?? maxPage,
        fallback: arg.defaultValue as number | undefined,
        text: rules.texts?.[`${type.name}.${field.name}.${arg.name}`] ?? null,
      }));
      field.resolve = async (source, given: Record<string, unknown>, context: { meta?: { locale?: Locale } }, info) => {
        if (operation) await authorize!(context, operation, given);
        const problems: Problem[] = [];
        const args = { ...given };
        for (const spec of specs) {
          // A page size sent as null is the schema's default, as one left out is.
          if (spec.isPage && args[spec.name] === null && spec.fallback !== undefined) args[spec.name] = spec.fallback;
          const value = args[spec.name];
          if (spec.isPage && value !== null && value !== undefined && (typeof value !== 'number' || value < 1 || value > spec.maxPage)) {
            problems.push({ field: spec.name, key: 'page.range', params: { max: spec.maxPage } });
            continue;
          }
          check(value, spec.type, spec.name, spec.idFormat, problems);
          if (spec.text && typeof value === 'string' && !spec.text.test(value) && !problems.some((p) => p.field === spec.name)) {
            problems.push({ field: spec.name, key: 'input.invalid' });
          }
        }
        if (problems.length > 0) {
          const locale = context?.meta?.locale ?? DEFAULT_LOCALE;
          throw BadUserInputError.many(problems.map((p) => new BadUserInputError(p.field, p.key, locale, p.params)));
        }
        return resolve(source, args, context, info);
      };
    }
  }
  return schema;
}
