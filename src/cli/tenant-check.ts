/**
 * What the CLI does with a tenant's live database before it changes the registry: reach it, and
 * hold a mapping document against its catalogue (the checker activation runs).
 */
import { DatabaseError, type TenantDatabase } from '../db/tenant-database.js';
import { loadDefinitions } from '../fhir/definitions.js';
import { checkMapping } from '../mapping/check-mapping.js';
import { isBlocking } from '../mapping/mapping-problem.js';
import type { DatabaseTarget } from '../tenancy/database-url.js';
import { publishReloadOnce } from '../tenancy/reload-bus.js';
import { CliFailure, type RegistrySession } from './cli-support.js';
import type { CliIo } from './main.js';
import { formatProblem, openCheckDatabase } from './mapping-support.js';

function databaseFailure(err: DatabaseError): CliFailure {
  // Our messages are fixed text (a TLS failure names which check failed); the driver code helps.
  const driver = err.driverCode === undefined ? '' : ` (${err.driverCode})`;
  return new CliFailure(`the tenant database failed: ${err.message}${driver}.`);
}

/**
 * Connects to the tenant's database and, with a `document`, checks it there. Problems are
 * printed, then a CliFailure (exit 1) says `consequence`; an unreachable database is exit 2.
 */
export async function checkTenantDatabase(
  target: DatabaseTarget,
  document: unknown,
  io: CliIo,
  consequence: string,
): Promise<void> {
  let database: TenantDatabase | undefined;
  try {
    database = openCheckDatabase(target);
    await database.query({ sql: 'SELECT 1 AS ok', params: [] });
    if (document === undefined) {
      return;
    }
    const result = await checkMapping(document, { defs: loadDefinitions(), database });
    for (const problem of result.problems) {
      io.out(`${formatProblem(problem)}\n`);
    }
    if (!result.ok) {
      // Warnings are printed but do not block (checker severities).
      const n = result.problems.filter(isBlocking).length;
      throw new CliFailure(`the mapping has ${n} problem${n === 1 ? '' : 's'}; ${consequence}.`, 1);
    }
  } catch (err) {
    if (err instanceof DatabaseError) {
      throw databaseFailure(err);
    }
    throw err;
  } finally {
    await database?.close();
  }
}

/** Tells running gateways to reload `clientId`; returns how they learn of it, for the output. */
export async function announceChange(
  config: RegistrySession['config'],
  clientId: string,
): Promise<{ readonly published: boolean; readonly when: string }> {
  if (config.redisUrl === undefined) {
    return {
      published: false,
      when: 'running gateways apply it within FHIRGATE_CONFIG_TTL_MS (REDIS_URL is not set)',
    };
  }
  const published = await publishReloadOnce(config.redisUrl, config.reloadChannel, clientId);
  return {
    published,
    when: published
      ? 'running gateways were told through Redis'
      : 'Redis could not be reached: running gateways apply it within FHIRGATE_CONFIG_TTL_MS',
  };
}
