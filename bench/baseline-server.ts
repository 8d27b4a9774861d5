/**
 * The physical floor the gateway is measured against: `node:http`, the same jose JWT checks
 * against the same JWKS URL, mysql2 prepared statements with the gateway's SQL text and
 * connection options, and the GraphQL response body written by hand. No GraphQL, no mapping
 * engine, no registry. Started by `bench/run.ts` as a child process; settings come by env:
 *
 * - `PORT`, `HOST`: where to listen;
 * - `BENCH_DB`: JSON `{ host, port, user, password, database }` of the tenant database;
 * - `BENCH_OIDC_ISSUER`, `BENCH_JWKS_URL`: the realm the tokens come from;
 * - `BENCH_SQL`: JSON `{ s1: { sql, params }, s2: { sql, params } }`, the statements the gateway
 *   sends (captured from the compiled mapping by `run.ts`); `s1.params` holds the filter
 *   parameters before the id;
 * - `BENCH_AUDIT_URL` (`--baseline-audit`, optional): the audit database; see `trail` below.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parse } from 'graphql';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import mysql from 'mysql2/promise';
import { type AuditTrail, createAuditTrail } from '../src/audit/audit-trail.js';
import { maskedOperation } from '../src/audit/masked-operation.js';
import { createSqlAuditStore } from '../src/audit/sql-audit-store.js';
import type { FhirRole, Principal } from '../src/auth/principal.js';
import { createLogger } from '../src/logger.js';
import { parseDatabaseUrl } from '../src/tenancy/database-url.js';

interface Statement {
  readonly sql: string;
  readonly params: Array<string | number>;
}

/** A statement whose `params[i]` for each i in `targetSlots` is replaced by the i-th target id. */
interface BatchStatement extends Statement {
  readonly targetSlots: number[];
}

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`baseline-server: ${name} is not set`);
  }
  return value;
}

const db = JSON.parse(env('BENCH_DB')) as {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
};
const statements = JSON.parse(env('BENCH_SQL')) as {
  s1: Statement;
  s2: Statement;
  s3?: { patients: Statement; observations: BatchStatement };
};
const issuer = env('BENCH_OIDC_ISSUER');
const jwks = createRemoteJWKSet(new URL(env('BENCH_JWKS_URL')), {
  timeoutDuration: 5000,
  cooldownDuration: 30_000,
  cacheMaxAge: 600_000,
});

// The gateway's per-tenant pool: 10 connections, the same session options.
const pool = mysql.createPool({
  ...db,
  connectionLimit: 10,
  queueLimit: 20,
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  multipleStatements: false,
  maxPreparedStatements: 256,
  charset: 'UTF8MB4_UNICODE_CI',
});

type Row = Record<string, unknown>;

/** The verifier's checks, in the same order: signature and claims, typ, tenant claim, role. */
async function authorize(header: string | undefined): Promise<Principal | undefined> {
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header ?? '');
  if (match?.[1] === undefined) {
    return undefined;
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(match[1], jwks, {
      issuer,
      audience: 'fhir-gateway',
      algorithms: ['RS256'],
      clockTolerance: 30,
      maxTokenAge: '15m',
      requiredClaims: ['sub', 'azp', 'iat', 'exp'],
    }));
  } catch {
    return undefined;
  }
  const clientId = payload['client_id'];
  if (typeof clientId !== 'string' || clientId !== payload['azp'] || payload['typ'] !== 'Bearer') {
    return undefined;
  }
  const access = payload['resource_access'] as Record<string, { roles?: unknown }> | undefined;
  const roles = access?.[clientId]?.roles;
  if (!Array.isArray(roles) || !roles.includes('fhir-read')) {
    return undefined;
  }
  return {
    issuer,
    subject: String(payload.sub),
    clientId,
    roles: new Set<FhirRole>(['fhir-read']),
    ...(typeof payload.jti === 'string' ? { tokenId: payload.jti } : {}),
    expiresAt: Number(payload.exp),
  };
}

/**
 * `BENCH_AUDIT_URL` (an experiment, `--baseline-audit`): the baseline also writes the gateway's
 * AuditEvent for each answer through the gateway's own audit trail and store, durable before
 * the answer, as the gateway does. What is left between the two is then everything but audit.
 */
const auditUrl = process.env['BENCH_AUDIT_URL'];
const trail: AuditTrail | undefined =
  auditUrl === undefined || auditUrl === ''
    ? undefined
    : createAuditTrail({
        store: createSqlAuditStore(parseDatabaseUrl(auditUrl)),
        log: createLogger({ level: 'warn' }),
      });
const maskedQueries = new Map<string, string>();

function masked(query: string): string {
  let text = maskedQueries.get(query);
  if (text === undefined) {
    text = maskedOperation(parse(query));
    maskedQueries.set(query, text);
  }
  return text;
}

const text = (v: unknown): string | null => {
  if (v === null || v === undefined) {
    return null;
  }
  const s = String(v).trim();
  return s === '' ? null : s;
};

const GENDER: Record<string, string> = { M: 'male', F: 'female' };

/** `name { family given }` of the hospital-A mapping, by hand. */
function name(row: Row): Array<{ family: string | null; given: string[] | null }> | null {
  const family = text(row['ap_pat_pac']);
  const given = text(row['nom_pac']);
  if (family === null && given === null && text(row['ap_mat_pac']) === null) {
    return null;
  }
  return [{ family, given: given === null ? null : [given] }];
}

function birthDate(row: Row): string | null {
  const v = text(row['fec_nac_pac']);
  return v !== null && /^\d{4}-\d{2}-\d{2}$/.test(v) && !v.startsWith('0000') ? v : null;
}

