import { randomUUID } from 'node:crypto';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { isOperation, localeFromAcceptLanguage, rolesFor, sendGraphQLErrors, t, type Actor, type Locale, type MessageKey, type RequestMeta } from '@pdp/shared';
import type { Request, RequestHandler, Response } from 'express';
import {
  coerceInputValue,
  GraphQLError,
  isInputType,
  isNonNullType,
  Kind,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  typeFromAST,
  validate,
  ValuesOfCorrectTypeRule,
  visitInParallel,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { clientKey, LimiterFactory, type Limiter } from './rate-limits';
import { requestCost } from './cost';
import { CallerRefused, type Caller } from './auth';
import { rootFieldNames, type GateRefusal } from './refusals';

/** The gateway's limits on one request; every one is checked before any subgraph is called. */
export interface RequestLimits {
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  maxCost: number;
  maxDepth: number;
  /** Root fields (a `submitAppeal` is one) per minute per client IP without a token; 0 = off. */
  publicRatePerMinute: number;
  /** Root fields per minute per authenticated actor; 0 = off. */
  actorRatePerMinute: number;
  /** `appealStatus` lookups per minute per client IP (guessing an IIN for a reference); 0 = off. */
  statusLookupsPerMinute: number;
}

export const DEFAULT_LIMITS: RequestLimits = {
  maxAliases: 15,
  maxTokens: 1000,
  maxDirectives: 50,
  maxCost: 100_000,
  maxDepth: 8,
  publicRatePerMinute: 60,
  actorRatePerMinute: 1200,
  statusLookupsPerMinute: 10,
};

/** An error found before execution, kept language-free so a cached verdict serves every locale. */
interface Refusal {
  code: string;
  key: MessageKey;
  /** Why, for a program (`extensions.reason`): NO_GRANT, CREDITOR_SUSPENDED. */
  reason?: string;
  field?: string;
  /** graphql-js's own text for schema-validation errors: names from the query, never a value. */
  detail?: string;
  locations?: ReadonlyArray<{ line: number; column: number }>;
}

interface Verdict {
  document?: DocumentNode;
  refusals: Refusal[];
}

export interface GateOptions {
  limits: RequestLimits;
  production: boolean;
  /** Who is calling (auth.ts): throws `CallerRefused` for a bad token or when nothing can be checked. */
  caller: (req: Request, meta: RequestMeta) => Promise<Caller>;
  /** Where the rate limits are counted (shared by every gateway); in memory when left out. */
  limiters?: LimiterFactory;
  /** Told of every refusal (the audit records each one); must not throw or wait. */
  onRefused?: (refusal: GateRefusal) => void;
}

export interface GateLocals {
  actor: Actor;
  meta: RequestMeta;
}

const CACHE_SIZE = 1000;
const IDENTIFIER = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

/**
 * The gateway's front door for `/graphql`, in front of Apollo: authenticates, parses (token limit),
 * validates against the API schema with GraphQL Armor's limits (aliases, directives, cost, depth),
 * picks the operation, coerces the variables, and counts the request against the caller's rate
 * limit — all before any subgraph is called. Every refusal is a GraphQL error with a stable code
 * and a message in the caller's language that names the field and never repeats a value: graphql-js
 * quotes the offending value (`String cannot represent a non string value: 871008401427`, a whole
 * input object with phone and e-mail), so its value-checking rule is replaced and variables are
 * coerced here with our own messages. Parse and validation verdicts are cached by query text.
 */
export class RequestGate {
  private schema: GraphQLSchema | null = null;
  private rules: ValidationRule[] = [];
  private readonly verdicts = new Map<string, Verdict>();
  private readonly publicLimiter: Limiter | null;
  private readonly actorLimiter: Limiter | null;
  private readonly lookupLimiter: Limiter | null;

  constructor(private readonly opts: GateOptions) {
    const { limits } = opts;
    const limiters = opts.limiters ?? new LimiterFactory(null);
    this.publicLimiter = limiters.make('public', limits.publicRatePerMinute);
    this.actorLimiter = limiters.make('actor', limits.actorRatePerMinute);
    this.lookupLimiter = limiters.make('status', limits.statusLookupsPerMinute);
  }

  /** Called with the API schema whenever the gateway loads the supergraph. */
  setSchema(schema: GraphQLSchema): void {
    const { limits, production } = this.opts;
    const reject = (code: string, key: MessageKey) => ({
      propagateOnRejection: false,
      onReject: [(ctx: ValidationContext | null) => ctx?.reportError(new GraphQLError(key, { extensions: { code, messageKey: key } }))],
    });
    this.schema = schema;
    this.verdicts.clear();
    this.rules = [
      ...specifiedRules.map((rule) => (rule === ValuesOfCorrectTypeRule ? safeValuesRule : rule)),
      maxAliasesRule({ n: limits.maxAliases, ...reject('ALIAS_LIMIT', 'limit.aliases') }),
      maxDirectivesRule({ n: limits.maxDirectives, ...reject('DIRECTIVE_LIMIT', 'limit.directives') }),
      maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, ...reject('QUERY_TOO_DEEP', 'limit.depth') }),
      ...(production ? [NoSchemaIntrospectionCustomRule] : []),
    ] as ValidationRule[];
  }

  middleware(): RequestHandler {
    return (req, res, next) => {
      this.handle(req, res).then((pass) => (pass ? next() : undefined), next);
    };
  }

  private async handle(req: Request, res: Response): Promise<boolean> {
    const locale = localeFromAcceptLanguage(req.headers['accept-language']);
    const params = (req.method === 'GET' ? req.query : req.body) as Record<string, unknown> | undefined;
    const meta = metaOf(req, locale);
    let caller: Caller;
    try {
      caller = await this.opts.caller(req, meta);
    } catch (err) {
      if (!(err instanceof CallerRefused)) throw err;
      (res.locals.outcome as { codes: string[] } | undefined)?.codes.push(err.code);
      // RFC 6750: a refused bearer token says so in WWW-Authenticate; a 503 says when to try again.
      if (err.status === 401) res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      else res.setHeader('Retry-After', '2');
      sendGraphQLErrors(res, err.status, [{ message: t(err.key, locale), extensions: { code: err.code, reason: err.reason } }]);
      if (err.status === 401) this.opts.onRefused?.({ codes: [err.code], status: 401, actor: null, meta, reason: err.reason });
      return false;
    }
    const { actor } = caller;
    res.locals.gate = { actor, meta } satisfies GateLocals;

    // Until the supergraph is loaded Apollo answers every request itself (503).
    if (!this.schema) return true;
    const shape = requestShape(req, params);
    if ('refusal' in shape) {
      if (shape.refusal.status === 405) res.setHeader('Allow', 'GET, POST');
      return this.refuse(res, shape.refusal.status, [shape.refusal], locale);
    }

    const verdict = this.verdict(shape.query);
    if (verdict.refusals.length > 0) return this.refuse(res, 400, verdict.refusals, locale);
    const operation = pickOperation(verdict.document!, params!.operationName);
    if ('refusal' in operation) return this.refuse(res, 400, [operation.refusal], locale);
    res.locals.operation = { document: verdict.document!, node: operation.node } satisfies GateRefusal['operation'];
    if (req.method === 'GET' && operation.node.operation !== 'query') {
      res.setHeader('Allow', 'POST');
      return this.refuse(res, 405, [{ code: 'METHOD_NOT_ALLOWED', key: 'http.getMutation' }], locale);
    }
    // A signed-in account the registry grants nothing may do what anyone may, and ask `me`; anything
    // else is refused here, before any subgraph, with the registry's reason (the subgraphs would
    // refuse it too, as NO_GRANT).
    if (caller.denial && !onlyOpenFields(verdict.document!, operation.node)) {
      const key: MessageKey = caller.denial === 'CREDITOR_SUSPENDED' ? 'access.creditorSuspended' : 'access.noGrant';
      return this.refuse(res, 403, [{ code: 'FORBIDDEN', key, reason: caller.denial }], locale, caller.denial);
    }

    let variables: unknown = params!.variables ?? {};
    // A JSON body carries its variables as an object; only a GET's query string carries them as text.
    // (Apollo would refuse a string in a body itself, in English only.)
    if (typeof variables === 'string' && req.method !== 'GET') {
      return this.refuse(res, 400, [{ code: 'BAD_REQUEST', key: 'input.wrongType', field: 'variables' }], locale);
    }
    if (typeof variables === 'string') {
      try {
        variables = variables === '' ? {} : JSON.parse(variables);
      } catch {
        return this.refuse(res, 400, [{ code: 'BAD_REQUEST', key: 'http.malformed', field: 'variables' }], locale);
      }
    }
    if (variables === null) variables = {};
    if (typeof variables !== 'object' || Array.isArray(variables)) {
      return this.refuse(res, 400, [{ code: 'BAD_REQUEST', key: 'input.invalid', field: 'variables' }], locale);
    }
    const problems = coerceVariables(this.schema, operation.node, variables as Record<string, unknown>);
    if (problems.length > 0) return this.refuse(res, 400, problems, locale);
    if (requestCost(this.schema, verdict.document!, operation.node, variables as Record<string, unknown>) > this.opts.limits.maxCost) {
      return this.refuse(res, 400, [{ code: 'COST_LIMIT', key: 'limit.cost' }], locale);
    }

    const isPublic = actor.roles.includes('PUBLIC');
    const key = isPublic ? `ip:${clientKey(meta.ip)}` : `actor:${actor.id}`;
    const charges: Array<[Limiter | null, number]> = [
      [isPublic ? this.publicLimiter : this.actorLimiter, Math.max(1, rootFieldCount(verdict.document!, operation.node.selectionSet))],
      [this.lookupLimiter, rootFieldCount(verdict.document!, operation.node.selectionSet, 'appealStatus')],
    ];
    for (const [limiter, points] of charges) {
      if (!limiter || points === 0) continue;
      if (points > limiter.points) return this.rateLimited(res, locale, 60);
      try {
        await limiter.consume(key, points);
      } catch (err) {
        if (err instanceof RateLimiterRes) return this.rateLimited(res, locale, Math.ceil(err.msBeforeNext / 1000));
        throw err;
      }
    }
    return true;
  }

  private verdict(query: string): Verdict {
    const cached = this.verdicts.get(query);
    if (cached) {
      // Least recently used goes first: re-insert on every hit.
      this.verdicts.delete(query);
      this.verdicts.set(query, cached);
      return cached;
    }
    const verdict = this.check(query);
    if (this.verdicts.size >= CACHE_SIZE) this.verdicts.delete(this.verdicts.keys().next().value!);
    this.verdicts.set(query, verdict);
    return verdict;
  }

  private check(query: string): Verdict {
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: this.opts.limits.maxTokens, noLocation: false });
    } catch (err) {
      const error = err as GraphQLError;
      // A syntax error's text quotes the token it stopped at, which may be an IIN in a string literal.
      const tooLong = /contains more tha[nt] \d+ tokens/.test(error.message);
      return {
        refusals: [
          tooLong ? { code: 'TOKEN_LIMIT', key: 'limit.tokens' } : { code: 'GRAPHQL_PARSE_FAILED', key: 'graphql.syntax', locations: error.locations },
        ],
      };
    }
    const errors = validate(this.schema!, document, this.rules, { maxErrors: 50 });
    return { document, refusals: errors.map((e) => this.refusalOf(e)) };
  }

  private refusalOf(error: GraphQLError): Refusal {
    const ext = error.extensions as { code?: string; messageKey?: MessageKey; field?: string };
    if (ext.code && ext.messageKey) return { code: ext.code, key: ext.messageKey, field: ext.field, locations: error.locations };
    if (/introspection/i.test(error.message) && this.opts.production) {
      return { code: 'INTROSPECTION_DISABLED', key: 'graphql.introspection', locations: error.locations };
    }
    // Field suggestions ("Did you mean …") describe the schema: shown in development only.
    const detail = this.opts.production ? error.message.replace(/\s*Did you mean .*$/, '') : error.message;
    return { code: 'GRAPHQL_VALIDATION_FAILED', key: 'graphql.invalid', detail, locations: error.locations };
  }

  private refuse(res: Response, status: number, refusals: Refusal[], locale: Locale, reason?: string): false {
    const outcome = res.locals.outcome as { codes: string[] } | undefined;
    outcome?.codes.push(...refusals.map((r) => r.code));
    const { actor, meta } = res.locals.gate as GateLocals;
    this.opts.onRefused?.({
      codes: refusals.map((r) => r.code),
      status,
      actor,
      meta,
      operation: res.locals.operation as GateRefusal['operation'],
      ...(reason ? { reason } : {}),
    });
    sendGraphQLErrors(
      res,
      status,
      refusals.map((r) => ({
        message: t(r.key, locale),
        ...(r.locations ? { locations: r.locations } : {}),
        extensions: {
          code: r.code,
          ...(r.field ? { field: r.field } : {}),
          ...(r.reason ? { reason: r.reason } : {}),
          ...(r.detail ? { detail: r.detail } : {}),
        },
      })),
    );
    return false;
  }

  private rateLimited(res: Response, locale: Locale, retryAfterSeconds: number): false {
    res.setHeader('Retry-After', String(Math.max(1, retryAfterSeconds)));
    return this.refuse(res, 429, [{ code: 'RATE_LIMITED', key: 'rate.limited' }], locale);
  }
}

