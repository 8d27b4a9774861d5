/**
 * The scenarios' statements and answers: the SQL the engine sends for S1-S3 (recorded from the
 * compiled mappings, which the baseline then sends itself), and the check that both servers
 * answer every scenario alike before anything is measured.
 */
import { isDeepStrictEqual } from 'node:util';
import { MYSQL_DIALECT, type QueryExecutor, type SqlStatement } from '../src/db/dialect.js';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { compileMapping } from '../src/mapping/compile-mapping.js';
import type { ServerChild } from './children.js';
import { BENCH_MAPPING, S3_MAPPING } from './fixtures.js';

export async function post(
  url: string,
  token: string,
  body: Record<string, unknown>,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** The statements the engine sends for S1 and S2, recorded from the compiled mapping. */
export async function captureStatements(): Promise<{ s1: SqlStatement; s2: SqlStatement }> {
  const compiled = compileMapping(BENCH_MAPPING, {
    defs: loadDefinitions(),
    dialect: MYSQL_DIALECT,
  });
  if (!compiled.ok) {
    throw new Error(`bench mapping does not compile: ${JSON.stringify(compiled.problems)}`);
  }
  const patient = compiled.mapping.resource('Patient');
  if (patient === undefined) {
    throw new Error('bench mapping has no Patient');
  }
  const seen: SqlStatement[] = [];
  const recorder: QueryExecutor = {
    dialect: MYSQL_DIALECT,
    query: async (statement) => {
      seen.push(statement);
      return [];
    },
  };
  await patient.loadByIds(recorder, ['1']);
  await patient.search(recorder, [], { count: 50, offset: 0 });
  const [s1, s2] = seen;
  if (seen.length !== 2 || s1 === undefined || s2 === undefined) {
    throw new Error(`expected 2 statements from the engine, got ${seen.length}`);
  }
  // The id is the last parameter of the read; the baseline appends its own.
  return { s1: { sql: s1.sql, params: s1.params.slice(0, -1) }, s2 };
}

/** The statements of S3's batched baseline, captured from the engine; or why there are none. */
export interface S3Plan {
  readonly patients: SqlStatement;
  /** The reverse-reference batch; `targetSlots` are the positions of the 20 patient ids. */
  readonly observations: SqlStatement & { readonly targetSlots: number[] };
}

/**
 * S3's statements as the engine writes them: the page of 20 patients and the batch of each one's
 * 10 latest observations (captured with sentinel ids, whose parameter positions the baseline
 * fills). A string says why S3 cannot run: the engine's problems with the S3 mapping, or a
 * missing reverse-reference search.
 */
export async function captureS3Statements(): Promise<S3Plan | string> {
  const compiled = compileMapping(S3_MAPPING, { defs: loadDefinitions(), dialect: MYSQL_DIALECT });
  if (!compiled.ok) {
    const problems = compiled.problems
      .slice(0, 3)
      .map((p) => `${p.resource ?? ''} ${p.path ?? ''}: ${p.message}`.trim())
      .join('; ');
    return `needs \`reference\` element sources and reverse-reference search in the mapping engine; it rejects the S3 mapping (${compiled.problems.length} problems, e.g. ${problems})`;
  }
  const patient = compiled.mapping.resource('Patient');
  const observation = compiled.mapping.resource('Observation') as unknown as
    | (Record<string, unknown> & {
        searchByReference?: (exec: QueryExecutor, request: unknown) => Promise<unknown>;
      })
    | undefined;
  if (patient === undefined || typeof observation?.searchByReference !== 'function') {
    return 'needs reverse-reference search (`searchByReference`) in the mapping engine';
  }
  const seen: SqlStatement[] = [];
  const recorder: QueryExecutor = {
    dialect: MYSQL_DIALECT,
    query: async (statement) => {
      seen.push(statement);
      return [];
    },
  };
  const sentinels = Array.from({ length: 20 }, (_, i) => String(900_001 + i));
  await patient.search(recorder, [], { count: 20, offset: 0 });
  await observation.searchByReference(recorder, {
    code: 'subject',
    targetIds: sentinels,
    query: [],
    countPerTarget: 10,
    sort: [{ code: 'date', descending: true }],
  });
  const [patients, observations] = seen;
  if (seen.length !== 2 || patients === undefined || observations === undefined) {
    return `the engine sent ${seen.length} statements for S3's two levels; expected 2`;
  }
  const targetSlots = sentinels.map((id) => observations.params.findIndex((p) => String(p) === id));
  if (targetSlots.some((slot) => slot < 0)) {
    return 'the reverse-reference statement does not bind each target id once';
  }
  return { patients, observations: { ...observations, targetSlots } };
}

/** Same answers from both servers, or the comparison means nothing. */
export async function assertSameAnswers(
  gateway: ServerChild,
  baseline: ServerChild,
  token: string,
  bodies: ReadonlyArray<Record<string, unknown>>,
): Promise<void> {
  for (const body of bodies) {
    const [g, b] = await Promise.all([
      post(gateway.baseUrl, token, body),
      post(baseline.baseUrl, token, body),
    ]);
    if (g.status !== 200 || !isDeepStrictEqual(g.json, b.json)) {
      throw new Error(
        `gateway and baseline disagree on ${JSON.stringify(body['variables'] ?? String(body['query']).slice(0, 12))}:\n` +
          `gateway  ${g.status} ${JSON.stringify(g.json).slice(0, 600)}\n` +
          `baseline ${b.status} ${JSON.stringify(b.json).slice(0, 600)}`,
      );
    }
  }
}
