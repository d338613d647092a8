/**
 * NATS_URL may carry the service's credentials (`nats://user:password@host:port`, or
 * `nats://token@host:port`; several servers comma-separated). nats.js does not read credentials from
 * a server URL, and it quotes server URLs in its errors and status events, so the credentials are
 * taken out here and passed as connection options: the password never sits in a string that a log
 * line or an error message could print.
 */
export interface NatsConnectOptions {
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
}

export function natsConnectOptions(url: string): NatsConnectOptions {
  const options: NatsConnectOptions = { servers: [] };
  for (const entry of url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? entry : `nats://${entry}`;
    let parsed: URL;
    try {
      parsed = new URL(withScheme);
    } catch {
      // Not ours to judge: nats.js reports it, and there is nothing secret to hide in it.
      options.servers.push(entry);
      continue;
    }
    const user = decodeURIComponent(parsed.username);
    const pass = decodeURIComponent(parsed.password);
    if (user && pass) Object.assign(options, { user, pass });
    else if (user) options.token = user;
    options.servers.push(`${parsed.protocol}//${parsed.host}`);
  }
  return options;
}

/** The URL with its password (or token) replaced, for any message that must name the server. */
export function redactNatsUrl(url: string): string {
  return url.replace(/(\/\/)([^@/,]*)@/g, (_, slashes: string, auth: string) => `${slashes}${auth.includes(':') ? `${auth.split(':')[0]}:***` : '***'}@`);
}
