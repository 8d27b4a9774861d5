import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantHash } from '../../src/logger.js';
import { hospitalA } from '../fixtures/tenants.js';
import { HANG_BACKSTOP_MS } from '../helpers/backstop.js';
import { createTenantUser, type TenantUser } from '../helpers/tenant-user.js';
import { compiledEntry } from '../helpers/test-build.js';
import {
  createTenantWorld,
  type GatewayProcess,
  startGatewayProcess,
  type TenantWorld,
} from './gateway-process.js';

/**
 * A tenant's whole life through the operator CLI (child processes) beside a running gateway
 * process that shares the registry and Redis: add, mapping activate / list / show / diff /
 * rollback, update of the URL and of the name, the key check, and remove, after which the
 * gateway closes the tenant's pool. No output ever holds a URL or a password.
 */
const ROOT = new URL('../../', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'fhirgate-cli-life-'));
const A = hospitalA();
const CLIENT = 'clinic-x';
const BARE = 'clinic-bare';
const channel = `fhirgate:test-life:${randomBytes(4).toString('hex')}`;
const REDIS_URL = 'redis://127.0.0.1:6379';

let world: TenantWorld;
let gateway: GatewayProcess;
let userOne: TenantUser;
let userTwo: TenantUser;
const outputs: string[] = [];
const files = {
  good: join(dir, 'good.json'),
  changed: join(dir, 'changed.json'),
  broken: join(dir, 'broken.json'),
  url: join(dir, 'url.txt'),
  url2: join(dir, 'url2.txt'),
};

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const env = {
    PATH: process.env['PATH'] ?? '',
    FHIRGATE_REGISTRY_URL: world.registryDb.url,
    FHIRGATE_ENCRYPTION_KEY: world.key,
    REDIS_URL,
    FHIRGATE_RELOAD_CHANNEL: channel,
    ...extra,
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [compiledEntry('cli/main'), ...args],
      { cwd: ROOT, env, timeout: HANG_BACKSTOP_MS },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        outputs.push(stdout, stderr);
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function patients(clientId: string, roles = ['fhir-read']) {
  const token = await world.keycloak.tokenFor({ clientId, roles });
  return gateway.post('{ PatientList(_count: 2) { id } }', token);
}

beforeAll(async () => {
  world = await createTenantWorld([A]);
  const db = world.tenantDbs.get('hospital-a');
  if (db === undefined) {
    throw new Error('no hospital-a database');
  }
  const one = await createTenantUser(db);
  const two = await createTenantUser(db);
  if (one === undefined || two === undefined) {
    throw new Error('the test server may not create users');
  }
  userOne = one;
  userTwo = two;
  const changed = structuredClone(A.mapping) as {
    resources: { Patient: { elements: Record<string, unknown> } };
  };
  changed.resources.Patient.elements['identifier[0].system'] = {
    constant: 'https://changed.example/rut',
  };
  const broken = structuredClone(A.mapping) as typeof changed;
  broken.resources.Patient.elements['name[0].prefix[0]'] = 'titulo';
  writeFileSync(files.good, JSON.stringify(A.mapping));
  writeFileSync(files.changed, JSON.stringify(changed));
  writeFileSync(files.broken, JSON.stringify(broken));
  writeFileSync(files.url, userOne.url);
  writeFileSync(files.url2, userTwo.url);
  gateway = await startGatewayProcess(
    world.env({ REDIS_URL, FHIRGATE_RELOAD_CHANNEL: channel, FHIRGATE_CONFIG_TTL_MS: '600000' }),
  );
  await gateway.waitForLine(/reload bus connected/);
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  for (const text of [...outputs, ...(gateway?.lines ?? [])]) {
    for (const secret of [userOne?.password, userTwo?.password, userOne?.url, world?.key]) {
      if (secret !== undefined) {
        expect(text).not.toContain(secret);
      }
    }
  }
  await userOne?.drop();
  await userTwo?.drop();
  await world?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a tenant from add to remove', () => {
  it('tenant add seals the URL, checks and activates the mapping; the gateway serves it', async () => {
    const added = await cli([
      'tenant',
      'add',
      CLIENT,
      '--database-url-file',
      files.url,
      '--mapping',
      files.good,
      '--name',
      'Clinic X',
    ]);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('(mysql, TLS disable, URL sealed with key k1)');
    expect((await patients(CLIENT)).status).toBe(200);
  });

  it('tenant list and show carry the log hash, never a URL', async () => {
    const hash = tenantHash(CLIENT);
    const listed = await cli(['tenant', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`^clinic-x\\s+${hash}\\s+active\\s+mysql\\s+k1\\s+v1$`, 'm'),
    );
    const shown = await cli(['tenant', 'show', CLIENT]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`log hash:         ${hash}`);
    expect(shown.stdout).toContain('database:         mysql, TLS disable');
    expect(shown.stdout).toContain('active mapping:   v1');
    // The gateway's own log lines name the tenant by the same hash.
    await gateway.waitForLine(new RegExp(`"tenant":"${hash}"`));
    expect(shown.stdout).toContain('add --gateway and --token-file to ask one');
  });

  it('tenant show --gateway adds the replica view: served version, pool, breaker, last error', async () => {
    const tokenFile = join(dir, 'admin.token');
    writeFileSync(
      tokenFile,
      await world.keycloak.tokenFor({ clientId: CLIENT, roles: ['fhir-admin'] }),
    );
    const shown = await cli([
      'tenant',
      'show',
      CLIENT,
      '--gateway',
      gateway.url,
      '--token-file',
      tokenFile,
    ]);
    expect(shown.stderr).toBe('');
    expect(shown.stdout).toContain('replica status:   active\n');
    expect(shown.stdout).toContain('served mapping:   v1\n');
    expect(shown.stdout).toMatch(/^pool: +[1-9]\d* open \/ 10 max, 0 in use, \d+ idle, 0 queued$/m);
    expect(shown.stdout).toContain('breaker:          closed\n');
    expect(shown.stdout).toContain('last error:       none\n');
    // A reader's token is refused by the admin field: exit 2 with the code only.
    writeFileSync(
      tokenFile,
      await world.keycloak.tokenFor({ clientId: CLIENT, roles: ['fhir-read'] }),
    );
    const refused = await cli([
      'tenant',
      'show',
      CLIENT,
      '--gateway',
      gateway.url,
      '--token-file',
      tokenFile,
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('the gateway refused tenantStatus (FORBIDDEN)');
  });

  it('mapping activate checks first: problems are exit 1 and store nothing', async () => {
    const broken = await cli(['mapping', 'activate', CLIENT, files.broken]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('titulo');
    expect(broken.stderr).toContain('nothing was activated');
    const dry = await cli(['mapping', 'activate', CLIENT, files.changed, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('nothing stored');
    expect((await world.registry.listMappings(CLIENT)).length).toBe(1);
  });

  it('mapping activate stores v2, publishes it, and the gateway serves the new mapping', async () => {
    const activated = await cli(['mapping', 'activate', CLIENT, files.changed]);
    expect(activated.stderr).toBe('');
    expect(activated.stdout).toBe(
      'Activated mapping version 2 of "clinic-x"; running gateways were told through Redis.\n',
    );
    const token = await world.keycloak.tokenFor({ clientId: CLIENT, roles: ['fhir-read'] });
    await expect
      .poll(
        async () =>
          (await gateway.post('{ PatientList(_count: 1) { identifier { system } } }', token)).text,
        { timeout: 15_000 },
      )
      .toContain('https://changed.example/rut');
  });

  it('mapping list, show and diff show versions with who and when', async () => {
    const listed = await cli(['mapping', 'list', CLIENT]);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+ACTIVE\s+CREATED_AT\s+CREATED_BY$/);
    expect(lines[1]).toMatch(/^v1\s+\d{4}-\d{2}-\d{2}T\S+\s+fhirgate-cli:\S+$/);
    expect(lines[2]).toMatch(/^v2\s+\*\s+\d{4}-\d{2}-\d{2}T\S+\s+fhirgate-cli:\S+$/);
    const shown = await cli(['mapping', 'show', CLIENT, '--version', '1']);
    expect(JSON.parse(shown.stdout)).toEqual(A.mapping);
    const diff = await cli(['mapping', 'diff', CLIENT, '1']);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain(
      '- $.resources.Patient.elements["identifier[0].system"].constant:',
    );
    expect(diff.stdout).toContain(
      '+ $.resources.Patient.elements["identifier[0].system"].constant: "https://changed.example/rut"',
    );
    expect(diff.stdout).toContain('from v1 to v2.');
  });

  it('mapping rollback re-activates v1 as v3 after checking it', async () => {
    const rolled = await cli(['mapping', 'rollback', CLIENT]);
    expect(rolled.stderr).toBe('');
    expect(rolled.stdout).toContain('back to the mapping of v1, now active as v3');
    const versions = await world.registry.listMappings(CLIENT);
    expect(versions.map((v) => [v.version, v.active])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(versions[2]?.createdBy).toMatch(/\(rollback to v1\)$/);
    const same = await cli(['mapping', 'diff', CLIENT, '1', '3']);
    expect(same.stdout).toBe('No differences from v1 to v3.\n');
  });

  it('tenant update tries the new connection first and refuses one that does not work', async () => {
    // The test server offers no TLS on 127.0.0.1, or offers it with a certificate nobody here
    // trusts: either way TLS with verification cannot work, and nothing changes.
    const before = (await world.registry.findTenant(CLIENT))?.tenant.sealedUrl;
    const refused = await cli(['tenant', 'update', CLIENT, '--tls-mode', 'verify-full']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^fhirgate tenant update: the tenant database failed: database unavailable: /,
    );
    expect((await world.registry.findTenant(CLIENT))?.tenant.sealedUrl).toBe(before);
    const empty = await cli(['tenant', 'update', CLIENT]);
    expect(empty.code).toBe(2);
  });

  it('tenant update changes the URL and the name; the gateway moves to the new user', async () => {
    const updated = await cli([
      'tenant',
      'update',
      CLIENT,
      '--database-url-file',
      files.url2,
      '--name',
      'Clinic X (new)',
    ]);
    expect(updated.stderr).toBe('');
    expect(updated.stdout).toBe(
      'Updated tenant "clinic-x": URL, display name; running gateways were told through Redis.\n',
    );
    expect((await world.registry.findTenant(CLIENT))?.tenant.displayName).toBe('Clinic X (new)');
    await expect.poll(async () => (await patients(CLIENT)).status, { timeout: 15_000 }).toBe(200);
  });

  it('a key that cannot open the sealed rows is refused by tenant add and keys rotate, naming them', async () => {
    const wrong = randomBytes(32).toString('base64');
    const add = await cli(['tenant', 'add', 'newcomer', '--database-url-file', files.url], {
      FHIRGATE_ENCRYPTION_KEY: wrong,
    });
    expect(add.code).toBe(1);
    expect(add.stderr).toContain(
      'cannot open the sealed URL of 2 tenants ("clinic-x", "hospital-a")',
    );
    expect(await world.registry.findTenant('newcomer')).toBeUndefined();
    const rotate = await cli(['keys', 'rotate'], {
      FHIRGATE_ENCRYPTION_KEY: wrong,
      FHIRGATE_ENCRYPTION_KEY_ID: 'k2',
    });
    expect(rotate.code).toBe(1);
    expect(rotate.stderr).toContain('("clinic-x", "hospital-a")');
    expect(rotate.stderr).toContain('nothing was changed');
  });

  it('a tenant added without a mapping can be given one by its own admin', async () => {
    const added = await cli(['tenant', 'add', BARE, '--database-url-file', files.url]);
    expect(added.code).toBe(0);
    const read = await patients(BARE);
    expect(read.json.errors?.[0]?.extensions?.['code']).toBe('TENANT_CONFIG_INVALID');
    const token = await world.keycloak.tokenFor({ clientId: BARE, roles: ['fhir-admin'] });
    const activated = await gateway.post(
      `mutation A($d: JSON!) { activateTenantMapping(clientId: "${BARE}", document: $d) { ok version } }`,
      token,
      { d: A.mapping },
    );
    expect(activated.json.data?.['activateTenantMapping']).toEqual({ ok: true, version: 1 });
    await expect.poll(async () => (await patients(BARE)).status, { timeout: 15_000 }).toBe(200);
  });

  it('tenant remove needs --yes, then offboards the tenant on the running gateway', async () => {
    const unconfirmed = await cli(['tenant', 'remove', CLIENT]);
    expect(unconfirmed.code).toBe(2);
    expect(await world.registry.findTenant(CLIENT)).toBeDefined();
    const removed = await cli(['tenant', 'remove', CLIENT, '--yes']);
    expect(removed.stderr).toBe('');
    expect(removed.stdout).toBe(
      'Removed tenant "clinic-x" and its 3 mapping versions; its audit events are kept; running gateways were told through Redis.\n',
    );
    await gateway.waitForLine(
      new RegExp(`"tenant":"${tenantHash(CLIENT)}".*tenant offboarded on this replica`),
      15_000,
    );
    const after = await patients(CLIENT);
    expect(after.json.errors?.[0]?.extensions?.['code']).toBe('UNKNOWN_TENANT');
    expect(await world.registry.listMappings(CLIENT)).toEqual([]);
    const again = await cli(['tenant', 'remove', CLIENT, '--yes']);
    expect(again.code).toBe(1);
  });

  it('every change was audited with the operator as agent; the tenant audit rows stay', async () => {
    const rows = await world.registryDb.exec<Record<string, unknown>[]>(
      "SELECT client_id, event FROM fhirgate_audit_events WHERE kind = 'admin' ORDER BY id",
    );
    const actions = rows.map((row) => {
      const event = JSON.parse(String(row['event'])) as {
        subtype: Array<{ code: string }>;
        outcome: string;
        entity: Array<{ what: { identifier?: { value: string } } }>;
        agent: Array<{ who: { display?: string } }>;
      };
      return {
        action: event.subtype[0]?.code,
        outcome: event.outcome,
        target: event.entity[0]?.what.identifier?.value,
        operator: event.agent[0]?.who.display?.startsWith('operator ') ?? false,
      };
    });
    const forClinic = actions.filter((a) => a.target === CLIENT && a.operator);
    expect(forClinic.map((a) => `${a.action}:${a.outcome}`)).toEqual([
      'tenantAdd:0',
      'activateTenantMapping:4',
      'activateTenantMapping:0',
      'activateTenantMapping:0',
      'rollbackTenantMapping:0',
      'tenantUpdate:8',
      'tenantUpdate:0',
      'tenantRemove:0',
      'tenantRemove:4',
    ]);
    // The tenant's own request audit rows (its reads) are still there after the removal.
    const reads = await world.registryDb.exec<Record<string, unknown>[]>(
      "SELECT COUNT(*) AS n FROM fhirgate_audit_events WHERE client_id = ? AND kind IN ('read', 'search')",
      [CLIENT],
    );
    expect(Number(reads[0]?.['n'])).toBeGreaterThan(0);
  });
});
