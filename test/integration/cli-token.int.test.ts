import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessTokenVerifier } from '../../src/auth/verify-access-token.js';
import { HANG_BACKSTOP_MS } from '../helpers/backstop.js';
import { compiledEntry } from '../helpers/test-build.js';

/**
 * `fhirgate token --issuer ...` (client-credentials grant) against a small OpenID provider
 * started here: discovery, a token endpoint that checks HTTP Basic client authentication the way
 * Keycloak does, and a JWKS. The token it prints is verified by the gateway's own verifier. Also
 * the demo token command's --platform-admin.
 */
const ROOT = new URL('../../', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'fhirgate-cli-token-'));
const CLIENT = 'fhirgate-ops';
// Characters that must be form-encoded before Basic (RFC 6749 2.3.1).
const SECRET = `s3cr:t+${randomUUID()} é`;
const PLATFORM_ROLE = 'fhirgate-platform-admin';

let server: Server;
let issuer: string;
let jwk: JWK;
let signingKey: CryptoKey;
const seen: Array<{ authorization: string | undefined; body: string }> = [];
const outputs: string[] = [];

function cli(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [compiledEntry('cli/main'), ...args],
      { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: HANG_BACKSTOP_MS },
      (err, stdout, stderr) => {
        outputs.push(stdout, stderr);
        resolve({
          code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1,
          stdout,
          stderr,
        });
      },
    );
  });
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey as CryptoKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const path = new URL(req.url ?? '/', issuer).pathname;
      if (path === '/realms/ops/.well-known/openid-configuration') {
        send(200, {
          issuer,
          token_endpoint: `${issuer}/protocol/openid-connect/token`,
          jwks_uri: `${issuer}/protocol/openid-connect/certs`,
        });
      } else if (path === '/realms/ops/protocol/openid-connect/certs') {
        send(200, { keys: [jwk] });
      } else if (path === '/realms/ops/protocol/openid-connect/token' && req.method === 'POST') {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ authorization: req.headers.authorization, body });
        const [id, secret] = Buffer.from(
          (req.headers.authorization ?? '').replace(/^Basic /, ''),
          'base64',
        )
          .toString('utf8')
          .split(':')
          .map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
        if (id !== CLIENT || secret !== SECRET) {
          send(401, { error: 'invalid_client', error_description: `Invalid client ${SECRET}` });
          return;
        }
        if (new URLSearchParams(body).get('grant_type') !== 'client_credentials') {
          send(400, { error: 'unsupported_grant_type' });
          return;
        }
        // A Keycloak service-account token: client_id and azp name the client; the service
        // account holds fhir-admin and the platform-admin role.
        const now = Math.floor(Date.now() / 1000);
        const token = await new SignJWT({
          typ: 'Bearer',
          azp: CLIENT,
          client_id: CLIENT,
          resource_access: { [CLIENT]: { roles: ['fhir-admin', PLATFORM_ROLE] } },
        })
          .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
          .setIssuer(issuer)
          .setSubject(`service-account-${CLIENT}`)
          .setAudience('fhir-gateway')
          .setIssuedAt(now)
          .setExpirationTime(now + 300)
          .setJti(randomUUID())
          .sign(signingKey);
        send(200, { access_token: token, token_type: 'Bearer', expires_in: 300 });
      } else {
        send(404, { error: 'not found' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/ops`;
  writeFileSync(join(dir, 'secret'), `${SECRET}\n`);
  writeFileSync(join(dir, 'wrong'), 'not-the-secret\n');
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  for (const text of outputs) {
    expect(text).not.toContain(SECRET);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('fhirgate token --issuer (client credentials)', () => {
  it('prints only the access token, which the gateway verifier accepts as a platform admin', async () => {
    const result = await cli([
      'token',
      '--issuer',
      issuer,
      '--client-id',
      CLIENT,
      '--client-secret-file',
      join(dir, 'secret'),
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(seen.at(-1)?.body).toBe('grant_type=client_credentials');
    expect(seen.at(-1)?.authorization).toMatch(/^Basic /);
    const verifier = createAccessTokenVerifier({
      issuer,
      jwksUrl: new URL(`${issuer}/protocol/openid-connect/certs`),
      audience: 'fhir-gateway',
      algorithms: ['RS256'],
      clockToleranceSec: 30,
      maxTokenAge: '15m',
      tenantClaim: 'client_id',
      roleSource: 'client',
      platformAdminRole: PLATFORM_ROLE,
      platformAdminClients: [CLIENT],
    });
    const principal = await verifier.verify(result.stdout.trim());
    expect(principal.clientId).toBe(CLIENT);
    expect(principal.roles.has('fhir-admin')).toBe(true);
    expect(principal.platformAdmin).toBe(true);
  });

  it('a refused client is exit 1 with the OAuth error code, not its description', async () => {
    const result = await cli([
      'token',
      '--issuer',
      issuer,
      '--client-id',
      CLIENT,
      '--client-secret-file',
      join(dir, 'wrong'),
    ]);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(
      'fhirgate token: the token endpoint refused the request: HTTP 401, invalid_client.\n',
    );
  });

  it('refuses plain http off localhost, a wrong issuer, and missing options (exit 2)', async () => {
    const secret = join(dir, 'secret');
    const remote = await cli([
      'token',
      '--issuer',
      'http://sso.example.org/realms/x',
      '--client-id',
      CLIENT,
      '--client-secret-file',
      secret,
    ]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('--issuer must be https://');
    const other = await cli([
      'token',
      '--issuer',
      `${issuer}-other`,
      '--client-id',
      CLIENT,
      '--client-secret-file',
      secret,
    ]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('the discovery endpoint answered HTTP 404');
    const missing = await cli(['token', '--issuer', issuer]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--client-id and --client-secret-file are required');
  });
});

describe('fhirgate token --tenant (demo issuer)', () => {
  it('--platform-admin adds fhir-admin and the platform-admin role', async () => {
    const mint = (env: Record<string, string>) =>
      cli(
        ['token', '--tenant', 'fhirgate-ops', '--platform-admin', '--data-dir', join(dir, 'demo')],
        env,
      );
    const result = await mint({ FHIRGATE_PLATFORM_ADMIN_CLIENTS: 'fhirgate-ops' });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const claims = decodeJwt(result.stdout.trim()) as {
      resource_access: Record<string, { roles: string[] }>;
    };
    // The server honours the role only for an operations client: a warning says so otherwise.
    const unlisted = await mint({});
    expect(unlisted.code).toBe(0);
    expect(unlisted.stderr).toContain('is not in FHIRGATE_PLATFORM_ADMIN_CLIENTS');
    expect(claims.resource_access['fhirgate-ops']?.roles).toEqual([
      'fhir-read',
      'fhir-admin',
      PLATFORM_ROLE,
    ]);
  });
});
