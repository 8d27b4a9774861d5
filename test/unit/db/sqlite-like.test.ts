import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { installUnicodeLike } from '../../../src/db/sqlite-like.js';

// Real SQLite: the infix LIKE calls the replaced function, with and without ESCAPE.
describe('SQLite LIKE ignores case and accents beyond ASCII', () => {
  const db = new Database(':memory:');
  installUnicodeLike(db);
  db.exec(
    "CREATE TABLE p (name TEXT); INSERT INTO p VALUES ('Ólafsdóttir'), ('NGUYỄN'), ('O''Brien'), ('50%_off'), ('Zoë 🌱'), (NULL)",
  );
  const like = (pattern: string) =>
    (
      db.prepare("SELECT name FROM p WHERE name LIKE ? ESCAPE '!' ORDER BY name").all(pattern) as {
        name: string;
      }[]
    ).map((r) => r.name);
  afterAll(() => db.close());

  it('folds case and accents on both sides', () => {
    expect(like('olafs%')).toEqual(['Ólafsdóttir']);
    expect(like('ÓLAFSDÓTTIR')).toEqual(['Ólafsdóttir']);
    expect(like('nguyễn%')).toEqual(['NGUYỄN']);
    expect(like('nguyen')).toEqual(['NGUYỄN']);
    expect(like("o'b%")).toEqual(["O'Brien"]);
  });

  it('keeps LIKE semantics: % and _ as wildcards, escaped ones literal, regex characters plain', () => {
    expect(like('%')).toHaveLength(5);
    expect(like('zo_ _')).toEqual(['Zoë 🌱']);
    expect(like('50!%!_off')).toEqual(['50%_off']);
    expect(like('50%off')).toEqual(['50%_off']);
    expect(like('50.%')).toEqual([]);
    expect(like('(o%')).toEqual([]);
  });

  it('answers NULL for a NULL value and works without ESCAPE', () => {
    expect(db.prepare('SELECT NULL LIKE ? AS m').get('%')).toEqual({ m: null });
    expect(db.prepare('SELECT ? LIKE ? AS m').get('Müller', 'MUL%')).toEqual({ m: 1 });
  });
});
