import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import Database from 'better-sqlite3';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminActionEvent,
  deniedAccessEvent,
  phiReadEvent,
  phiReadEventJson,
} from '../../../src/audit/audit-event.js';
import { AuditUnavailableError, createAuditTrail } from '../../../src/audit/audit-trail.js';
import { noteRead } from '../../../src/audit/reads.js';
import { createSqlAuditStore, type SqlAuditStore } from '../../../src/audit/sql-audit-store.js';
import { operationSearches } from '../../../src/audit/use-audit.js';
import type { Principal } from '../../../src/auth/principal.js';
import { createLogger } from '../../../src/logger.js';
import { loadR4Definitions, validateR4 } from '../conformance/r4-validator.js';

const principal: Principal = {
  issuer: 'https://sso.example.org/realms/hospitals',
  subject: 'user-42',
  clientId: 'hospital-a',
  roles: new Set(['fhir-read']),
  tokenId: 'jti-1',
  expiresAt: 2_000_000_000,
};
const log = createLogger({ level: 'silent' });

let dir: string;
let path: string;

beforeAll(() => {
  loadR4Definitions();
  dir = mkdtempSync(join(tmpdir(), 'fhirgate-audit-'));
  path = join(dir, 'audit.db');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function issuesOf(resource: unknown): string[] {
  return validateR4(resource as Resource).map((i) => `${i.path}: ${i.message}`);
}

describe('AuditEvent resources (IHE BALP shape)', () => {
  it('a read by id is a valid R4 AuditEvent with the BALP PatientRead elements', () => {
    const event = phiReadEvent({
      principal,
      requestId: 'req-1',
      sourceId: 'fhirgate',
      search: false,
      references: ['Patient/1', 'Patient/1'],
      outcome: '0',
    });
    expect(issuesOf(event)).toEqual([]);
    expect(event.type.code).toBe('rest');
    expect(event.subtype).toEqual([expect.objectContaining({ code: 'read' })]);
    expect(event.action).toBe('R');
    expect(event.outcome).toBe('0');
    expect(event.agent[0]?.who.identifier).toEqual({ system: principal.issuer, value: 'user-42' });
    expect(event.agent[0]?.requestor).toBe(true);
    expect(event.agent[0]?.policy).toEqual(['jti-1']);
    expect(event.agent[1]?.who.identifier?.value).toBe('hospital-a');
    // Duplicates collapse; the request id is an entity of its own.
    expect(event.entity?.map((e) => e.what.reference ?? e.what.identifier?.value)).toEqual([
      'Patient/1',
      'req-1',
    ]);
    expect(event.entity?.[0]?.role?.code).toBe('1');
    expect(event.meta?.profile[0]).toMatch(/IHE\.BasicAudit\.PatientRead$/);
  });

  it('a search names each patient and the masked query, not the other resources (BALP PatientQuery)', () => {
    const event = phiReadEvent({
      principal,
      requestId: 'req-2',
      correlationId: 'client-7',
      sourceId: 'fhirgate',
      search: true,
      references: ['Patient/1', 'Patient/2', 'Observation/7', 'Patient/1'],
      outcome: '4',
      errorCodes: ['BAD_USER_INPUT'],
      query: '{ ObservationList(code: $_) { id } }',
    });
    expect(issuesOf(event)).toEqual([]);
    expect(event.action).toBe('E');
    expect(event.subtype?.[0]?.code).toBe('search-type');
    expect(event.outcomeDesc).toBe('BAD_USER_INPUT');
    const roles = event.entity?.map((e) => [e.what.reference, e.role?.code]);
    expect(roles).toEqual([
      ['Patient/1', '1'],
      ['Patient/2', '1'],
      [undefined, '24'],
      [undefined, undefined],
    ]);
    expect(Buffer.from(event.entity?.[2]?.query ?? '', 'base64').toString()).toBe(
      '{ ObservationList(code: $_) { id } }',
    );
    expect(event.entity?.[3]?.detail).toEqual([{ type: 'correlationId', valueString: 'client-7' }]);
  });

  it('stays bounded: a search of 30,000 resources over 300 patients names 300; a read lists 100 others and counts the rest', () => {
    const references: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      references.push(`Observation/${i}`, `Patient/${i % 300}`);
    }
    const input = {
      principal,
      requestId: 'r',
      sourceId: 'fhirgate',
      references,
      outcome: '0' as const,
    };
    const search = phiReadEventJson({ ...input, search: true, query: '{ x }' });
    expect(JSON.parse(search.json).entity).toHaveLength(300 + 2);
    expect(search.json.length).toBeLessThan(100_000);
    const read = JSON.parse(phiReadEventJson({ ...input, search: false }).json);
    expect(read.entity).toHaveLength(300 + 100 + 1);
    expect(read.entity.at(-1).detail).toEqual([
      { type: 'resourcesNotListed', valueString: String(30_000 - 100) },
    ]);
  });

  it('phiReadEventJson writes exactly the text of JSON.stringify(phiReadEvent(...))', () => {
    const now = new Date('2026-11-26T10:00:00.123Z');
    const odd: Principal = {
      ...principal,
      subject: 'user "quoted" \\ \u2028 é',
      clientId: 'c'.repeat(300),
      tokenId: undefined,
    };
    const inputs = [
      { principal, search: false, references: ['Patient/1', 'Patient/1'], outcome: '0' as const },
      {
        principal,
        search: true,
        references: ['Patient/1', 'Observation/7', 'Patient/2', 'Observation/7'],
        outcome: '4' as const,
        errorCodes: ['BAD_USER_INPUT', 'BAD_USER_INPUT', 'FORBIDDEN'],
      },
      { principal: odd, search: true, references: ['Observation/"x"'], outcome: '0' as const },
      { principal: odd, search: false, references: [], outcome: '0' as const, errorCodes: [] },
      {
        principal,
        search: true,
        references: ['Patient/1', 'Observation/2'],
        outcome: '0' as const,
        query: '{ PatientList(family: $_) { id } }',
        correlationId: 'corr-"1"',
      },
      {
        principal,
        search: false,
        references: Array.from({ length: 150 }, (_, i) => `Observation/${i}`),
        outcome: '0' as const,
      },
      // One principal from two addresses: each event names its own (agent.network).
      {
        principal,
        search: false,
        references: ['Patient/1'],
        outcome: '0' as const,
        source: '10.1.2.3',
      },
      {
        principal,
        search: true,
        references: ['Patient/1'],
        outcome: '0' as const,
        source: '2001:db8::7',
      },
    ];
    for (const input of inputs) {
      const full = { ...input, requestId: 'req-"j"', sourceId: 'fhirgate', now };
      const fast = phiReadEventJson(full);
      const event = JSON.parse(fast.json) as { id: string };
      expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
      const slow = JSON.stringify({ ...phiReadEvent(full), id: event.id });
      expect(fast.json).toBe(slow);
      expect(fast.recorded).toBe(now.toISOString());
      expect(issuesOf(event)).toEqual([]);
      const network = (event as unknown as { agent: Array<{ network?: unknown }> }).agent[0]
        ?.network;
      expect(network).toEqual('source' in input ? { address: input.source, type: '2' } : undefined);
    }
  });

  it('a denial without a verified token names no user and keeps only the reason code', () => {
    const event = deniedAccessEvent({
      requestId: 'req-3',
      sourceId: 'fhirgate',
      code: 'UNAUTHENTICATED',
      reason: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
    expect(issuesOf(event)).toEqual([]);
    expect(event.outcome).toBe('4');
    expect(event.outcomeDesc).toBe('UNAUTHENTICATED ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    expect(event.agent).toHaveLength(1);
    expect(event.agent[0]?.who.identifier).toBeUndefined();
  });

  it('an admin action names the actor, the action and the tenants, and is a valid AuditEvent', () => {
    const event = adminActionEvent({
      requestId: 'req-4',
      sourceId: 'fhirgate',
      admin: {
        principal,
        action: 'reloadTenantConfig',
        target: 'hospital-a',
        outcome: 'refused',
        code: 'FORBIDDEN',
        detail: { dryRun: false },
        requestId: 'req-4',
      },
    });
    expect(issuesOf(event)).toEqual([]);
    expect(event.outcome).toBe('4');
    expect(event.subtype?.[0]?.code).toBe('reloadTenantConfig');
    expect(event.entity?.[0]?.what.identifier?.value).toBe('hospital-a');
    expect(() =>
      adminActionEvent({
        requestId: 'r',
        sourceId: 'fhirgate',
        admin: { ...{ principal, target: 'x', outcome: 'success', requestId: 'r' }, action: 'a b' },
      }),
    ).toThrow(TypeError);
  });
});

describe('noteRead and operationSearches', () => {
  it('pushes the reference and the patient a resource is about, nothing else', () => {
    const reads: string[] = [];
    noteRead(reads, 'Patient', { id: '5', name: [{ family: 'SECRET' }] });
    noteRead(reads, 'Observation', { id: '9', subject: { reference: 'Patient/5' } });
    noteRead(reads, 'AllergyIntolerance', { id: '3', patient: { reference: 'Patient/6' } });
    noteRead(reads, 'Encounter', { id: '2', subject: { reference: 'Group/1' } });
    noteRead(reads, 'Patient', null);
    expect(reads).toEqual([
      'Patient/5',
      'Observation/9',
      'Patient/5',
      'AllergyIntolerance/3',
      'Patient/6',
      'Encounter/2',
    ]);
  });

  it('tells searches from reads, through fragments and by operation name', () => {
    expect(operationSearches(parse('{ Patient(id: "1") { id } }'))).toBe(false);
    expect(operationSearches(parse('{ PatientList { id } }'))).toBe(true);
    expect(
      operationSearches(parse('{ ...F } fragment F on Query { ObservationConnection { offset } }')),
    ).toBe(true);
    const doc = parse('query A { Patient(id: "1") { id } } query B { PatientList { id } }');
    expect(operationSearches(doc, 'A')).toBe(false);
    expect(operationSearches(doc, 'B')).toBe(true);
  });
});

describe('the audit trail on a real SQLite store', () => {
  let store: SqlAuditStore;

  beforeAll(async () => {
    store = createSqlAuditStore({ kind: 'sqlite', path });
    await store.ensureTable();
  });

  afterAll(async () => {
    await store.close();
  });

  const read = (requestId: string) => ({
    principal,
    requestId,
    search: true,
    references: ['Patient/1', 'Patient/2'],
    outcome: '0' as const,
  });

  it('group commit: 50 events of one turn go in far fewer INSERTs than 50, all durable', async () => {
    const trail = createAuditTrail({ store, log, batchMax: 20 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => trail.phiRead(read(`gc-${i}`))));
    const stats = trail.stats();
    expect(stats.written).toBe(50);
    expect(stats.batches).toBe(3); // 20 + 20 + 10
    expect(stats.largestBatch).toBe(20);
    const rows = await store.readEvents();
    expect(rows.filter((r) => r.requestId.startsWith('gc-'))).toHaveLength(50);
    expect(issuesOf(rows[0]?.event)).toEqual([]);
  });

  /**
   * The real SQLite store behind a gate: each INSERT waits until the test opens its gate, so the
   * test decides the order in which batches commit.
   */
  function gatedStore() {
    const gates: Array<{ rows: number; open: () => void }> = [];
    const gated = {
      async insert(rows: Parameters<SqlAuditStore['insert']>[0]) {
        await new Promise<void>((open) => gates.push({ rows: rows.length, open }));
        await store.insert(rows);
      },
      close: async () => undefined,
    };
    const started = async (n: number) => {
      for (let i = 0; i < 100 && gates.length < n; i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(gates).toHaveLength(n);
    };
    return { gated, gates, started };
  }

  it('pipelining: an event that arrives while a batch commits goes out at once, in its own INSERT', async () => {
    const { gated, gates, started } = gatedStore();
    const trail = createAuditTrail({ store: gated, log, maxInFlight: 4 });
    const settled: string[] = [];
    const first = trail.phiRead(read('pl-1')).then(() => settled.push('pl-1'));
    await started(1);
    const second = trail.phiRead(read('pl-2')).then(() => settled.push('pl-2'));
    // The second INSERT starts while the first is still being written...
    await started(2);
    expect(trail.stats()).toMatchObject({ inFlight: 2, pending: 0 });
    // ...and its event is durable as soon as its own INSERT commits, not after the first one.
    gates[1]?.open();
    await second;
    expect(settled).toEqual(['pl-2']);
    gates[0]?.open();
    await first;
    expect(settled).toEqual(['pl-2', 'pl-1']);
    expect(trail.stats()).toMatchObject({ batches: 2, written: 2, peakInFlight: 2, inFlight: 0 });
    const rows = await store.readEvents();
    expect(rows.filter((r) => r.requestId.startsWith('pl-')).map((r) => r.requestId)).toEqual([
      'pl-2',
      'pl-1',
    ]);
  });

  it('at most maxInFlight INSERTs run; events arriving meanwhile gather into one batch', async () => {
    const { gated, gates, started } = gatedStore();
    const trail = createAuditTrail({ store: gated, log, maxInFlight: 2 });
    const a = trail.phiRead(read('mx-a'));
    await started(1);
    const b = trail.phiRead(read('mx-b'));
    await started(2);
    // Both slots are busy: these three wait, and then share one INSERT.
    const rest = ['mx-c', 'mx-d', 'mx-e'].map((id) => trail.phiRead(read(id)));
    await new Promise((r) => setTimeout(r, 30));
    expect(gates).toHaveLength(2);
    expect(trail.stats()).toMatchObject({ inFlight: 2, pending: 3 });
    gates[0]?.open();
    await a;
    await started(3);
    expect(gates[2]?.rows).toBe(3);
    gates[1]?.open();
    gates[2]?.open();
    await Promise.all([b, ...rest]);
    expect(trail.stats()).toMatchObject({ batches: 3, written: 5, peakInFlight: 2 });
  });

  it('close waits for every in-flight INSERT and the queue, then refuses', async () => {
    const { gated, gates, started } = gatedStore();
    const trail = createAuditTrail({ store: gated, log, maxInFlight: 2 });
    const events = ['cl-1', 'cl-2', 'cl-3'].map((id, i) =>
      i === 0 ? trail.phiRead(read(id)) : Promise.resolve(),
    );
    await started(1);
    events[1] = trail.phiRead(read('cl-2'));
    await started(2);
    events[2] = trail.phiRead(read('cl-3'));
    let closed = false;
    const closing = trail.close().then(() => {
      closed = true;
    });
    await expect(trail.phiRead(read('cl-4'))).rejects.toBeInstanceOf(AuditUnavailableError);
    gates[1]?.open();
    await events[1];
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false);
    gates[0]?.open();
    await started(3);
    expect(closed).toBe(false);
    gates[2]?.open();
    await closing;
    expect(closed).toBe(true);
    await Promise.all(events);
    expect(trail.stats()).toMatchObject({ written: 3, inFlight: 0, pending: 0 });
  });

  it('a failed INSERT rejects only its own batch; another one in flight still commits', async () => {
    const gates: Array<() => void> = [];
    let calls = 0;
    const flaky = {
      async insert(rows: Parameters<SqlAuditStore['insert']>[0]) {
        const n = ++calls;
        await new Promise<void>((open) => gates.push(open));
        if (n === 1) {
          throw new Error('connection lost');
        }
        await store.insert(rows);
      },
      close: async () => undefined,
    };
    const trail = createAuditTrail({ store: flaky, log, maxInFlight: 4 });
    const lost = trail.phiRead(read('ff-1'));
    await new Promise((r) => setTimeout(r, 10));
    const kept = trail.phiRead(read('ff-2'));
    await new Promise((r) => setTimeout(r, 10));
    expect(trail.stats().inFlight).toBe(2);
    for (const open of gates) {
      open();
    }
    await expect(lost).rejects.toBeInstanceOf(AuditUnavailableError);
    await expect(kept).resolves.toBeUndefined();
    expect(trail.stats()).toMatchObject({ failedBatches: 1, dropped: 1, written: 1 });
  });

  it('a full backlog refuses at once with AuditUnavailableError', async () => {
    const trail = createAuditTrail({ store, log, backlog: 5 });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => trail.phiRead(read(`bl-${i}`))),
    );
    const refused = results.filter(
      (r) => r.status === 'rejected' && r.reason instanceof AuditUnavailableError,
    );
    expect(refused).toHaveLength(3);
    expect(trail.stats().written).toBe(5);
  });

  it('denials (a flood of bad tokens) never take more than half the backlog', async () => {
    const trail = createAuditTrail({ store, log, backlog: 10 });
    for (let i = 0; i < 30; i++) {
      trail.denied({ code: 'UNAUTHENTICATED', reason: 'missing-token', requestId: `flood-${i}` });
    }
    // Half the backlog is still free for PHI reads, which must wait for their write.
    const reads = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => trail.phiRead(read(`after-flood-${i}`))),
    );
    expect(reads.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(trail.stats().droppedDenials).toBe(25);
    expect(trail.stats().written).toBe(10);
  });

  it('a failed INSERT rejects every event of its batch, and the trail recovers', async () => {
    const trail = createAuditTrail({ store, log });
    const admin = new Database(path);
    admin.exec('ALTER TABLE fhirgate_audit_events RENAME TO audit_away');
    const failed = await Promise.allSettled([
      trail.phiRead(read('f-1')),
      trail.phiRead(read('f-2')),
    ]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(trail.stats()).toMatchObject({ failedBatches: 1, dropped: 2 });
    admin.exec('ALTER TABLE audit_away RENAME TO fhirgate_audit_events');
    admin.close();
    await expect(trail.phiRead(read('f-3'))).resolves.toBeUndefined();
    await trail.close();
    await expect(trail.phiRead(read('f-4'))).rejects.toBeInstanceOf(AuditUnavailableError);
  });
});
