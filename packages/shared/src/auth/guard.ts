import type { Kysely, Transaction } from 'kysely';
import { blockedAmong } from '../blocked-subjects';
import type { DenialReason, OperationKind, ServiceName } from '../events/catalog';
import { enqueueEvent, enqueueEvents } from '../events/outbox';
import { ForbiddenError, TokenRequiredError } from '../errors';
import { ANONYMOUS, hasAnyRole, type Actor, type RequestMeta, type Role } from './actor';
import { BLOCKED_READERS, coversCategories, purposeOfActor, rolesFor, type Operation } from './permissions';

/** A refused call's subject: its id, or how to find it (looked up only when the call is refused). */
export type SubjectOfDenial = string | null | (() => Promise<string | null>);

export interface RequestScope {
  actor: Actor;
  meta: RequestMeta;
  /**
   * The gateway's signed token this request came with (for this subgraph): the ops view forwards it
   * to the services it asks about their parked events, which check it again. Never logged.
   */
  credential?: string;
}

/** A record some service holds about a subject (an appeal, a consent…). */
export interface HeldRecord {
  id: string;
  subjectId: string | null;
}

export interface HeldRead<T extends HeldRecord> {
  /** The row of the permission table that says who may read these records. */
  operation: Operation;
  resource: string;
  fields: string[];
  load: () => Promise<T[]>;
  /**
   * The subject categories a record concerns (a consent's: EMPLOYEE, COUNTERPARTY, APPLICANT…): a
   * record outside the categories the actor's purpose covers is withheld and the attempt recorded
   * (reason PURPOSE), as `coversCategories` says for subjects.
   */
  categoriesOf?: (record: T) => readonly string[];
}

export interface AccessRecord {
  subjectId: string | null;
  resource: string;
  resourceIds: string[];
  fields: string[];
  operation?: OperationKind;
  /** The purpose of the processing (clause 4.4); by default the one the actor's role serves. */
  purpose?: string;
}

/**
 * Role checks and the audit trail of reads, for one service. Denied attempts are recorded (clause
 * 7.2.2); every read of personal data is recorded before the data leave the service (7.2.3): the
 * access events commit first, then the resolver returns the data.
 */
export class Guard {
  constructor(
    private readonly db: Kysely<any>,
    private readonly prefix: string,
    private readonly service: ServiceName,
  ) {}

  /**
   * The permission table's verdict for an operation (`packages/shared/src/auth/permissions.ts`): one
   * of the actor's roles is listed, or the attempt is recorded (reason ROLE) and FORBIDDEN.
   */
  async authorize(scope: RequestScope, operation: Operation, subject: SubjectOfDenial = null): Promise<void> {
    return this.require(scope, operation, rolesFor(operation), subject);
  }

  async require(scope: RequestScope, operation: string, roles: readonly Role[], subject: SubjectOfDenial = null): Promise<void> {
    if (hasAnyRole(scope.actor, roles)) return;
    // Whom the refused call was about: found only now (a lookup may cost a query), for the record.
    const subjectId = typeof subject === 'function' ? await subject() : subject;
    // A partner reaching outside the appeals forwarded to it is probing its scope (a detection rule
    // counts these); a signed-in account the access registry grants nothing is NO_GRANT.
    const reason: DenialReason = isUngranted(scope.actor) ? 'NO_GRANT' : scope.actor.roles.includes('PARTNER') ? 'SCOPE' : 'ROLE';
    await this.recordDenied(scope, operation, reason, subjectId);
    // Without a token where one is needed: UNAUTHENTICATED; with one that lacks the role: FORBIDDEN.
    if (isAnonymous(scope.actor)) throw new TokenRequiredError(scope.meta.locale);
    if (reason === 'NO_GRANT') throw new ForbiddenError(scope.meta.locale, reason, 'access.noGrant');
    throw new ForbiddenError(scope.meta.locale);
  }

  async recordDenied(scope: RequestScope, operation: string, reason: DenialReason, subjectId: string | null = null): Promise<void> {
    await enqueueEvent(this.db, this.prefix, {
      type: 'access.denied',
      source: this.service,
      actor: scope.actor,
      subjectId,
      correlationId: scope.meta.requestId,
      data: { operation, reason, purpose: purposeOfActor(scope.actor), creditorId: scope.actor.creditorId },
    });
  }

