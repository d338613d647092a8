export type Locale = 'KK' | 'RU';

/** A consent as resolvers see it; evidence stays encrypted until a staff field asks. */
export interface ConsentRecord {
  id: string;
  subjectId: string | null;
  templateCode: string;
  templateVersion: number;
  locale: Locale;
  channel: string;
  givenAt: string;
  withdrawnAt: string | null;
  appealId: string | null;
  ipEnc: string | null;
  userAgentEnc: string | null;
  documentEnc: string | null;
  enteredBy: string | null;
}

export interface SubjectRef {
  id: string;
}

/** The access report as another subgraph hands it over: only its key. */
export interface AccessReportRef {
  subjectId: string;
}

export function consentStatus(c: ConsentRecord): 'ACTIVE' | 'WITHDRAWN' {
  return c.withdrawnAt ? 'WITHDRAWN' : 'ACTIVE';
}
