import { describe, expect, it } from 'vitest';
import { formatForReading, isReference, newReference, REFERENCE_ALPHABET } from '../../../../src/intake/contract/reference.ts';

describe('reference codes', () => {
  it('use 31 symbols without look-alikes', () => {
    expect(REFERENCE_ALPHABET).toHaveLength(31);
    for (const confusable of ['0', 'O', '1', 'I', 'L']) expect(REFERENCE_ALPHABET).not.toContain(confusable);
    expect(new Set(REFERENCE_ALPHABET).size).toBe(REFERENCE_ALPHABET.length);
  });

  it('look like XXXX-XXXX and pass isReference', () => {
    for (let i = 0; i < 1000; i++) {
      const reference = newReference();
      expect(reference).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}$/);
      expect(isReference(reference)).toBe(true);
    }
  });

  it('isReference refuses anything else', () => {
    for (const text of ['', 'K7M2PQ4X', 'k7m2-pq4x', 'K7M2-PQ4', 'K7M2-PQ4XX', 'K0M2-PQ4X', 'KIM2-PQ4X', 'K7M2-PQ4X\n', ' K7M2-PQ4X', '../x', 'K7M2_PQ4X']) {
      expect(isReference(text), JSON.stringify(text)).toBe(false);
    }
  });

  it('do not repeat in 100 000 draws', () => {
    const seen = new Set<string>();
    let collisions = 0;
    for (let i = 0; i < 100_000; i++) {
      const reference = newReference();
      if (seen.has(reference)) collisions += 1;
      seen.add(reference);
    }
    // 31^8 ≈ 8.5e11 codes: the birthday bound expects 0.006 collisions in 1e5 draws, so one
    // happens about once in 170 runs by pure chance and two about once in 58 000. A generator
    // with even 30 bits less entropy than designed would produce dozens.
    expect(collisions).toBeLessThanOrEqual(1);
  });

  it('draw every symbol equally often (no modulo bias)', () => {
    const counts = new Map<string, number>();
    const draws = 20_000;
    for (let i = 0; i < draws; i++) {
      for (const symbol of newReference().replace('-', '')) counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
    }
    expect(counts.size).toBe(31);
    const expected = (draws * 8) / 31;
    // Chi-square with 30 degrees of freedom: about 73 is the 0.001 % tail. A `byte % 31` generator
    // (first 8 symbols 9/8 as likely) scores about 450 here.
    const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    expect(chiSquare).toBeLessThan(73);
  });

  it('space out for reading aloud', () => {
    expect(formatForReading('K7M2-PQ4X')).toBe('K 7 M 2 - P Q 4 X');
  });
});
