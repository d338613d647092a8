/** The ops view's GraphQL resolvers and argument formats (see ../ops.ts). */
import { z } from 'zod';
import type { RequestScope } from '../auth/guard';
import { BadUserInputError } from '../errors';
import { type Locale } from '../i18n';

import { OPS_SERVICES, type OpsService, SEQ } from './common';
import type { OpsView } from './view';

const serviceArg = z.enum(OPS_SERVICES);

/**
 * The ops view's resolvers, merged into the subgraph that serves it (subjects). Roles from the
 * permission table: platformHealth OPS and DPO; parkedEvents and replayParkedEvent OPS; a refusal is
 * recorded like any other.
 */
export function opsResolvers(view: OpsView) {
  const service = (value: unknown, locale: Locale): OpsService => {
    const parsed = serviceArg.safeParse(value);
    if (!parsed.success) throw new BadUserInputError('service', 'input.invalid', locale);
    return parsed.data;
  };
  return {
    Query: {
      async platformHealth() {
        const health = await view.platformHealth();
        // The schema's enum values are upper case.
        return {
          ...health,
          services: health.services.map((svc) => ({ ...svc, consumers: svc.consumers.map((c) => ({ ...c, state: c.state.toUpperCase() })) })),
        };
      },
      async parkedEvents(_: unknown, args: { service?: string | null; first: number }, ctx: RequestScope) {
        return view.parkedEvents(ctx, args.service == null ? null : service(args.service, ctx.meta.locale), args.first);
      },
    },
    Mutation: {
      async replayParkedEvent(_: unknown, args: { service: string; id: string }, ctx: RequestScope) {
        // One error per bad argument, the id first.
        const problems = [
          ...(SEQ.test(args.id) ? [] : [new BadUserInputError('id', 'id.invalid', ctx.meta.locale)]),
          ...(serviceArg.safeParse(args.service).success ? [] : [new BadUserInputError('service', 'input.invalid', ctx.meta.locale)]),
        ];
        if (problems.length > 0) throw BadUserInputError.many(problems);
        return view.replay(ctx, service(args.service, ctx.meta.locale), args.id);
      },
    },
  };
}

/**
 * Argument formats of the ops view for the shared argument check, which asks the permission table
 * first (a caller without the role is FORBIDDEN whatever it sent) and then names every bad argument
 * at once: a parked event's id is a sequence number, a service one of the services.
 */
export const OPS_ARGUMENT_IDS = { 'Mutation.replayParkedEvent.id': 'seq' } as const;
/** A service argument of the ops view names one of the services, checked with the id (both named at once). */
const SERVICE_NAME = new RegExp(`^(${OPS_SERVICES.join('|')})$`);
export const OPS_ARGUMENT_TEXTS = { 'Mutation.replayParkedEvent.service': SERVICE_NAME, 'Query.parkedEvents.service': SERVICE_NAME };
/** At most 200 parked events a page (each is asked of its service over NATS); the schema's default is 50. */
export const OPS_PAGE_MAXIMA = { 'Query.parkedEvents.first': 200 };