/** A preflighted GET (Apollo's CSRF rule): a header a browser's simple cross-site request cannot carry. */
const SIMPLE_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];
function preflighted(req: Request): boolean {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return Boolean(req.headers['x-apollo-operation-name'] || req.headers['apollo-require-preflight'] || (type && !SIMPLE_TYPES.includes(type)));
}

type ShapeRefusal = Refusal & { status: number };

/**
 * A GraphQL-over-HTTP request this gateway serves: GET (preflighted, queries only) or POST with a
 * JSON object, holding the query text. What is not one is refused here, in the caller's language,
 * rather than with Apollo's English (its CSRF text, "Operation batching disabled", "GraphQL queries
 * must be strings"…); and a persisted-query hash without its text is refused outright, since a
 * request without text would pass no check of this gate (Apollo's automatic persisted queries are
 * off as well).
 */
function requestShape(req: Request, params: Record<string, unknown> | undefined): { query: string } | { refusal: ShapeRefusal } {
  const refusal = (status: number, code: string, key: MessageKey, field?: string) => ({ refusal: { status, code, key, ...(field ? { field } : {}) } });
  if (req.method !== 'GET' && req.method !== 'POST') return refusal(405, 'METHOD_NOT_ALLOWED', 'http.method');
  const mediaType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (req.method === 'POST' && mediaType !== 'application/json') return refusal(415, 'UNSUPPORTED_MEDIA_TYPE', 'http.contentType');
  if (req.method === 'GET' && !preflighted(req)) return refusal(400, 'BAD_REQUEST', 'http.csrf');
  if (Array.isArray(params)) return refusal(400, 'BAD_REQUEST', 'http.batching');
  if (!params || typeof params !== 'object') return refusal(400, 'BAD_REQUEST', 'graphql.queryMissing', 'query');
  let extensions = params.extensions;
  // In a GET's query string the extensions are JSON text; in a POST's body an object.
  if (req.method === 'GET' && typeof extensions === 'string') {
    try {
      extensions = JSON.parse(extensions);
    } catch {
      return refusal(400, 'BAD_REQUEST', 'http.malformed', 'extensions');
    }
  }
  if (extensions !== undefined && extensions !== null && (typeof extensions !== 'object' || Array.isArray(extensions)))
    return refusal(400, 'BAD_REQUEST', 'input.wrongType', 'extensions');
  if (extensions && 'persistedQuery' in extensions) return refusal(400, 'PERSISTED_QUERY_NOT_SUPPORTED', 'graphql.persistedQuery');
  if (params.query === undefined || params.query === null || params.query === '') return refusal(400, 'BAD_REQUEST', 'graphql.queryMissing', 'query');
  if (typeof params.query !== 'string') return refusal(400, 'BAD_REQUEST', 'input.wrongType', 'query');
  if (params.operationName !== undefined && params.operationName !== null && typeof params.operationName !== 'string')
    return refusal(400, 'BAD_REQUEST', 'input.wrongType', 'operationName');
  return { query: params.query };
}

