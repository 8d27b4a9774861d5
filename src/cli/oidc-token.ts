/**
 * `fhirgate token --issuer <url> --client-id <id> --client-secret-file <path>`: an access token
 * from a real OpenID provider (Keycloak) with the OAuth 2.0 client-credentials grant, for calling
 * the admin API from scripts. The token endpoint comes from the issuer's discovery document; the
 * client authenticates with HTTP Basic (`client_secret_basic`, Keycloak's default). Only the token
 * is printed (stdout); the secret is read from a file and never printed.
 */
import { readFile } from 'node:fs/promises';
import { CliFailure, errnoOf, parseCommandArgs, runReporting } from './cli-support.js';
import type { CliIo } from './main.js';

export const OIDC_TOKEN_USAGE = `Usage: fhirgate token --issuer <url> --client-id <id> --client-secret-file <path> [--scope <s>]

Gets an access token from the OpenID provider at <url> (for Keycloak
https://<host>/realms/<realm>) with the client-credentials grant of a confidential client
(a Keycloak client with service accounts enabled; give its service account the roles the admin
API needs, e.g. fhir-admin and the platform-admin role, and list the client in the gateway's
FHIRGATE_PLATFORM_ADMIN_CLIENTS) and prints it as the only line on stdout:

  TOKEN=$(fhirgate token --issuer https://sso.example.org/realms/fhirgate \\
            --client-id fhirgate-ops --client-secret-file /run/secrets/ops-client-secret)

The issuer must be https:// (http:// only for localhost). The secret file holds the secret alone.
Exit codes: 0 token printed, 1 the provider refused the client, 2 bad usage or no answer.
`;

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

function issuerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliFailure('--issuer is not a URL.');
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new CliFailure('--issuer takes no query, fragment or credentials.');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    throw new CliFailure('--issuer must be https:// (http:// only for localhost).');
  }
  return url;
}

async function getJson(
  url: URL | string,
  init: RequestInit,
  what: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new CliFailure(
      `the ${what} did not answer (${err instanceof Error ? err.name : 'error'}).`,
    );
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new CliFailure(`the ${what} answered HTTP ${response.status} without JSON.`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new CliFailure(`the ${what} answered HTTP ${response.status} with unexpected JSON.`);
  }
  return { status: response.status, body: body as Record<string, unknown> };
}

/** RFC 6749 2.3.1: client id and secret are form-urlencoded before Basic encoding. */
function basicAuth(clientId: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}

/** The access token of a client-credentials grant; CliFailures name what failed, never the secret. */
export async function clientCredentialsToken(input: {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope?: string | undefined;
}): Promise<string> {
  const issuer = issuerUrl(input.issuer);
  const base = issuer.href.replace(/\/+$/, '');
  const discovery = await getJson(
    `${base}/.well-known/openid-configuration`,
    { headers: { accept: 'application/json' } },
    'discovery endpoint',
  );
  if (discovery.status !== 200) {
    throw new CliFailure(`the discovery endpoint answered HTTP ${discovery.status}.`);
  }
  if (discovery.body['issuer'] !== base) {
    throw new CliFailure('the discovery document names another issuer; check --issuer.');
  }
  const endpointText = discovery.body['token_endpoint'];
  const endpoint = typeof endpointText === 'string' ? issuerUrl(endpointText) : undefined;
  if (endpoint === undefined || endpoint.origin !== issuer.origin) {
    throw new CliFailure('the discovery document has no token endpoint on the issuer’s origin.');
  }
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (input.scope !== undefined) {
    form.set('scope', input.scope);
  }
  const { status, body } = await getJson(
    endpoint,
    {
      method: 'POST',
      headers: {
        authorization: basicAuth(input.clientId, input.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
    },
    'token endpoint',
  );
  const token = body['access_token'];
  if (status === 200 && typeof token === 'string' && /^[\x21-\x7e]+$/.test(token)) {
    return token;
  }
  // OAuth error codes are short ASCII words (RFC 6749 5.2); descriptions are not echoed.
  const error =
    typeof body['error'] === 'string' && /^[\x20-\x7e]{1,64}$/.test(body['error'])
      ? body['error']
      : 'no access token';
  throw new CliFailure(`the token endpoint refused the request: HTTP ${status}, ${error}.`, 1);
}

/** Runs `fhirgate token --issuer ...`; resolves to the exit code. */
export function runOidcToken(args: readonly string[], io: CliIo): Promise<number> {
  return runReporting('token', io.err, async () => {
    const parsed = parseCommandArgs(args, {
      issuer: 'string',
      'client-id': 'string',
      'client-secret-file': 'string',
      scope: 'string',
    });
    if (parsed.options.has('help')) {
      io.out(OIDC_TOKEN_USAGE);
      return 0;
    }
    if (parsed.positionals.length > 0) {
      throw new CliFailure('token takes no arguments besides its options.');
    }
    const issuer = parsed.options.get('issuer');
    const clientId = parsed.options.get('client-id');
    const secretFile = parsed.options.get('client-secret-file');
    if (
      typeof issuer !== 'string' ||
      typeof clientId !== 'string' ||
      typeof secretFile !== 'string'
    ) {
      throw new CliFailure('--issuer, --client-id and --client-secret-file are required.');
    }
    let secret: string;
    try {
      secret = (await readFile(secretFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new CliFailure(`cannot read the client secret file (${errnoOf(err)}).`);
    }
    if (secret === '') {
      throw new CliFailure('the client secret file is empty.');
    }
    const scope = parsed.options.get('scope');
    const token = await clientCredentialsToken({
      issuer,
      clientId,
      clientSecret: secret,
      scope: typeof scope === 'string' ? scope : undefined,
    });
    io.out(`${token}\n`);
    return 0;
  });
}
