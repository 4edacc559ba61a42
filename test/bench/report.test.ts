// The benchmark helpers that turn samples into the printed figures: statistics, growth
// judgement, markdown, and the hand-written SVG chart.
import { describe, expect, it } from 'vitest';
import { growth, linearFit, markdownTable, median, percentile, spreadPct, summarize, table } from '../../bench/lib/report.js';
import { latencyChart } from '../../bench/lib/svg-chart.js';

describe('statistics', () => {
  it('median, p99 and spread of pooled repetitions', () => {
    const reps = [[1, 2, 3, 4, 100], [2, 3, 4, 5, 6]];
    const s = summarize(reps);
    expect(s.n).toBe(10);
    expect(s.median).toBe(3.5);
    expect(s.p99).toBe(100);
    expect(s.repMedians).toEqual([3, 4]);
    expect(s.spreadPct).toBeCloseTo((1 / 3.5) * 100);
    expect(s.min).toBe(1);
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(median([4, 1, 3])).toBe(3);
    expect(spreadPct([0, 0])).toBe(0);
  });

  it('an empty measurement is NaN, not a crash', () => {
    const s = summarize([[], []]);
    expect(s.n).toBe(0);
    expect(Number.isNaN(s.median)).toBe(true);
  });

  it('linear fit gives the growth per added core', () => {
    const f = linearFit([1, 2, 4, 8], [110, 120, 140, 180]);
    expect(f.b).toBeCloseTo(10);
    expect(f.a).toBeCloseTo(100);
  });

  it('growth: flat and logarithmic pass, linear fails', () => {
    const ns = [1, 2, 4, 8, 16, 32];
    expect(growth(ns, ns.map(() => 100)).logOrBetter).toBe(true);
    expect(growth(ns, ns.map((n) => 100 * (1 + Math.log2(n)))).logOrBetter).toBe(true);
    const lin = growth(ns, ns.map((n) => 100 * n));
    expect(lin.logOrBetter).toBe(false);
    expect(lin.exponent).toBeCloseTo(1);
  });
});

describe('tables', () => {
  it('console and markdown tables carry the same cells', () => {
    const rows = [['a|b', 1234.5], ['c', 0.123]];
    expect(table(['x', 'y'], rows).split('\n')).toHaveLength(4);
    const md = markdownTable(['x', 'y'], rows);
    expect(md).toContain('| a\\|b | 1235 |');
    expect(md).toContain('| c | 0.12 |');
  });
});

describe('latency chart', () => {
  it('is one well-formed SVG with a bar per measured peer and a note for missing ones', () => {
    const svg = latencyChart('t <&>', 'sub', [
      { title: 'path 1', bars: [{ label: 'floor', median: 9, p99: 20, color: '#999' }, { label: 'emu', median: 1200, p99: 14000, color: '#00f' }] },
      { title: 'path 2', bars: [{ label: 'qemu', median: NaN, p99: NaN, color: '#f80' }] },
    ]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('t &lt;&amp;&gt;');
    expect(svg.match(/<rect /g)).toHaveLength(1 + 2);
    expect(svg).toContain('not measured');
    expect(svg).not.toMatch(/NaN|Infinity/);
  });
});
