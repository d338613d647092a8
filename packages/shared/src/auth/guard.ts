import type { Kysely, Transaction } from 'kysely';
import type { OperationKind, ServiceName } from '../events/catalog';
import { enqueueEvent, enqueueEvents } from '../events/outbox';
import { ForbiddenError } from '../errors';
import { hasAnyRole, type Actor, type RequestMeta, type Role } from './actor';

export interface RequestScope {
  actor: Actor;
  meta: RequestMeta;
}

export interface AccessRecord {
  subjectId: string | null;
  resource: string;
  resourceIds: string[];
  fields: string[];
  operation?: OperationKind;
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

  async require(scope: RequestScope, operation: string, roles: readonly Role[], subjectId: string | null = null): Promise<void> {
    if (hasAnyRole(scope.actor, roles)) return;
    await this.recordDenied(scope, operation, 'ROLE', subjectId);
    throw new ForbiddenError(scope.meta.locale);
  }

  async recordDenied(scope: RequestScope, operation: string, reason: 'ROLE' | 'BLOCKED' | 'SCOPE', subjectId: string | null = null): Promise<void> {
    await enqueueEvent(this.db, this.prefix, {
      type: 'access.denied',
      source: this.service,
      actor: scope.actor,
      subjectId,
      correlationId: scope.meta.requestId,
      data: { operation, reason },
    });
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
        data: { resource: r.resource, resourceIds: r.resourceIds, fields: r.fields, operation: r.operation ?? 'ACCESS' },
      })),
    );
  }
}
