import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hospitalA } from '../fixtures/tenants.js';
import { refusedPort } from '../helpers/fault-servers.js';
import { type KeycloakStub, startKeycloakStub } from '../helpers/jwks-server.js';
import { registerTenant, startMain, waitFor } from '../helpers/main-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * Graceful shutdown of the real server process (`src/main.ts`, production mode). The in-flight
 * request is held by a real table lock on the tenant's MariaDB database: its statement waits
 * until the test unlocks the table.
 */

/** Whether a new TCP connection to the port is refused. */
function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A POST over node:http, so hop-by-hop headers (`connection`) stay visible. */
function rawPost(
  port: number,
  body: string,
  token: string,
  agent: http.Agent,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/graphql',
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('graceful shutdown of the real server', () => {
  const key = randomBytes(32);
  const tenant = hospitalA();
  let registryDb: TestDatabase;
  let tenantDb: TestDatabase;
  let keycloak: KeycloakStub;

  beforeAll(async () => {
    registryDb = await createTestDatabase('reg');
    tenantDb = await createTestDatabase('ten');
    keycloak = await startKeycloakStub();
    for (const ddl of tenant.ddl) {
      await tenantDb.exec(ddl);
    }
    await tenant.seed(tenantDb);
    await registerTenant({ registryUrl: registryDb.url, key, tenant, tenantUrl: tenantDb.url });
  });

  afterAll(async () => {
    await keycloak?.close();
    await Promise.allSettled([registryDb?.drop(), tenantDb?.drop()]);
  });

  /** Starts the server and waits for /healthz. */
  async function boot(extra: Record<string, string>) {
    const port = await refusedPort();
    const run = startMain({
      FHIRGATE_REGISTRY_URL: registryDb.url,
      FHIRGATE_OIDC_ISSUER: keycloak.issuer(),
      FHIRGATE_ENCRYPTION_KEY: key.toString('base64'),
      PORT: String(port),
      LOG_LEVEL: 'info',
      ...extra,
    });
    await waitFor('the server', async () =>
      (await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined,
    );
    return { run, port };
  }

  /** Locks the tenant's table and starts a request whose statement then waits on the lock. */
  async function startHeldRequest(port: number, agent: http.Agent) {
    const token = await keycloak.tokenFor({ clientId: tenant.clientId, roles: ['fhir-read'] });
    await tenantDb.exec('LOCK TABLES pacientes WRITE');
    const response = rawPost(
      port,
      JSON.stringify({ query: '{ Patient(id: "1") { id gender } }' }),
      token,
      agent,
    );
    // Caught here so an early failure does not go unhandled; the test awaits `response` itself.
    response.catch(() => {});
    // In flight for real: the gateway's statement is waiting for the table lock.
    await waitFor('the statement to wait on the lock', async () => {
      const rows = await tenantDb.exec<Record<string, unknown>[]>(
        "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND STATE LIKE '%lock%' AND INFO LIKE 'SELECT%'",
        [tenantDb.name],
      );
      return Number(rows[0]?.['n']) >= 1 ? true : undefined;
    });
    return { token, response };
  }

  it('keeps an idle client connection open for FHIRGATE_KEEP_ALIVE_TIMEOUT_MS, then closes it', async () => {
    const { run, port } = await boot({ FHIRGATE_KEEP_ALIVE_TIMEOUT_MS: '2500' });
    try {
      const socket = net.connect(port, '127.0.0.1');
      let received = '';
      let answeredAt = 0;
      let closedAt = 0;
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        received += chunk;
        if (answeredAt === 0 && received.includes('{"status":"ok"}')) {
          answeredAt = performance.now();
        }
      });
      socket.once('close', () => {
        closedAt = performance.now();
      });
      socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await waitFor('the answer', async () => (answeredAt > 0 ? true : undefined));
      // Node announces the setting in whole seconds (its own default would say timeout=5).
      expect(received.toLowerCase()).toContain('keep-alive: timeout=2');
      await waitFor('the server to close the idle connection', async () =>
        closedAt > 0 ? true : undefined,
      );
      // Kept open at least that long (a timer fires no earlier than asked).
      expect(closedAt - answeredAt).toBeGreaterThanOrEqual(2400);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  it('on SIGTERM: /readyz 503, in-flight request finishes with 200, new connections refused, exit 0', async () => {
    const delayMs = 500;
    const { run, port } = await boot({
      FHIRGATE_SHUTDOWN_DELAY_MS: String(delayMs),
      FHIRGATE_SHUTDOWN_TIMEOUT_MS: '8000',
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const held = await startHeldRequest(port, agent);
      const signalledAt = performance.now();
      run.child.kill('SIGTERM');

      // During the delay the listener is still open and says it is going away.
      const readyz = await waitFor('readyz 503', async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`, {
          headers: { connection: 'close' },
        });
        return res.status === 503 ? { status: res.status, body: await res.json() } : undefined;
      });
      expect(performance.now() - signalledAt).toBeLessThan(delayMs);
      expect(readyz.body).toEqual({ status: 'not-ready', reason: 'shutting-down' });

      // Then new connections are refused while the request is still held by the lock.
      await waitFor('connections refused', async () =>
        (await connectionRefused(port)) ? true : undefined,
      );
      const refusedAfter = performance.now() - signalledAt;
      expect(refusedAfter).toBeGreaterThanOrEqual(delayMs - 50);
      expect(run.child.exitCode).toBeNull();

      await new Promise((r) => setTimeout(r, 300));
      await tenantDb.exec('UNLOCK TABLES');
      const res = await held.response;
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ data: { Patient: { id: '1', gender: 'male' } } });
      // The keep-alive client is told not to reuse the connection.
      expect(res.headers['connection']).toBe('close');

      const exit = await run.exited;
      expect(exit.code).toBe(0);
      expect(exit.at - signalledAt).toBeLessThan(delayMs + 8000);
      const out = run.output();
      expect(out).toContain('"forced":false');
      expect(out).toContain('"exitCode":0');
      expect(out).not.toContain(held.token);
      expect(out).not.toContain(registryDb.url);
      expect(out).not.toContain(tenant.canary);
    } finally {
      await tenantDb.exec('UNLOCK TABLES');
      agent.destroy();
      run.child.kill('SIGKILL');
    }
  });

  it('past the deadline, cuts the held request and exits 1', async () => {
    const deadlineMs = 400;
    const { run, port } = await boot({ FHIRGATE_SHUTDOWN_TIMEOUT_MS: String(deadlineMs) });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const held = await startHeldRequest(port, agent);
      const signalledAt = performance.now();
      run.child.kill('SIGTERM');
      await waitFor('connections refused', async () =>
        (await connectionRefused(port)) ? true : undefined,
      );
      // The client sees its connection cut at the deadline, not a response.
      await expect(held.response).rejects.toThrow(/socket hang up|ECONNRESET/);
      const cutAfter = performance.now() - signalledAt;
      expect(cutAfter).toBeGreaterThanOrEqual(deadlineMs - 50);
      expect(cutAfter).toBeLessThan(deadlineMs + 1500);
      // The pool still waits for the statement it sent; freeing the lock lets it finish.
      await tenantDb.exec('UNLOCK TABLES');
      const exit = await run.exited;
      expect(exit.code).toBe(1);
      expect(exit.at - signalledAt).toBeLessThan(deadlineMs + 5000);
      expect(run.output()).toContain('shutdown deadline reached');
    } finally {
      await tenantDb.exec('UNLOCK TABLES');
      agent.destroy();
      run.child.kill('SIGKILL');
    }
  });

  it('closes idle keep-alive connections at once and exits 0 with nothing in flight', async () => {
    const { run, port } = await boot({});
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const token = await keycloak.tokenFor({ clientId: tenant.clientId, roles: ['fhir-read'] });
      const first = await rawPost(
        port,
        JSON.stringify({ query: '{ Patient(id: "2") { id } }' }),
        token,
        agent,
      );
      expect(first.status).toBe(200);
      expect(first.headers['connection']).toBe('keep-alive');
      const idleSocket = Object.values(agent.freeSockets)[0]?.[0];
      expect(idleSocket).toBeDefined();
      const socketClosed = new Promise<void>((resolve) =>
        idleSocket?.once('close', () => resolve()),
      );
      const signalledAt = performance.now();
      run.child.kill('SIGTERM');
      await socketClosed;
      const exit = await run.exited;
      expect(exit.code).toBe(0);
      // Nothing to wait for: well below the 10 s default deadline.
      expect(exit.at - signalledAt).toBeLessThan(2000);
    } finally {
      agent.destroy();
      run.child.kill('SIGKILL');
    }
  });
});
