/**
 * The access registry (Law Art. 25(3); clauses 1.3, 7.2.3): who may do what on the platform. A token
 * from the OpenID provider names an account; this registry gives it its roles (and a partner its
 * creditor). Every grant, revocation, suspension and resumption is one transaction with its event
 * (the audit's record: who, when, and the reason's digest); the gateways learn of it through the
 * access bucket (access-sync.ts) within a second.
 *
 * Why appeals owns it: a partner's grant binds an account to a creditor, and a creditor's suspension
 * closes its partner view — both are appeals' records, checked in the same transaction as the grant
 * (a grant for an unknown creditor is refused there, not by a second service that may lag behind).
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  BadUserInputError,
  ConflictError,
  decodeCursor,
  enqueueEvent,
  eventHeader,
  ForbiddenError,
  isAcceptableAccountName,
  isAnonymous,
  isUngranted,
  kazakhstanMidnight,
  NotFoundError,
  parseInput,
  pastDateSchema,
  ROLES,
  staffIdSchema,
  textSchema,
  TokenRequiredError,
  type MessageKey,
  type RequestScope,
  type Role,
} from '@pdp/shared';
import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import type { Deps } from './config';
import * as repo from './db/access.repository';
import type { Database } from './db/tables';
import { creditorById } from './db/worklist.repository';

const GRANTABLE = ROLES.filter((r) => r !== 'PUBLIC');

const grantSchema = z
  .object({
    account: staffIdSchema.refine(isAcceptableAccountName, { message: 'account.reserved' satisfies MessageKey }),
    displayName: textSchema(1, 200),
    roles: z
      .array(z.enum(ROLES))
      .min(1, { message: 'text.required' satisfies MessageKey })
      .max(GRANTABLE.length)
      .refine((roles) => !roles.includes('PUBLIC'), { message: 'roles.public' satisfies MessageKey })
      .refine((roles) => !roles.includes('PARTNER') || roles.every((r) => r === 'PARTNER'), { message: 'roles.partnerAlone' satisfies MessageKey })
      .transform((roles) => [...new Set(roles)] as Role[]),
    creditorId: z.uuid({ message: 'id.invalid' satisfies MessageKey }).nullish(),
    reason: textSchema(1, 2000),
  })
  .superRefine((v, ctx) => {
    if (v.roles.includes('PARTNER') && !v.creditorId) ctx.addIssue({ code: 'custom', path: ['creditorId'], message: 'creditor.required' satisfies MessageKey });
    if (!v.roles.includes('PARTNER') && v.creditorId)
      ctx.addIssue({ code: 'custom', path: ['creditorId'], message: 'creditor.onlyPartner' satisfies MessageKey });
  });

const reasonSchema = z.object({ reason: textSchema(1, 2000) });

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Separation of duties: nobody grants, changes or revokes their own access. Recorded when tried. */
async function refuseOwn(deps: Deps, scope: RequestScope, account: string, operation: string): Promise<void> {
  if (account !== scope.actor.id) return;
  await deps.guard.recordDenied(scope, operation, 'OWN_GRANT');
  throw new ForbiddenError(scope.meta.locale, 'OWN_GRANT', 'access.ownGrant');
}

