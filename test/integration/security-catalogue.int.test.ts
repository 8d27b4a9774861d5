import { readFileSync } from 'node:fs';
import net from 'node:net';
import {
  buildSchema,
  type GraphQLObjectType,
  GraphQLScalarType,
  getNamedType,
  Lexer,
  Source,
  TokenKind,
} from 'graphql';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealSecret } from '../../src/tenancy/crypto.js';
import { parseDatabaseUrl } from '../../src/tenancy/database-url.js';
import { hospitalA, hospitalB } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { refusedPort } from '../helpers/fault-servers.js';

/**
 * SECURITY-TESTS cases no other file covered: A20, A24, C36, D54, D56, D58 and E64, each against
 * the real HTTP gateway and MariaDB.
 */
let gw: TestGateway;

beforeAll(async () => {
  gw = await createTestGateway({
    tenants: [hospitalA(), hospitalB()],
    // Short enough to wait for in a test; the production value is 10 s.
    resilience: { halfOpenAfterMs: 1000 },
  });
});

afterAll(async () => {
  await gw?.close();
});

function code(res: { json: { errors?: Array<{ extensions?: Record<string, unknown> }> } }) {
  return res.json.errors?.[0]?.extensions?.['code'];
}

describe('A. authentication', () => {
  it('A20 a 20 KiB Authorization header gets 431 from Node, with no key fetch', async () => {
    const fetchesBefore = gw.keycloak.requestCount();
    const res = await gw.post('{ __typename }', { token: `ey${'A'.repeat(20 * 1024)}` });
    expect(res.status).toBe(431);
    expect(gw.keycloak.requestCount()).toBe(fetchesBefore);
  });

  it.each(['__proto__', 'constructor', 'hasOwnProperty', 'toString'])(
    'A24 client_id %j is UNKNOWN_TENANT and the process keeps serving',
    async (clientId) => {
      const res = await gw.post('{ Patient(id: "1") { id } }', {
        token: await gw.tokenFor(clientId),
      });
      expect(res.status).toBe(403);
      expect(code(res)).toBe('UNKNOWN_TENANT');
      const ok = await gw.post('{ Patient(id: "1") { id } }', {
        token: await gw.tokenFor('hospital-a'),
      });
      expect(ok.status).toBe(200);
    },
  );
});

describe('C. GraphQL cost', () => {
  /** `k` aliases of PatientList, each a chain of extensions ending in many scalar fields. */
  function costly(k: number): string {
    const sdl = readFileSync(new URL('../../schema/gateway.graphql', import.meta.url), 'utf8');
    const extension = buildSchema(sdl).getType('Extension') as GraphQLObjectType;
    const scalars = Object.values(extension.getFields())
      .filter((f) => getNamedType(f.type) instanceof GraphQLScalarType && f.args.length === 0)
      .map((f) => f.name)
      .slice(0, 40);
    let inner = scalars.join(' ');
    for (let i = 0; i < 6; i++) {
      inner = `extension { ${inner} }`;
    }
    const aliases = Array.from(
      { length: k },
      (_, i) => `a${i}: PatientList(_count: 1) { ${inner} }`,
    );
    return `{ ${aliases.join(' ')} }`;
  }

  function tokens(document: string): number {
    const lexer = new Lexer(new Source(document));
    let n = 0;
    while (lexer.advance().kind !== TokenKind.EOF) {
      n++;
    }
    return n;
  }

  it('C36 a document over cost 5000, within the depth, alias and token limits, is refused before execution', async () => {
    const token = await gw.tokenFor('hospital-a');
    const cheap = costly(4);
    const dear = costly(15);
    // Only the cost differs in kind: depth 8, at most 15 aliases, under 1000 tokens both.
    expect(tokens(dear)).toBeLessThan(1000);
    const ok = await gw.post(cheap, { token });
    expect(ok.json.errors).toBeUndefined();
    const from = gw.statements.length;
    const refused = await gw.post(dear, { token });
    expect(refused.json.data ?? null).toBeNull();
    expect(refused.json.errors?.[0]?.message).toContain('Query validation error.');
    expect(gw.statements.length).toBe(from);
  });
});

