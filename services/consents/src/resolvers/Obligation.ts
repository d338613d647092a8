import type { Deps } from '../config';
import type { ObligationResolvers } from '../generated/graphql';

/** An obligation's wording is decrypted only when asked; it is reached through a recorded read. */
export function obligationResolvers(deps: Deps): ObligationResolvers {
  return {
    description: (o) => (o.description_enc ? deps.cipher.decrypt(o.description_enc, { table: 'obligations', column: 'description_enc', id: o.id }) : null),
    dueDate: (o) => o.due_date,
    fulfilledAt: (o) => o.fulfilled_at?.toISOString() ?? null,
    fulfilledBy: (o) => o.fulfilled_by,
  };
}