/** The request's facts; the request id is always ours (a client-sent one is not trusted). */
/** A request's meta as the subgraphs and the audit get it: a new id, the caller's language, address and browser. */
export function metaOf(req: Request, locale: Locale): RequestMeta {
  return {
    requestId: randomUUID(),
    locale,
    ip: req.ip ?? null,
    userAgent: req.headers['user-agent']?.slice(0, 512) ?? null,
  };
}

function pickOperation(document: DocumentNode, operationName: unknown): { node: OperationDefinitionNode } | { refusal: Refusal } {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName !== undefined && operationName !== null && operationName !== '') {
    const found = typeof operationName === 'string' ? operations.find((o) => o.name?.value === operationName) : undefined;
    return found ? { node: found } : { refusal: { code: 'OPERATION_RESOLUTION_FAILURE', key: 'graphql.operationUnknown', field: 'operationName' } };
  }
  if (operations.length === 1) return { node: operations[0]! };
  return { refusal: { code: 'OPERATION_RESOLUTION_FAILURE', key: 'graphql.operationName', field: 'operationName' } };
}

/**
 * Coerces each variable as graphql-js would, but words every problem itself: the field and what is
 * wrong with it, never the value (graphql-js prints the whole variable value in its message).
 */
function coerceVariables(schema: GraphQLSchema, operation: OperationDefinitionNode, values: Record<string, unknown>): Refusal[] {
  const refusals = new Map<string, Refusal>();
  const add = (field: string, key: MessageKey) => {
    if (!refusals.has(field)) refusals.set(field, { code: 'BAD_USER_INPUT', key, field });
  };
  for (const def of operation.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    const type = typeFromAST(schema, def.type as never);
    if (!type || !isInputType(type)) continue; // already refused by validation
    if (!Object.hasOwn(values, name)) {
      if (isNonNullType(type) && !def.defaultValue) add(name, 'input.missing');
      continue;
    }
    coerceInputValue(values[name], type, (path, _invalid, error) => {
      const named = /^Field "([^"]+)" (is not defined by type|of required type)/.exec(error.message);
      const lastKey = [...path].reverse().find((p): p is string => typeof p === 'string');
      if (named && IDENTIFIER.test(named[1]!)) {
        add(named[1]!, named[2] === 'is not defined by type' ? 'input.unknownField' : 'input.missing');
      } else {
        add(lastKey ?? name, 'input.wrongType');
      }
    });
  }
  return [...refusals.values()];
}

