import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type DatabaseTarget,
  DatabaseUrlError,
  type DatabaseUrlPart,
  describeDatabaseTarget,
  parseDatabaseUrl,
} from '../../../src/tenancy/database-url.js';

const CANARY = `ZZPW-${randomUUID()}`;
// A directory no checkout lives in: an error's stack names the checkout's own path, which may
// well be under /tmp.
const SQLITE_DIR = '/zz-sqlite-url-dir/';

function rejection(url: string): DatabaseUrlError {
  try {
    parseDatabaseUrl(url);
  } catch (err) {
    expect(err).toBeInstanceOf(DatabaseUrlError);
    return err as DatabaseUrlError;
  }
  throw new Error('expected parseDatabaseUrl to throw');
}

/** Every rendering of an error a log line or a crash report could show. */
function renderings(err: Error): string {
  const own = Object.getOwnPropertyNames(err).map((name) =>
    String((err as unknown as Record<string, unknown>)[name]),
  );
  return [err.message, err.stack ?? '', String(err), JSON.stringify(err), ...own].join('\n');
}

describe('parseDatabaseUrl: accepted', () => {
  const cases: [string, DatabaseTarget][] = [
    [
      'mysql://gw:secret@db.example.org:3307/his',
      {
        kind: 'mysql',
        host: 'db.example.org',
        port: 3307,
        user: 'gw',
        password: 'secret',
        database: 'his',
      },
    ],
    [
      'mariadb://gw:secret@db.example.org/his_2024',
      {
        kind: 'mysql',
        host: 'db.example.org',
        port: 3306,
        user: 'gw',
        password: 'secret',
        database: 'his_2024',
      },
    ],
    [
      'MySQL://gw@DB-1.Example.org/h$is-x',
      {
        kind: 'mysql',
        host: 'db-1.example.org',
        port: 3306,
        user: 'gw',
        password: '',
        database: 'h$is-x',
      },
    ],
    [
      'mysql://gw:pw@10.0.0.7:65535/his',
      { kind: 'mysql', host: '10.0.0.7', port: 65535, user: 'gw', password: 'pw', database: 'his' },
    ],
    [
      'mysql://gw:pw@[::1]:3307/his',
      { kind: 'mysql', host: '::1', port: 3307, user: 'gw', password: 'pw', database: 'his' },
    ],
    [
      'mariadb://gw:pw@[2001:DB8::10]/his',
      {
        kind: 'mysql',
        host: '2001:db8::10',
        port: 3306,
        user: 'gw',
        password: 'pw',
        database: 'his',
      },
    ],
    [
      'mysql://gw%40site:p%40ss%3Aw%2Ford%25@localhost/his',
      {
        kind: 'mysql',
        host: 'localhost',
        port: 3306,
        user: 'gw@site',
        password: 'p@ss:w/ord%',
        database: 'his',
      },
    ],
    [
      'mysql://gw:a:b@localhost:1/his',
      { kind: 'mysql', host: 'localhost', port: 1, user: 'gw', password: 'a:b', database: 'his' },
    ],
    [
      'mysql://gw:%C3%BC%20x@localhost/his',
      {
        kind: 'mysql',
        host: 'localhost',
        port: 3306,
        user: 'gw',
        password: 'ü x',
        database: 'his',
      },
    ],
    [
      'postgres://gw:secret@db.example.org/his',
      {
        kind: 'postgres',
        host: 'db.example.org',
        port: 5432,
        user: 'gw',
        password: 'secret',
        database: 'his',
      },
    ],
    [
      'PostgreSQL://gw%40site:p%40ss%3Aw%2Ford%25@[2001:DB8::10]:6432/His_DB',
      {
        kind: 'postgres',
        host: '2001:db8::10',
        port: 6432,
        user: 'gw@site',
        password: 'p@ss:w/ord%',
        database: 'His_DB',
      },
    ],
    [
      'postgresql://gw@10.0.0.7/his',
      { kind: 'postgres', host: '10.0.0.7', port: 5432, user: 'gw', password: '', database: 'his' },
    ],
    ['sqlite:data/demo.db', { kind: 'sqlite', path: 'data/demo.db' }],
    ['sqlite:/var/lib/fhirgate/a.db', { kind: 'sqlite', path: '/var/lib/fhirgate/a.db' }],
    ['sqlite:///var/lib/fhirgate/a.db', { kind: 'sqlite', path: '/var/lib/fhirgate/a.db' }],
    ['sqlite::memory:', { kind: 'sqlite', path: ':memory:' }],
  ];

  it.each(cases)('parses %s', (url, expected) => {
    expect(parseDatabaseUrl(url)).toEqual(expected);
  });
});

