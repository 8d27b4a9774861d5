import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collapseWhitespace } from '../../../src/mapping/transforms/cell-values.js';

/** Text made of letters and every kind of whitespace a cell may hold, in runs and at the ends. */
const cell = fc
  .array(fc.constantFrom(' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u2003', 'a', 'B', 'é', "O'"), {
    maxLength: 12,
  })
  .map((parts) => parts.join(''));

describe('collapseWhitespace', () => {
  it('gives what replace(/\\s+/g, " ").trim() gives, for 5,000 cells', () => {
    fc.assert(
      fc.property(fc.oneof(cell, fc.string()), (text) => {
        expect(collapseWhitespace(text)).toBe(text.replace(/\s+/g, ' ').trim());
      }),
      { numRuns: 5000 },
    );
  });

  it('returns a tidy cell as it is and tidies the others', () => {
    const tidy = 'María José Pérez';
    expect(collapseWhitespace(tidy)).toBe(tidy);
    expect(collapseWhitespace(' María\t José \n')).toBe('María José');
    expect(collapseWhitespace('a\u00a0b')).toBe('a b');
    expect(collapseWhitespace('   ')).toBe('');
  });
});
