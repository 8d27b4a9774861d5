import type Database from 'better-sqlite3';

/**
 * FHIR string search ignores case and accents. SQLite's built-in LIKE folds ASCII letters only,
 * so `ólafsdóttir` would miss `Ólafsdóttir` and `Nguyễn` miss `NGUYỄN`, where MariaDB's default
 * collations match both. This replaces SQLite's `like(pattern, value[, escapeChar])` (what
 * `value LIKE pattern ESCAPE e` calls) on one handle with a Unicode-aware version: both sides
 * decomposed, combining marks dropped, lower-cased.
 */
export function installUnicodeLike(db: Database.Database): void {
  const compiled = new Map<string, RegExp>();
  db.function(
    'like',
    { deterministic: true, varargs: true },
    (pattern: unknown, value: unknown, escapeChar: unknown) => {
      if (pattern === null || value === null || pattern === undefined || value === undefined) {
        return null;
      }
      const key = `${typeof escapeChar === 'string' ? escapeChar : ''}\u0000${String(pattern)}`;
      let regex = compiled.get(key);
      if (regex === undefined) {
        regex = likeToRegExp(
          fold(String(pattern)),
          typeof escapeChar === 'string' ? escapeChar : '',
        );
        // Patterns are the client's search values: keep the cache from growing without bound.
        if (compiled.size >= 512) {
          compiled.clear();
        }
        compiled.set(key, regex);
      }
      return regex.test(fold(String(value))) ? 1 : 0;
    },
  );
}

/** Case and accent folding: `Ólafsdóttir` -> `olafsdottir`, `NGUYỄN` -> `nguyen`. */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** A LIKE pattern (`%` any run, `_` one character, `escape` makes the next one literal) as a RegExp. */
function likeToRegExp(pattern: string, escapeChar: string): RegExp {
  // By code point, so `_` is one character also outside the Basic Multilingual Plane.
  const chars = Array.from(pattern);
  let source = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (escapeChar !== '' && ch === escapeChar && i + 1 < chars.length) {
      i++;
      source += escapeRegExp(chars[i] as string);
    } else if (ch === '%') {
      source += '.*';
    } else if (ch === '_') {
      source += '.';
    } else {
      source += escapeRegExp(ch);
    }
  }
  return new RegExp(`^${source}$`, 'su');
}

function escapeRegExp(ch: string): string {
  return ch.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
