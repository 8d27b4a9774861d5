/**
 * `tenant show --gateway`: one gateway replica's view of a tenant, from the `tenantStatus` admin
 * field. Prints codes, counts and states only; the token is read from a file (not the process
 * list) and never printed.
 */
import { readFile } from 'node:fs/promises';
import { CliFailure, errnoOf } from './cli-support.js';

const STATUS_QUERY = `query Status($c: String!) { tenantStatus(clientId: $c) {
  status mappingVersion activeMappingVersion poolSize connectionsInUse idleConnections queueLength
  poolLimit breakerState lastErrorCode lastErrorAt } }`;

interface Status {
  status: string;
  mappingVersion: number | null;
  activeMappingVersion: number | null;
  poolSize: number;
  connectionsInUse: number;
  idleConnections: number;
  queueLength: number;
  poolLimit: number;
  breakerState: string;
  lastErrorCode: string | null;
  lastErrorAt: string | null;
}

/** Labelled lines for `tenant show`; a CliFailure (exit 2) when the replica cannot answer. */
export async function replicaStatus(
  gateway: string,
  tokenFile: string,
  clientId: string,
): Promise<Array<[string, string]>> {
  let url: URL;
  try {
    url = new URL(gateway);
  } catch {
    throw new CliFailure('--gateway is not a URL (http(s)://host:port/graphql).');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliFailure('--gateway must be an http:// or https:// URL.');
  }
  let token: string;
  try {
    token = (await readFile(tokenFile, 'utf8')).trim();
  } catch (err) {
    throw new CliFailure(`cannot read the token file (${errnoOf(err)}).`);
  }
  let body: {
    data?: { tenantStatus?: Status };
    errors?: Array<{ extensions?: { code?: string } }>;
  };
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query: STATUS_QUERY, variables: { c: clientId } }),
      signal: AbortSignal.timeout(10_000),
    });
    body = (await response.json()) as typeof body;
  } catch (err) {
    throw new CliFailure(
      `the gateway did not answer (${err instanceof Error ? err.name : 'error'}).`,
    );
  }
  const status = body.data?.tenantStatus;
  if (status === undefined || status === null) {
    const code = body.errors?.[0]?.extensions?.code ?? 'no answer';
    throw new CliFailure(`the gateway refused tenantStatus (${String(code).slice(0, 40)}).`);
  }
  return [
    ['replica status', status.status],
    ['served mapping', status.mappingVersion === null ? 'none' : `v${status.mappingVersion}`],
    [
      'pool',
      `${status.poolSize} open / ${status.poolLimit} max, ${status.connectionsInUse} in use, ${status.idleConnections} idle, ${status.queueLength} queued`,
    ],
    ['breaker', status.breakerState],
    [
      'last error',
      status.lastErrorCode === null ? 'none' : `${status.lastErrorCode} at ${status.lastErrorAt}`,
    ],
  ];
}
