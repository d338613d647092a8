import type { SubjectResolvers } from '../generated/graphql';
import { publicationOf } from './publication';

export function subjectResolvers(): SubjectResolvers {
  return {
    __resolveReference: (ref) => ({ id: ref.id }),
    consents: (subject, _, ctx) => ctx.consentsOfSubject.load(subject.id),
    async publicationConsent(subject, _, ctx) {
      // Read through the same recorded, scoped read as the consents themselves.
      return publicationOf(await ctx.consentsOfSubject.load(subject.id));
    },
  };
}
