/** The gateway's limits on one request; every one is checked before any subgraph is called. */
export interface RequestLimits {
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  maxCost: number;
  maxDepth: number;
  /** Root fields (a `submitAppeal` is one) per minute per client IP without a token; 0 = off. */
  publicRatePerMinute: number;
  /** Root fields per minute per authenticated actor; 0 = off. */
  actorRatePerMinute: number;
  /** `appealStatus` lookups per minute per client IP (guessing an IIN for a reference); 0 = off. */
  statusLookupsPerMinute: number;
}

export const DEFAULT_LIMITS: RequestLimits = {
  maxAliases: 15,
  maxTokens: 1000,
  maxDirectives: 50,
  maxCost: 100_000,
  maxDepth: 8,
  publicRatePerMinute: 60,
  actorRatePerMinute: 1200,
  statusLookupsPerMinute: 10,
};