/**
 * graphql-js's ValuesOfCorrectTypeRule, with each report re-worded: the argument or input field it
 * concerns and the kind of problem, instead of a message that prints the literal value.
 */
const safeValuesRule: ValidationRule = (context) => {
  const names: string[] = [];
  const proxy = new Proxy(context, {
    get(target, prop) {
      if (prop === 'reportError') {
        return (error: GraphQLError) => {
          // A literal's missing field is named with its type ("SubmitAppealInput.email"): the field is what follows the dot, as for a variable.
          const named = /^Field "([^"]+)" (is not defined by type|of required type)/.exec(error.message);
          const unknown = named?.[2] === 'is not defined by type';
          const missing = named && !unknown ? named[1]!.split('.').at(-1) : undefined;
          const missingName = missing && IDENTIFIER.test(missing) ? missing : undefined;
          const field = unknown && named?.[1] && IDENTIFIER.test(named[1]) ? named[1] : (missingName ?? names.at(-1) ?? 'input');
          const key: MessageKey = unknown ? 'input.unknownField' : missingName ? 'input.missing' : 'input.wrongType';
          target.reportError(new GraphQLError(key, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT', messageKey: key, field } }));
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const tracker: ASTVisitor = {
    // A variable's default value is reported under the variable's name.
    VariableDefinition: { enter: (node) => void names.push(node.variable.name.value), leave: () => void names.pop() },
    Argument: { enter: (node) => void names.push(node.name.value), leave: () => void names.pop() },
    ObjectField: { enter: (node) => void names.push(node.name.value), leave: () => void names.pop() },
  };
  return visitInParallel([tracker, ValuesOfCorrectTypeRule(proxy)]);
};

/**
 * Whether every root field of the operation is open to anyone (its row in the permission table lists
 * PUBLIC: consent texts, `me`…) or introspection: what an account without a grant may still ask.
 */
function onlyOpenFields(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  const type = operation.operation === 'mutation' ? 'Mutation' : operation.operation === 'subscription' ? 'Subscription' : 'Query';
  // Introspection fields (`__typename`…) are not among the names: always open.
  return rootFieldNames(document, operation.selectionSet).every((name) => {
    const row = `${type}.${name}`;
    return isOperation(row) && rolesFor(row).includes('PUBLIC');
  });
}

/** Root fields of an operation (or only those named `only`), aliases and fragments included: what a rate limit counts. */
function rootFieldCount(document: DocumentNode, set: SelectionSetNode, only?: string): number {
  const seen = new Set<string>();
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const count = (s: SelectionSetNode): number =>
    s.selections.reduce((n, sel) => {
      if (sel.kind === Kind.FIELD) return n + (sel.name.value.startsWith('__') || (only && sel.name.value !== only) ? 0 : 1);
      if (sel.kind === Kind.INLINE_FRAGMENT) return n + count(sel.selectionSet);
      if (seen.has(sel.name.value)) return n;
      seen.add(sel.name.value);
      const fragment = fragments.get(sel.name.value);
      return n + (fragment ? count(fragment.selectionSet) : 0);
    }, 0);
  return count(set);
}
