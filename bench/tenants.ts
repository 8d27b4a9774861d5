/**
 * Many small tenant databases for S4, created and dropped quickly: one schema per tenant, a few
 * rows each, several tenants per round trip (multi-statement), over a few admin connections in
 * parallel.
 */
import { randomBytes } from 'node:crypto';
import mysql, { type Connection } from 'mysql2/promise';
import { connectionOptions, type MysqlServer } from '../test/helpers/test-database.js';
import { PATIENT_DDL, patientRow, prng } from './fixtures.js';

/** Patients in each small tenant. */
export const SMALL_TENANT_PATIENTS = 5;
/** Tenants per multi-statement round trip. */
const TENANTS_PER_BATCH = 10;

export interface SmallTenants {
  /** `fgb4_<8 hex>_<i>` for i in 0..count-1. */
  readonly names: readonly string[];
  /** `mysql://user:pass@host:port/<name>`, the URL the registry seals. */
  url(name: string): string;
  /** Drops every database created so far (also the ones of a half-finished `create`). */
  drop(): Promise<void>;
}

async function inParallel<T>(
  items: readonly T[],
  workers: number,
  work: (item: T, worker: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item, worker);
      }
    }),
  );
}

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

export async function createSmallTenants(
  server: MysqlServer,
  count: number,
  onCreated: (tenants: SmallTenants) => void,
  parallel = 4,
): Promise<SmallTenants> {
  const prefix = `fgb4_${randomBytes(4).toString('hex')}`;
  const names = Array.from({ length: count }, (_, i) => `${prefix}_${i}`);
  const created = new Set<string>();
  const open = async () => mysql.createConnection(connectionOptions(server));

  const tenants: SmallTenants = {
    names,
    url: (name) =>
      `mysql://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@${server.host}:${server.port}/${name}`,
    async drop() {
      const doomed = [...created];
      const conns = await Promise.all(Array.from({ length: parallel }, open));
      try {
        await inParallel(batches(doomed, TENANTS_PER_BATCH), parallel, async (batch, w) => {
          await (conns[w] as Connection).query(
            batch.map((n) => `DROP DATABASE IF EXISTS \`${n}\``).join(';'),
          );
          for (const n of batch) {
            created.delete(n);
          }
        });
      } finally {
        await Promise.allSettled(conns.map((c) => c.end()));
      }
    },
  };
  onCreated(tenants);

  const next = prng(7);
  const rows = Array.from({ length: SMALL_TENANT_PATIENTS }, (_, i) => patientRow(i + 1, next));
  const conns = await Promise.all(Array.from({ length: parallel }, open));
  try {
    await inParallel(batches(names, TENANTS_PER_BATCH), parallel, async (batch, w) => {
      for (const n of batch) {
        created.add(n);
      }
      const sql = batch
        .map((n) =>
          [
            `CREATE DATABASE \`${n}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
            `USE \`${n}\``,
            PATIENT_DDL,
            mysql.format(
              'INSERT INTO pacientes (id_paciente, rut_pac, nom_pac, ap_pat_pac, ap_mat_pac, fec_nac_pac, sexo_pac, voided) VALUES ?',
              [rows] as unknown as Parameters<typeof mysql.format>[1],
            ),
          ].join(';'),
        )
        .join(';');
      await (conns[w] as Connection).query(sql);
    });
  } finally {
    await Promise.allSettled(conns.map((c) => c.end()));
  }
  return tenants;
}
