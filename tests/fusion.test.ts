import { describe, expect, it } from 'vitest';
import { RRF_K, reciprocalRankFusion } from '../indexes/fusion.ts';

describe('reciprocal rank fusion', () => {
  it('scores by weighted reciprocal rank with k = 60', () => {
    const fused = reciprocalRankFusion([
      { keys: ['a', 'b', 'c'], weight: 1 },
      { keys: ['c', 'a'], weight: 0.5 },
    ]);
    const score = Object.fromEntries(fused.map((f) => [f.key, f.score]));
    expect(score.a).toBeCloseTo(1 / (RRF_K + 1) + 0.5 / (RRF_K + 2));
    expect(score.b).toBeCloseTo(1 / (RRF_K + 2));
    expect(score.c).toBeCloseTo(1 / (RRF_K + 3) + 0.5 / (RRF_K + 1));
    expect(fused.map((f) => f.key)).toEqual(['a', 'c', 'b']);
  });

  it('a light vector leg only re-orders near ties of the BM25 leg', () => {
    const bm25 = Array.from({ length: 20 }, (_, i) => `d${i}`);
    const fused = reciprocalRankFusion([
      { keys: bm25, weight: 1 },
      { keys: ['d19', 'd2'], weight: 0.15 },
    ]);
    // d2 (already near the top) can pass d0 and d1; d19 (a BM25 straggler) cannot reach the top 5.
    expect(fused.findIndex((f) => f.key === 'd2')).toBeLessThan(fused.findIndex((f) => f.key === 'd1'));
    expect(fused.findIndex((f) => f.key === 'd19')).toBeGreaterThan(4);
    expect(fused.slice(0, 5).map((f) => f.key)).toEqual(['d2', 'd0', 'd1', 'd3', 'd4']);
  });

  it('ignores legs with weight 0 and keeps ties in leg order', () => {
    const fused = reciprocalRankFusion([
      { keys: ['x', 'y'], weight: 1 },
      { keys: ['y', 'z'], weight: 0 },
    ]);
    expect(fused.map((f) => f.key)).toEqual(['x', 'y']);
  });
});