/** One change of an account's registry state at a time (two DPOs granting the same account at once). */
async function lockAccount(trx: Transaction<Database>, account: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`pdp-access:${account}`}))`.execute(trx);
}

/**
 * Grants an account its roles. An account with a grant in force gets a new one that replaces it (the
 * old one closed with this reason): a change of roles is recorded as such, never as an edit.
 */
export async function grantAccess(deps: Deps, scope: RequestScope, input: unknown): Promise<repo.GrantRow> {
  const g = parseInput(grantSchema, input, scope.meta.locale);
  await refuseOwn(deps, scope, g.account, 'Mutation.grantAccess');
  if (g.creditorId && !(await creditorById(deps.db, g.creditorId))) {
    throw BadUserInputError.many([new BadUserInputError('creditorId', 'creditor.unknown', scope.meta.locale)]);
  }
  const id = randomUUID();
  await deps.db.transaction().execute(async (trx) => {
    await lockAccount(trx, g.account);
    const current = await repo.lockActiveGrant(trx, g.account);
    if (current) await repo.closeGrant(trx, current.id, scope.actor.id, g.reason);
    await repo.insertGrant(trx, {
      id,
      account: g.account,
      displayNameEnc: deps.cipher.encrypt(g.displayName, { table: 'access_grants', column: 'display_name_enc', id }),
      roles: g.roles,
      creditorId: g.creditorId ?? null,
      reason: g.reason,
      grantedBy: scope.actor.id,
    });
    await enqueueEvent(trx, deps.prefix, {
      ...eventHeader('appeals', scope),
      type: 'access.granted',
      data: {
        grantId: id,
        account: g.account,
        roles: g.roles as never,
        creditorId: g.creditorId ?? null,
        replaces: current?.id ?? null,
        reasonSha256: digest(g.reason),
      },
    });
  });
  return (await repo.grantById(deps.db, id))!;
}

export async function revokeAccess(deps: Deps, scope: RequestScope, grantId: string, reasonRaw: string): Promise<repo.GrantRow> {
  const { reason } = parseInput(reasonSchema, { reason: reasonRaw }, scope.meta.locale);
  const found = await repo.grantById(deps.db, grantId);
  if (!found) throw new NotFoundError(scope.meta.locale, 'AccessGrant');
  await refuseOwn(deps, scope, found.account, 'Mutation.revokeAccess');
  await deps.db.transaction().execute(async (trx) => {
    await lockAccount(trx, found.account);
    const grant = await repo.lockGrant(trx, grantId);
    if (!grant || grant.revoked_at) throw new ConflictError(scope.meta.locale, 'GRANT_REVOKED', 'access.revoked');
    await repo.closeGrant(trx, grantId, scope.actor.id, reason);
    await enqueueEvent(trx, deps.prefix, {
      ...eventHeader('appeals', scope),
      type: 'access.revoked',
      data: { grantId, account: grant.account, reasonSha256: digest(reason) },
    });
  });
  return (await repo.grantById(deps.db, grantId))!;
}

/** Suspends a creditor: its partner accounts can do nothing but `me`, and nothing is forwarded to it. */
export async function suspendCreditor(deps: Deps, scope: RequestScope, creditorId: string, reasonRaw: string) {
  const { reason } = parseInput(reasonSchema, { reason: reasonRaw }, scope.meta.locale);
  const suspensionId = randomUUID();
  await deps.db.transaction().execute(async (trx) => {
    if (!(await repo.lockCreditor(trx, creditorId))) throw new NotFoundError(scope.meta.locale, 'Creditor');
    if (await repo.openSuspension(trx, creditorId)) throw new ConflictError(scope.meta.locale, 'CREDITOR_SUSPENDED', 'creditor.suspended');
    await repo.insertSuspension(trx, { id: suspensionId, creditorId, reason, by: scope.actor.id });
    await enqueueEvent(trx, deps.prefix, {
      ...eventHeader('appeals', scope),
      type: 'creditor.suspended',
      data: { creditorId, suspensionId, reasonSha256: digest(reason) },
    });
  });
  return (await creditorById(deps.db, creditorId))!;
}

export async function resumeCreditor(deps: Deps, scope: RequestScope, creditorId: string, reasonRaw: string) {
  const { reason } = parseInput(reasonSchema, { reason: reasonRaw }, scope.meta.locale);
  await deps.db.transaction().execute(async (trx) => {
    if (!(await repo.lockCreditor(trx, creditorId))) throw new NotFoundError(scope.meta.locale, 'Creditor');
    const open = await repo.openSuspension(trx, creditorId);
    if (!open) throw new ConflictError(scope.meta.locale, 'CREDITOR_NOT_SUSPENDED', 'creditor.notSuspended');
    await repo.closeSuspension(trx, open.id, scope.actor.id, reason);
    await enqueueEvent(trx, deps.prefix, {
      ...eventHeader('appeals', scope),
      type: 'creditor.resumed',
      data: { creditorId, suspensionId: open.id, reasonSha256: digest(reason) },
    });
  });
  return (await creditorById(deps.db, creditorId))!;
}

export interface MeRecord {
  account: string;
  displayName: string;
  roles: Role[];
  creditorId: string | null;
}

export interface GrantPage {
  nodes: repo.GrantRow[];
  cursors: string[];
  hasNextPage: boolean;
  totalCount: number | null;
}

/**
 * The caller's own account: the roles and creditor this request was given — what the gateway's view
 * of the registry said, so what the platform enforces right now (none without a grant, and none for
 * a suspended creditor's partner) — and the name the grant records.
 */
export async function me(deps: Deps, scope: RequestScope): Promise<MeRecord> {
  if (isAnonymous(scope.actor)) throw new TokenRequiredError(scope.meta.locale);
  const grant = await repo.activeGrantOf(deps.db, scope.actor.id);
  if (grant) await recordGrantReads(deps, scope, [grant], ['account', 'displayName']);
  const granted = !isUngranted(scope.actor);
  return {
    account: scope.actor.id,
    displayName: grant ? deps.cipher.decrypt(grant.display_name_enc, { table: 'access_grants', column: 'display_name_enc', id: grant.id }) : scope.actor.id,
    roles: granted ? scope.actor.roles : [],
    creditorId: granted ? scope.actor.creditorId : (grant?.creditor_id ?? null),
  };
}

const filterSchema = z
  .object({
    account: staffIdSchema.nullish(),
    role: z.enum(ROLES).nullish(),
    active: z.boolean().nullish(),
  })
  .nullish();

const GRANT_FIELDS = ['account', 'displayName', 'roles', 'creditor', 'reason', 'grantedBy', 'grantedAt', 'revokedAt', 'revokedBy', 'revokeReason'];

export async function accessGrants(
  deps: Deps,
  scope: RequestScope,
  args: { filter?: unknown; first?: number | null; after?: string | null },
  withTotal: boolean,
): Promise<GrantPage> {
  const filter = parseInput(filterSchema, args.filter ?? null, scope.meta.locale) ?? {};
  const limit = args.first ?? 50;
  const { rows, total } = await repo.grantPage(deps.db, filter, decodeCursor(args.after, scope.meta.locale), limit, withTotal);
  const nodes = rows.slice(0, limit);
  await recordGrantReads(deps, scope, nodes, GRANT_FIELDS);
  return {
    nodes,
    cursors: nodes.map((n) => Buffer.from(JSON.stringify([n.granted_at.toISOString(), n.id])).toString('base64url')),
    hasNextPage: rows.length > limit,
    totalCount: total,
  };
}

/**
 * Who had access on a day of Kazakhstan's calendar (Art. 25(3)): every grant in force at any moment
 * of that day, from the grant rows (never edited, only closed), not from today's state.
 */
export async function accessList(deps: Deps, scope: RequestScope, on: string): Promise<repo.GrantRow[]> {
  const { on: day } = parseInput(z.object({ on: pastDateSchema }), { on }, scope.meta.locale);
  const from = kazakhstanMidnight(day);
  const rows = await repo.grantsInForce(deps.db, from, new Date(from.getTime() + 86_400_000));
  await recordGrantReads(deps, scope, rows, GRANT_FIELDS);
  return rows;
}

/** Reads of the registry are reads of staff members' data (names): recorded before they leave. */
async function recordGrantReads(deps: Deps, scope: RequestScope, rows: repo.GrantRow[], fields: string[]): Promise<void> {
  if (rows.length === 0) return;
  const records = [];
  for (let i = 0; i < rows.length; i += 1000) {
    records.push({ subjectId: null, resource: 'access_grant', resourceIds: rows.slice(i, i + 1000).map((r) => r.id), fields });
  }
  await deps.guard.recordAccess(scope, records);
}

/**
 * The first DPO of a deployment (`BOOTSTRAP_DPO`): granted once, into an empty registry, by the
 * platform itself; every later grant is a DPO's. Safe with several instances starting at once.
 */
export async function bootstrapDpo(deps: Deps, account: string): Promise<void> {
  if (!isAcceptableAccountName(account)) throw new Error('BOOTSTRAP_DPO: not an acceptable account name');
  const id = randomUUID();
  const reason = 'BOOTSTRAP_DPO: the first data-protection officer of this deployment';
  const actor = { id: 'system:bootstrap', roles: [] as Role[], creditorId: null };
  const granted = await deps.db.transaction().execute(async (trx) => {
    if (!(await repo.registryIsEmpty(trx))) return false;
    await repo.insertGrant(trx, {
      id,
      account,
      displayNameEnc: deps.cipher.encrypt(account, { table: 'access_grants', column: 'display_name_enc', id }),
      roles: ['DPO'],
      creditorId: null,
      reason,
      grantedBy: actor.id,
    });
    await enqueueEvent(trx, deps.prefix, {
      source: 'appeals',
      actor,
      subjectId: null,
      correlationId: id,
      type: 'access.granted',
      data: { grantId: id, account, roles: ['DPO'], creditorId: null, replaces: null, reasonSha256: digest(reason) },
    });
    return true;
  });
  if (granted) deps.logger.info({ account }, 'access registry: the bootstrap DPO was granted');
}
