/** Names the development provider and its clients share (no oidc-provider import: clients load this). */
/** The resource indicator the provider issues access tokens for (RFC 8707 wants an absolute URI). */
export const API_RESOURCE = 'urn:pdp:api';
/** The one scope of the platform's API: what an account may do is the access registry's business. */
export const API_SCOPE = 'pdp';
/** The command-line client (`npm run token`): a native app on the loopback interface (RFC 8252). */
export const CLI_CLIENT_ID = 'pdp-cli';
export const CLI_REDIRECT_URI = 'http://127.0.0.1/callback';
/** The staff console (served by the gateway under /console/). */
export const CONSOLE_CLIENT_ID = 'pdp-console';
