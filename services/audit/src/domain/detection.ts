/**
 * Detection rules for unauthorised access (clause 7.2.2). Each counts an actor's recent entries of
 * one operation; crossing the threshold raises an incident (at most one per rule, actor and window).
 */
export interface DetectionRule {
  name: string;
  operation: 'DENIED' | 'ACCESS';
  threshold: number;
  windowMinutes: number;
}

export const DETECTION_RULES: DetectionRule[] = [
  /** Someone keeps trying what their role does not allow. */
  { name: 'REPEATED_DENIALS', operation: 'DENIED', threshold: 5, windowMinutes: 10 },
  /** Someone reads far more subjects than handling appeals needs. */
  { name: 'MASS_READ', operation: 'ACCESS', threshold: 200, windowMinutes: 10 },
];
