import type { SubjectResolvers } from '../generated/graphql';

export function subjectResolvers(): SubjectResolvers {
  return {
    __resolveReference: (ref) => ({ id: ref.id }),
    consents: (subject, _, ctx) => ctx.consentsOfSubject.load(subject.id),
  };
}
