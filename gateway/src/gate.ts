import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { localeFromAcceptLanguage, sendGraphQLErrors, t, type Actor, type Locale, type MessageKey, type RequestMeta } from '@pdp/shared';
import type { Request, RequestHandler, Response } from 'express';
import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  ValuesOfCorrectTypeRule,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { CallerRefused, type Caller } from './auth';
import { requestCost } from './cost';
import { metaOf, pickOperation, requestShape } from './http-request';
import { clientKey, LimiterFactory, type Limiter } from './rate-limits';
import type { GateRefusal, Refusal } from './refusals';
import type { RequestLimits } from './request-limits';
import { onlyOpenFields, rootFieldCount } from './root-fields';
import { coerceVariables, safeValuesRule } from './safe-values';

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