  /**
   * A staff read of records held in a service with a `blocked_subjects` table: role check, blocked
   * subjects hidden from all but the DPO and the audit (each attempt recorded as denied), and one
   * access record per subject committed before the records are returned.
   */
  async readHeld<T extends HeldRecord>(scope: RequestScope, read: HeldRead<T>): Promise<T[]> {
    await this.authorize(scope, read.operation);
    const all = await read.load();
    const blocked = hasAnyRole(scope.actor, BLOCKED_READERS)
      ? new Set<string>()
      : await blockedAmong(
          this.db,
          all.map((r) => r.subjectId),
        );
    for (const subjectId of blocked) await this.recordDenied(scope, read.operation, 'BLOCKED', subjectId);
    const inScope = (r: T) => !read.categoriesOf || coversCategories(scope.actor.roles, read.categoriesOf(r));
    for (const subjectId of new Set(all.filter((r) => !inScope(r) && !(r.subjectId && blocked.has(r.subjectId))).map((r) => r.subjectId))) {
      await this.recordDenied(scope, read.operation, 'PURPOSE', subjectId);
    }
    const visible = all.filter((r) => (!r.subjectId || !blocked.has(r.subjectId)) && inScope(r));
    return this.recordReads(scope, { resource: read.resource, fields: read.fields }, visible);
  }

  /**
   * Records a read of records that name subjects (appeals, erasure acts, incidents…): one access
   * record per subject (one for the records of none), committed before the records are returned
   * (7.2.3: reads are recorded too). `held` says where a row's id and subject are when its columns
   * are named otherwise (`subject_id`).
   */
  async recordReads<T>(
    scope: RequestScope,
    read: { resource: string; fields: string[] },
    rows: T[],
    held: (row: T) => HeldRecord = (row) => row as HeldRecord,
  ): Promise<T[]> {
    const bySubject = new Map<string | null, string[]>();
    for (const row of rows) {
      const { id, subjectId } = held(row);
      bySubject.set(subjectId, [...(bySubject.get(subjectId) ?? []), id]);
    }
    await this.recordAccess(
      scope,
      [...bySubject].map(([subjectId, resourceIds]) => ({ subjectId, resource: read.resource, resourceIds, fields: read.fields })),
    );
    return rows;
  }

  /** Records reads (or other operations) of personal data; call before returning the data. */
  async recordAccess(scope: RequestScope, records: AccessRecord[], trx?: Transaction<any>): Promise<void> {
    await enqueueEvents(
      trx ?? this.db,
      this.prefix,
      records.map((r) => ({
        type: 'pd.accessed' as const,
        source: this.service,
        actor: scope.actor,
        subjectId: r.subjectId,
        correlationId: scope.meta.requestId,
        data: {
          resource: r.resource,
          resourceIds: r.resourceIds,
          fields: r.fields,
          operation: r.operation ?? 'ACCESS',
          purpose: r.purpose ?? purposeOfActor(scope.actor),
          creditorId: scope.actor.creditorId,
        },
      })),
    );
  }
}

/** The actor of a request that came without a token (the gateway's ANONYMOUS). */
export function isAnonymous(actor: Actor): boolean {
  return actor.id === ANONYMOUS.id && actor.roles.length === 1 && actor.roles[0] === 'PUBLIC';
}

/**
 * A signed-in account the access registry grants nothing (none, revoked, or a suspended creditor's
 * partner): the gateway passes it on as PUBLIC under its own name — it may do what anyone may (read
 * consent texts, `me`) and nothing else, and the audit shows who tried.
 */
export function isUngranted(actor: Actor): boolean {
  return actor.id !== ANONYMOUS.id && actor.roles.length === 1 && actor.roles[0] === 'PUBLIC';
}

/** A table row's id and subject (its `subject_id` column), for `Guard.recordReads`. */
export function heldRow(row: { id: string; subject_id: string | null }): HeldRecord {
  return { id: row.id, subjectId: row.subject_id };
}