describe('D. SQL construction and database privileges', () => {
  it('D54/D56 injection text in an id is a bound value: no match, no SQL error, no second statement', async () => {
    const token = await gw.tokenFor('hospital-a');
    const from = gw.statements.length;
    for (const id of ['1 OR 1=1', "1' OR '1'='1", '1; DROP TABLE pacientes', '1; --']) {
      const res = await gw.post('query ($id: ID) { Patient(id: $id) { id } }', {
        token,
        variables: { id },
      });
      expect(res.status).toBe(200);
      expect(res.json.errors).toBeUndefined();
      expect(res.json.data?.['Patient']).toBeNull();
    }
    for (const { sql } of gw.statements.slice(from)) {
      expect(sql).not.toMatch(/OR 1=1|DROP|--/);
    }
    const rows = await gw.tenantDbs
      .get('hospital-a')!
      .exec<Array<Record<string, unknown>>>('SELECT COUNT(*) AS n FROM pacientes');
    expect(Number(rows[0]?.['n'])).toBeGreaterThan(0);
  });

  it('D55 an object where an ID is expected is refused by GraphQL coercion, before any statement', async () => {
    const token = await gw.tokenFor('hospital-a');
    const from = gw.statements.length;
    const res = await gw.post('query ($id: ID) { Patient(id: $id) { id } }', {
      token,
      variables: { id: { id: 1 } },
    });
    expect(res.json.data ?? null).toBeNull();
    expect(res.json.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(gw.statements.length).toBe(from);
  });

  it("D58 a tenant's database user cannot read another tenant's schema (1142 / 1044)", async () => {
    const own = parseDatabaseUrl(gw.tenantUrls.get('hospital-a')!);
    if (own.kind !== 'mysql' || own.password === '') {
      // The test server's account may not create users; the helper then falls back to it.
      return;
    }
    const conn = await mysql.createConnection({
      host: own.host,
      port: own.port,
      user: own.user,
      password: own.password,
      database: own.database,
    });
    try {
      const [rows] = await conn.query('SELECT COUNT(*) AS n FROM pacientes');
      expect(Number((rows as Array<{ n: number }>)[0]?.n)).toBeGreaterThan(0);
      const other = gw.tenantDbs.get('hospital-b')!.name;
      const denied = await conn.query(`SELECT * FROM \`${other}\`.usuarios`).then(
        () => undefined,
        (err: { errno?: number }) => err.errno,
      );
      expect([1142, 1044]).toContain(denied);
      const write = await conn.query('DELETE FROM pacientes WHERE id_paciente = -1').then(
        () => undefined,
        (err: { errno?: number }) => err.errno,
      );
      expect(write).toBe(1142);
    } finally {
      await conn.end();
    }
  });
});

describe('E. breaker half-open', () => {
  it('E64 after halfOpenAfter one probe reaches the database; its success closes the breaker', async () => {
    const port = await refusedPort();
    const own = parseDatabaseUrl(gw.tenantUrls.get('hospital-a')!);
    if (own.kind !== 'mysql') {
      throw new Error('expected a MySQL tenant URL');
    }
    const user = encodeURIComponent(own.user);
    const password = encodeURIComponent(own.password);
    await gw.registry.upsertTenant({
      clientId: 'flaky',
      displayName: 'flaky',
      dbType: 'mysql',
      sealedUrl: sealSecret(
        gw.keyring,
        'flaky',
        `mysql://${user}:${password}@127.0.0.1:${port}/${own.database}`,
      ),
      status: 'active',
    });
    await gw.registry.addMapping('flaky', JSON.stringify(hospitalA().mapping), {
      activate: true,
    });
    const token = await gw.tokenFor('flaky');
    const query = '{ Patient(id: "1") { id } }';
    for (let i = 0; i < 5; i++) {
      expect(code(await gw.post(query, { token }))).toBe('TENANT_UNAVAILABLE');
    }
    expect(gw.policies.breakerState('flaky')).toBe('open');

    // The database "comes back": a TCP relay to MariaDB on the refused port.
    let accepts = 0;
    const relay = net.createServer((client) => {
      accepts++;
      const upstream = net.connect(own.port, own.host);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve));
    try {
      const started = performance.now();
      const open = await gw.post(query, { token });
      expect(code(open)).toBe('TENANT_UNAVAILABLE');
      expect(performance.now() - started).toBeLessThan(200);
      expect(accepts).toBe(0);

      await new Promise((r) => setTimeout(r, 1100));
      const probe = await gw.post(query, { token });
      expect(probe.status).toBe(200);
      expect(probe.json.data?.['Patient']).toMatchObject({ id: '1' });
      expect(accepts).toBe(1);
      expect(gw.policies.breakerState('flaky')).toBe('closed');
      expect(gw.logLines.some((l) => l.includes('tenant breaker closed'))).toBe(true);
    } finally {
      await gw.pools.evict('flaky');
      relay.close();
    }
  });
});
