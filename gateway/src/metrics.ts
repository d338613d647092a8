import { registry } from '@pdp/shared';
import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import { Counter, Histogram } from 'prom-client';

/** What a request ended with, filled by the gate and by Apollo, read when the response is sent. */
export interface RequestOutcome {
  operationType: 'query' | 'mutation' | 'subscription' | 'none';
  codes: string[];
}

const requests = new Counter({
  name: 'pdp_gateway_requests_total',
  help: 'GraphQL requests at the gateway, by operation type and HTTP status class',
  labelNames: ['operation_type', 'status'],
  registers: [registry],
});

const duration = new Histogram({
  name: 'pdp_gateway_request_seconds',
  help: 'GraphQL request duration at the gateway, by operation type',
  labelNames: ['operation_type'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

const errors = new Counter({
  name: 'pdp_gateway_errors_total',
  help: 'GraphQL errors returned by the gateway, by extensions.code',
  labelNames: ['code'],
  registers: [registry],
});

/** Starts the clock and records count, latency and error codes when the response has gone out. */
export function requestMetrics(): RequestHandler {
  return (_req, res, next) => {
    const outcome: RequestOutcome = { operationType: 'none', codes: [] };
    res.locals.outcome = outcome;
    const end = duration.startTimer();
    res.once('finish', () => {
      end({ operation_type: outcome.operationType });
      requests.inc({ operation_type: outcome.operationType, status: `${Math.floor(res.statusCode / 100)}xx` });
      for (const code of new Set(outcome.codes)) errors.inc({ code });
    });
    next();
  };
}

/** Apollo's side: the operation type and the codes of the errors it sends. */
export function outcomePlugin(): ApolloServerPlugin<{ outcome?: RequestOutcome }> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue, operation }) {
          const outcome = contextValue.outcome;
          if (!outcome) return;
          if (operation) outcome.operationType = operation.operation;
          if (response.body.kind === 'single') {
            for (const e of response.body.singleResult.errors ?? []) outcome.codes.push(String(e.extensions?.code ?? 'UNKNOWN'));
          }
        },
      };
    },
  };
}
