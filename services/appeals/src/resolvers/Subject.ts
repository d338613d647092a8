import type { SubjectResolvers } from '../generated/graphql';

export function subjectResolvers(): SubjectResolvers {
  return {
    __resolveReference: (ref) => ({ id: ref.id }),
    appeals: (subject, _, ctx) => ctx.appealsOfSubject.load(subject.id),
  };
}
