// A latency chart written by hand as SVG: one group of horizontal bars per path, one bar per
// measured peer (floor, parallax-emu, QEMU). The bar ends at the median, a whisker runs on
// to p99. The axis is logarithmic: the peers differ by orders of magnitude.

export interface ChartBar {
  label: string;
  median: number;
  p99: number;
  color: string;
}

export interface ChartGroup {
  title: string;
  bars: ChartBar[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

export function latencyChart(title: string, subtitle: string, groups: ChartGroup[], unit = 'µs'): string {
  const values = groups.flatMap((g) => g.bars.flatMap((b) => [b.median, b.p99])).filter((v) => Number.isFinite(v) && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values, 1)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values, 10)));
  const left = 150, right = 40, plotW = 620, barH = 16, gap = 4, groupGap = 22, top = 64;
  const x = (v: number) => left + (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * plotW;
  let y = top;
  const parts: string[] = [];
  for (const g of groups) {
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${esc(g.title)}</text>`);
    y += 18;
    for (const b of g.bars) {
      if (!Number.isFinite(b.median)) {
        parts.push(`<text x="${left - 6}" y="${y + 12}" text-anchor="end">${esc(b.label)}</text>`,
          `<text x="${left + 4}" y="${y + 12}" fill="#888">not measured</text>`);
        y += barH + gap;
        continue;
      }
      const xm = x(b.median), xp = x(Number.isFinite(b.p99) ? b.p99 : b.median), cy = y + barH / 2;
      parts.push(
        `<text x="${left - 6}" y="${y + 12}" text-anchor="end">${esc(b.label)}</text>`,
        `<rect x="${left}" y="${y}" width="${Math.max(1, xm - left).toFixed(1)}" height="${barH}" fill="${b.color}"/>`,
        `<line x1="${xm.toFixed(1)}" y1="${cy}" x2="${xp.toFixed(1)}" y2="${cy}" stroke="#333" stroke-width="1.5"/>`,
        `<line x1="${xp.toFixed(1)}" y1="${y + 3}" x2="${xp.toFixed(1)}" y2="${y + barH - 3}" stroke="#333" stroke-width="1.5"/>`,
        `<text x="${(xp + 5).toFixed(1)}" y="${y + 12}" font-size="11">${num(b.median)} / ${num(b.p99)}</text>`,
      );
      y += barH + gap;
    }
    y += groupGap;
  }
  const axisY = y - groupGap + 6;
  const ticks: string[] = [];
  for (let v = lo; v <= hi * 1.0001; v *= 10) {
    const tx = x(v).toFixed(1);
    ticks.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${axisY}" stroke="#ddd"/>`,
      `<text x="${tx}" y="${axisY + 14}" text-anchor="middle" font-size="11">${v >= 1000 ? `${v / 1000}k` : v}</text>`);
  }
  const height = axisY + 40;
  const width = left + plotW + right + 80;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="16" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="42" font-size="11" fill="#555">${esc(subtitle)}</text>`,
    ...ticks,
    ...parts,
    `<text x="${left + plotW / 2}" y="${axisY + 32}" text-anchor="middle" font-size="11">round trip, ${unit} (log scale); bar = median, whisker = p99; labels: median / p99</text>`,
    '</svg>',
    '',
  ].join('\n');
}
