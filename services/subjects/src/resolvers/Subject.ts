import type { Deps } from '../config';
import type { SubjectResolvers } from '../generated/graphql';

export function subjectResolvers(deps: Deps): SubjectResolvers {
  return {
    __resolveReference: (ref, ctx) => ctx.subjects.load(ref.id),
    iin: (subject) => (subject.iinEncrypted ? deps.cipher.decrypt(subject.iinEncrypted) : null),
  };
}
