// The image's HEALTHCHECK: exit 0 when this container's process answers ready, 1 otherwise. A
// service or the gateway: GET /readyz on PORT; the development OpenID provider (DEV_OIDC_PORT, no
// PORT): its discovery document. Plain Node.js, no shell or curl in the image.
const port = process.env.PORT ?? process.env.DEV_OIDC_PORT;
const path = process.env.PORT ? '/readyz' : '/.well-known/openid-configuration';
const bound = process.env.PORT ? process.env.HOST : process.env.DEV_OIDC_HOST;
const host = !bound || bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound;
try {
  const res = await fetch(`http://${host}:${port}${path}`, { signal: AbortSignal.timeout(2500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
