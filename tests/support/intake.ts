import { eventually, makeIin } from '@pdp/shared/testing';
import type { System } from './system';

export const SUBMIT = `mutation Submit($input: SubmitAppealInput!) {
  submitAppeal(input: $input) { appeal { id reference kind status deadline submittedAt locale } }
}`;

/** A valid web form; tests override what they are about. */
export function form(overrides: Record<string, unknown> = {}) {
  return {
    kind: 'APPEAL',
    iin: makeIin('1990-05-17', 'M', 42),
    phone: '8 (701) 123-45-67',
    email: 'Aigerim@Mail.kz',
    description: 'Коллектор звонит по ночам и угрожает.',
    privacyPolicyAccepted: true,
    ...overrides,
  };
}

/** Waits until the appeal is linked to its subject and its consent and audit entries exist. */
export async function settled(system: System, appealId: string): Promise<string> {
  const subjectId = await eventually(
    async () => {
      const row = await system.db('appeals').selectFrom('appeals').select('subject_id').where('id', '=', appealId).executeTakeFirst();
      return row?.subject_id;
    },
    15_000,
    'appeal linked to subject',
  );
  await eventually(
    async () => {
      const c = await system.db('consents').selectFrom('consents').select('subject_id').where('appeal_id', '=', appealId).executeTakeFirst();
      return c?.subject_id === subjectId;
    },
    15_000,
    'consent linked to subject',
  );
  return subjectId;
}

/** Submits a form through the gateway and waits until every service has the subject. */
export async function intakeSubject(system: System, overrides: Record<string, unknown> = {}) {
  const input = form({ iin: makeIin('1988-08-08', 'F', Math.floor(Math.random() * 9000)), ...overrides });
  const res = await fetch(system.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: SUBMIT, variables: { input } }),
  });
  const body = (await res.json()) as { data: { submitAppeal: { appeal: { id: string } } } };
  const appealId = body.data.submitAppeal.appeal.id;
  const subjectId = await settled(system, appealId);
  return { subjectId, appealId, input };
}
