import { randomUUID } from 'node:crypto';
import { enqueueEvents, eventHeader, type ConsumerSpec, type Envelope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Deps } from '../config';
import { findOrRegisterSubject } from '../db/subjects.repository';
import type { Database } from '../db/tables';
import { assertValidIin, iinBlindIndex } from '../domain/identity';
import { FORM_SOURCES, PURPOSES } from '../domain/subject';

/**
 * Registers (or finds) the applicant of every submitted appeal: opens the identity handed off to
 * this service, stores the IIN encrypted with its blind index, records category, source and purpose,
 * and tells the others which subject the appeal belongs to. An identity that is gone (erased before
 * it was read) registers nobody.
 */
const identitySchema = z.object({ iin: z.string() });

export function intakeConsumer(deps: Deps): ConsumerSpec {
  return {
    name: 'subjects-intake',
    types: ['appeal.submitted'],
    async handle(trx, event) {
      const submitted = event as Envelope<'appeal.submitted'>;
      const identity = await deps.handoffs.open(trx, submitted.data.identity, deps.config.extra.sealPrivateKey, identitySchema);
      if (!identity) return;
      const { iin } = identity;
      assertValidIin(iin);
      const sourceCode = FORM_SOURCES[submitted.data.channel] ?? 'WEB_FORM';
      const newId = randomUUID();
      const { id, created } = await findOrRegisterSubject(trx as Transaction<Database>, {
        id: newId,
        iinBidx: iinBlindIndex(deps.config.blindIndexKey, iin),
        iinEncrypted: deps.cipher.encrypt(iin, { table: 'subjects', column: 'iin_enc', id: newId }),
        category: 'APPLICANT',
        source: { code: sourceCode, reference: submitted.data.appealId },
        purpose: { code: PURPOSES.APPEAL_HANDLING, reference: submitted.data.appealId },
      });
      const base = eventHeader('subjects', event, id);
      await enqueueEvents(trx, deps.prefix, [
        ...(created
          ? [
              {
                ...base,
                type: 'subject.registered' as const,
                data: { subjectId: id, category: 'APPLICANT', source: sourceCode, purposes: [PURPOSES.APPEAL_HANDLING] },
              },
            ]
          : []),
        { ...base, type: 'subject.appeal_linked' as const, data: { subjectId: id, appealId: submitted.data.appealId, newSubject: created } },
      ]);
    },
  };
}
