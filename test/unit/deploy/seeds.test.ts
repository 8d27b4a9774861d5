/**
 * The hospital seed scripts compose mounts (`deploy/hospital-*\/01-schema-and-rows.sql`) are
 * rendered from the embedded demo's hospitals; a checked-in file that drifts from
 * `src/demo/hospital-*.ts` fails here. (`test/integration/examples.int.test.ts` loads the same
 * files into MariaDB and compares the answers with the demo's.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mariadbDdl, renderSeedSql, seedFile } from '../../../deploy/render-seeds.js';
import { DEMO_HOSPITALS } from '../../../src/demo/hospitals.js';

describe.each(DEMO_HOSPITALS.map((h) => [h.clientId, h] as const))(
  'seed of %s',
  (_id, hospital) => {
    const checkedIn = readFileSync(seedFile(hospital), 'utf8');

    it('is what deploy/render-seeds.ts renders from src/demo (else run: npx tsx deploy/render-seeds.ts)', () => {
      expect(checkedIn).toBe(renderSeedSql(hospital));
    });

    it('creates every demo table and view (MariaDB-typed where noted) and inserts every row', () => {
      const ddl = mariadbDdl(hospital);
      expect(ddl).toHaveLength(hospital.ddl.length);
      for (const [i, statement] of ddl.entries()) {
        expect(checkedIn).toContain(`${statement};`);
        // Only a view may differ from the demo's DDL, and only in how it computes its columns.
        if (statement !== hospital.ddl[i]) {
          expect(statement).toMatch(/^CREATE VIEW \w+ AS\n/);
          expect(statement.split('\n')[0]).toBe(hospital.ddl[i]?.split('\n')[0]);
          expect(statement.split('\n').at(-1)).toBe(hospital.ddl[i]?.split('\n').at(-1));
        }
      }
      for (const { table, rows } of hospital.seed) {
        const inserted = checkedIn
          .split(`INSERT INTO ${table} (`)
          .slice(1)
          .map((block) => (block.split(';\n')[0] ?? '').split('\n').length - 1);
        expect(
          inserted.reduce((a, b) => a + b, 0),
          table,
        ).toBe(rows.length);
      }
    });

    it('selects no database and creates no account (the image and 02-reader.sh do)', () => {
      expect(checkedIn).not.toMatch(/^\s*(USE|CREATE DATABASE|CREATE USER|GRANT)\b/im);
      expect(checkedIn.startsWith('-- ')).toBe(true);
      expect(checkedIn).toContain('SET NAMES utf8mb4;');
    });
  },
);