describe('parseDatabaseUrl: rejected', () => {
  const cases: [string, string, DatabaseUrlPart][] = [
    [
      'dangerous options (71i)',
      `mysql://u:${CANARY}@h/db?multipleStatements=true&debug=true&ssl={"rejectUnauthorized":false}`,
      'query',
    ],
    [
      'dangerous options, long form (71i)',
      `mysql://u:${CANARY}@h/db?multipleStatements=true&debug=true&ssl={"rejectUnauthorized":false}&enableCleartextPlugin=true&connectionLimit=1000`,
      'query',
    ],
    ['encoded JSON options', `mysql://u:${CANARY}@h/db?ssl=%7B%7D`, 'query'],
    [
      'pg connection options',
      `postgres://u:${CANARY}@h/db?sslmode=disable&options=-c%20x`,
      'query',
    ],
    [
      'a pg socket directory as host',
      `postgres://u:${CANARY}@%2Fvar%2Frun%2Fpostgresql/db`,
      'host',
    ],
    ['a pg key=value string', `host=h user=u password=${CANARY} dbname=db`, 'format'],
    ['an empty query', `mysql://u:${CANARY}@h/db?`, 'query'],
    ['a query in the userinfo', `mysql://u:${CANARY}?x@h/db`, 'query'],
    ['a fragment', `mysql://u:${CANARY}@h/db#frag`, 'fragment'],
    ['a query after a fragment', `mysql://u:${CANARY}@h/db#x?debug=true`, 'fragment'],
    ['a sqlite query', `sqlite:${SQLITE_DIR}a.db?mode=ro`, 'query'],
    ['a sqlite fragment', `sqlite:${SQLITE_DIR}a.db#x`, 'fragment'],
    ['port 0', `mysql://u:${CANARY}@h:0/db`, 'port'],
    ['port 70000', `mysql://u:${CANARY}@h:70000/db`, 'port'],
    ['port 65536', `mysql://u:${CANARY}@h:65536/db`, 'port'],
    ['port abc', `mysql://u:${CANARY}@h:abc/db`, 'port'],
    ['an empty port', `mysql://u:${CANARY}@h:/db`, 'port'],
    ['a negative port', `mysql://u:${CANARY}@h:-1/db`, 'port'],
    ['an IPv6 port abc', `mysql://u:${CANARY}@[::1]:abc/db`, 'port'],
    ['no database', `mysql://u:${CANARY}@h`, 'database'],
    ['an empty database', `mysql://u:${CANARY}@h/`, 'database'],
    ['a database with a dot', `mysql://u:${CANARY}@h/a.b`, 'database'],
    ['an encoded database', `mysql://u:${CANARY}@h/a%20b`, 'database'],
    ['a 65-character database', `mysql://u:${CANARY}@h/${'d'.repeat(65)}`, 'database'],
    ['an extra path segment', `mysql://u:${CANARY}@h/db/extra`, 'path'],
    ['a trailing slash', `mysql://u:${CANARY}@h/db/`, 'path'],
    ['scheme sqlserver', `sqlserver://u:${CANARY}@h/db`, 'scheme'],
    ['scheme file', `file:///${CANARY}`, 'scheme'],
    ['no scheme', `u:${CANARY}@h/db`, 'scheme'],
    ['a scheme-relative URL', `//u:${CANARY}@h/db`, 'scheme'],
    ['no slashes', `mysql:u:${CANARY}@h/db`, 'format'],
    ['no user', `mysql://h/db`, 'userinfo'],
    ['an empty user', `mysql://:${CANARY}@h/db`, 'userinfo'],
    ['a raw @ in the password', `mysql://u:${CANARY}@x@h/db`, 'userinfo'],
    ['a raw / in the password', `mysql://u:${CANARY}/x@h/db`, 'userinfo'],
    ['a malformed escape', `mysql://u:${CANARY}%zz@h/db`, 'userinfo'],
    ['a truncated escape', `mysql://u:${CANARY}%4@h/db`, 'userinfo'],
    ['an escape that is not UTF-8', `mysql://u:${CANARY}%C3@h/db`, 'userinfo'],
    ['an encoded control character', `mysql://u:${CANARY}%00@h/db`, 'userinfo'],
    ['a raw quote in the password', `mysql://u:${CANARY}"@h/db`, 'userinfo'],
    ['an empty host', `mysql://u:${CANARY}@/db`, 'host'],
    ['an empty host with port', `mysql://u:${CANARY}@:3306/db`, 'host'],
    ['a host with an underscore', `mysql://u:${CANARY}@db_1.example/db`, 'host'],
    ['a numeric last label', `mysql://u:${CANARY}@10.1/db`, 'host'],
    ['a hex host', `mysql://u:${CANARY}@0x7f.1/db`, 'host'],
    ['a short IPv4', `mysql://u:${CANARY}@127.1/db`, 'host'],
    ['an IPv4 with a leading zero', `mysql://u:${CANARY}@010.0.0.1/db`, 'host'],
    ['an empty label', `mysql://u:${CANARY}@a..b/db`, 'host'],
    ['a trailing dot', `mysql://u:${CANARY}@db.example./db`, 'host'],
    ['a label with a leading hyphen', `mysql://u:${CANARY}@-db.example/db`, 'host'],
    ['an unbracketed IPv6', `mysql://u:${CANARY}@::1/db`, 'host'],
    ['a bad IPv6', `mysql://u:${CANARY}@[::g]/db`, 'host'],
    ['an IPv6 zone', `mysql://u:${CANARY}@[fe80::1%25eth0]/db`, 'host'],
    ['a percent-encoded host', `mysql://u:${CANARY}@%6Cocalhost/db`, 'host'],
    ['a space', `mysql://u:${CANARY} @h/db`, 'format'],
    ['a tab', `mysql://u:${CANARY}@h/db\t`, 'format'],
    ['a newline', `mysql://u:${CANARY}@h/db\n`, 'format'],
    ['a NUL', `mysql://u:${CANARY}@h/db\u0000`, 'format'],
    ['a non-ASCII host', `mysql://u:${CANARY}@db.exаmple.org/db`, 'format'],
    ['an empty string', '', 'format'],
    ['a very long URL', `mysql://u:${CANARY}@h/db${'x'.repeat(3000)}`, 'format'],
    ['an empty sqlite path', 'sqlite:', 'path'],
    ['an empty sqlite absolute path', 'sqlite://', 'path'],
    ['a sqlite host', 'sqlite://host/a.db', 'host'],
    ['a sqlite memory variant', 'sqlite:memory:', 'path'],
    ['a sqlite memory path', 'sqlite:///:memory:', 'path'],
    ['a sqlite file URI', 'sqlite:file:a.db', 'path'],
    ['a sqlite directory', `sqlite:${SQLITE_DIR}`, 'path'],
    ['a sqlite escape', `sqlite:${SQLITE_DIR}a%20b.db`, 'path'],
  ];

  it.each(cases)('rejects %s', (_name, url, part) => {
    const err = rejection(url);
    expect(err.code).toBe('DB_URL_INVALID');
    expect(err.part).toBe(part);
    expect(err.message).toMatch(/^database URL rejected: .+\.$/);
  });

  it.each(cases)('leaks no part of the URL when rejecting %s', (_name, url) => {
    const text = renderings(rejection(url));
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain(CANARY.slice(5, 13));
    expect(text).not.toContain('multipleStatements');
    expect(text).not.toContain('rejectUnauthorized');
    expect(text).not.toContain('db.example');
    expect(text).not.toContain('sqlserver');
    expect(text).not.toContain(SQLITE_DIR);
  });

  it('names the query problem in the message', () => {
    expect(rejection('mysql://u:p@h/db?multipleStatements=true').message).toBe(
      'database URL rejected: query parameters are not allowed.',
    );
  });

  it('keeps the canary out of errors for a URL that otherwise parses', () => {
    expect(parseDatabaseUrl(`mysql://u:${CANARY}@h/db`)).toMatchObject({ password: CANARY });
  });
});

describe('describeDatabaseTarget', () => {
  it('describes a MySQL target without credentials', () => {
    const target = parseDatabaseUrl(`mysql://gw-user:${CANARY}@db.example.org:3307/his`);
    const text = describeDatabaseTarget(target);
    expect(text).toBe('mysql db.example.org:3307/his');
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain('gw-user');
  });

  it('describes a PostgreSQL target without credentials', () => {
    const text = describeDatabaseTarget(
      parseDatabaseUrl(`postgres://gw:${CANARY}@db.example.org/his`),
    );
    expect(text).toBe('postgres db.example.org:5432/his');
  });

  it('brackets an IPv6 host', () => {
    expect(describeDatabaseTarget(parseDatabaseUrl('mysql://u:p@[::1]/his'))).toBe(
      'mysql [::1]:3306/his',
    );
  });

  it('gives only the basename of a SQLite file', () => {
    expect(describeDatabaseTarget(parseDatabaseUrl('sqlite:///srv/tenants/a/his.db'))).toBe(
      'sqlite his.db',
    );
    expect(describeDatabaseTarget(parseDatabaseUrl('sqlite::memory:'))).toBe('sqlite :memory:');
  });
});