function s1Patient(row: Row): Record<string, unknown> {
  const sex = text(row['sexo_pac']);
  return {
    id: String(row['id_paciente']),
    name: name(row),
    birthDate: birthDate(row),
    gender: sex === null ? null : (GENDER[sex] ?? 'unknown'),
  };
}

function s2Patient(row: Row): Record<string, unknown> {
  return { id: String(row['id_paciente']), name: name(row), birthDate: birthDate(row) };
}

/** `YYYY-MM-DD hh:mm:ss` local time -> FHIR dateTime with the mapping's -03:00 offset. */
function dateTime(v: unknown): string | null {
  const s = text(v);
  if (s === null) {
    return null;
  }
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(s);
  return m === null ? null : `${m[1]}T${m[2]}-03:00`;
}

/** S3 by hand: the patient page, then one batch for the 10 latest observations of each. */
async function s3(): Promise<unknown> {
  const plan = statements.s3;
  if (plan === undefined) {
    return { errors: [{ message: 'S3 not configured' }] };
  }
  const patients = await execute(plan.patients);
  const ids = patients.map((p) => Number(p['id_paciente']));
  const params = [...plan.observations.params];
  plan.observations.targetSlots.forEach((slot, i) => {
    params[slot] = ids[i] ?? -1;
  });
  const [rows] = await pool.execute(plan.observations.sql, params);
  const byPatient = new Map<string, Row[]>();
  for (const row of rows as Row[]) {
    const key = String(row['id_paciente']);
    const list = byPatient.get(key) ?? [];
    list.push(row);
    byPatient.set(key, list);
  }
  const patientById = new Map(patients.map((p) => [String(p['id_paciente']), p]));
  return {
    data: {
      PatientList: patients.map((p) => {
        const id = String(p['id_paciente']);
        return {
          id,
          ObservationList: (byPatient.get(id) ?? []).map((o) => {
            const subject = patientById.get(String(o['id_paciente']));
            const value = text(o['valor']);
            return {
              id: String(o['id']),
              effectiveDateTime: dateTime(o['fecha']),
              code: { coding: [{ code: text(o['codigo_loinc']) }] },
              valueQuantity: {
                value: value === null ? null : Number(value),
                unit: text(o['unidad']),
              },
              subject: {
                reference: `Patient/${String(o['id_paciente'])}`,
                resource:
                  subject === undefined
                    ? null
                    : { id: String(subject['id_paciente']), birthDate: birthDate(subject) },
              },
            };
          }),
        };
      }),
    },
  };
}

async function execute(statement: Statement, extra: Array<string | number> = []): Promise<Row[]> {
  const [rows] = await pool.execute(statement.sql, [...statement.params, ...extra]);
  return rows as Row[];
}

async function graphql(body: string): Promise<unknown> {
  const request = JSON.parse(body) as {
    operationName?: string;
    query?: string;
    variables?: Record<string, unknown>;
  };
  const op = request.operationName ?? /^query (\w+)/.exec(request.query ?? '')?.[1];
  if (op === 'S1') {
    const id = String(request.variables?.['id'] ?? '');
    // The integer id rule of the mapping: a non-canonical integer finds nothing without SQL.
    if (!/^(0|[1-9][0-9]{0,14})$/.test(id)) {
      return { data: { Patient: null } };
    }
    const rows = await execute(statements.s1, [Number(id)]);
    const row = rows.find((r) => String(r['id_paciente']) === id);
    return { data: { Patient: row === undefined ? null : s1Patient(row) } };
  }
  if (op === 'S2') {
    const rows = await execute(statements.s2);
    return { data: { PatientList: rows.map(s2Patient) } };
  }
  if (op === 'S3') {
    return s3();
  }
  return { errors: [{ message: 'unknown operation' }] };
}

/** The resources an answer holds, as the gateway notes them: `Patient/1`, `Observation/9`... */
function referencesOf(answer: unknown): string[] {
  const data = (answer as { data?: Record<string, unknown> }).data ?? {};
  const references: string[] = [];
  const patients = data['PatientList'] ?? (data['Patient'] === null ? [] : [data['Patient']]);
  for (const p of patients as Array<{ id: string; ObservationList?: Array<{ id: string }> }>) {
    references.push(`Patient/${p.id}`);
    for (const o of p.ObservationList ?? []) {
      references.push(`Observation/${o.id}`, `Patient/${p.id}`);
    }
  }
  return references;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET' && req.url === '/healthz') {
    send(res, 200, '{"status":"ok"}');
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(chunk as Buffer);
  }
  if (req.method !== 'POST' || req.url !== '/graphql') {
    send(res, 404, '{}');
    return;
  }
  const principal = await authorize(req.headers.authorization);
  if (principal === undefined) {
    send(res, 401, '{"errors":[{"message":"unauthenticated"}]}');
    return;
  }
  const body = Buffer.concat(chunks).toString('utf8');
  const answer = await graphql(body);
  if (trail !== undefined) {
    const request = JSON.parse(body) as { query: string; operationName?: string };
    const search = !/^query S1\b/.test(request.query);
    await trail.phiRead({
      principal,
      requestId: randomUUID(),
      search,
      ...(search ? { query: masked(request.query) } : {}),
      source: req.socket.remoteAddress ?? '',
      references: referencesOf(answer),
      outcome: '0',
    });
  }
  send(res, 200, JSON.stringify(answer));
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => {
    if (!res.headersSent) {
      send(res, 500, '{"errors":[{"message":"internal"}]}');
    }
  });
});
server.listen(Number(env('PORT')), process.env['HOST'] ?? '127.0.0.1');

const stop = () => {
  server.close();
  server.closeIdleConnections();
  pool.end().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
