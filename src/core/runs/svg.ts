// Inline SVG charts for the self-contained report.html: no scripts, no network.

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface Series {
  name: string;
  points: { x: number; y: number }[];
  color: string;
  dashed?: boolean;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

export function seriesColor(index: number): string {
  return PALETTE[index % PALETTE.length];
}

/** A line chart with axes, ticks and a legend. Non-finite points are skipped. */
export function lineChart(series: Series[], options: { title: string; xLabel: string; yLabel: string; width?: number; height?: number; integerX?: boolean }): string {
  const width = options.width ?? 640;
  const height = options.height ?? 300;
  const margin = { left: 60, right: 150, top: 30, bottom: 45 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const points = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (points.length === 0) return `<p><em>${escapeXml(options.title)}: no data.</em></p>`;

  let [xMin, xMax] = extent(points.map((p) => p.x));
  let [yMin, yMax] = extent(points.map((p) => p.y));
  if (xMin === xMax) [xMin, xMax] = [xMin - 1, xMax + 1];
  if (yMin === yMax) [yMin, yMax] = [yMin - 1, yMax + 1];
  yMin = Math.min(yMin, 0 <= yMin && yMin < 0.25 * yMax ? 0 : yMin);
  const sx = (x: number) => margin.left + ((x - xMin) / (xMax - xMin)) * plotWidth;
  const sy = (y: number) => margin.top + plotHeight - ((y - yMin) / (yMax - yMin)) * plotHeight;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<title>${escapeXml(options.title)}</title>`);
  parts.push(`<text x="${margin.left}" y="18" font-size="13" font-weight="bold">${escapeXml(options.title)}</text>`);
  for (const tick of ticks(yMin, yMax, 5)) {
    const y = sy(tick);
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${y + 4}" text-anchor="end">${formatTick(tick)}</text>`);
  }
  for (const tick of ticks(xMin, xMax, 6).filter((t) => !options.integerX || Number.isInteger(t))) {
    const x = sx(tick);
    parts.push(`<line x1="${x}" x2="${x}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight + 4}" stroke="#333"/>`);
    parts.push(`<text x="${x}" y="${margin.top + plotHeight + 16}" text-anchor="middle">${formatTick(tick)}</text>`);
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${margin.left + plotWidth / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);

  series.forEach((s, index) => {
    const valid = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (valid.length === 0) return;
    const path = valid.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join('');
    parts.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    if (valid.length <= 40) {
      for (const p of valid) parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    }
    const ly = margin.top + 10 + index * 16;
    parts.push(`<line x1="${width - margin.right + 12}" x2="${width - margin.right + 32}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    parts.push(`<text x="${width - margin.right + 38}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A confusion-matrix heatmap: counts in the cells, shading by row-normalized share. */
export function heatmap(matrix: number[][], rowNames: string[], columnNames: string[], options: { title: string; rowLabel: string; columnLabel: string }): string {
  const cell = Math.max(28, Math.min(56, Math.floor(420 / Math.max(1, columnNames.length))));
  const labelWidth = Math.min(150, 12 + 7 * Math.max(...rowNames.map((n) => n.length), 4));
  const top = 70;
  const width = labelWidth + 30 + cell * columnNames.length + 10;
  const height = top + cell * rowNames.length + 30;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<title>${escapeXml(options.title)}</title>`);
  parts.push(`<text x="4" y="16" font-size="13" font-weight="bold">${escapeXml(options.title)}</text>`);
  parts.push(`<text x="${labelWidth + 30 + (cell * columnNames.length) / 2}" y="34" text-anchor="middle" font-style="italic">${escapeXml(options.columnLabel)} →</text>`);
  parts.push(`<text transform="translate(12 ${top + (cell * rowNames.length) / 2}) rotate(-90)" text-anchor="middle" font-style="italic">${escapeXml(options.rowLabel)} →</text>`);
  columnNames.forEach((name, j) => {
    parts.push(`<text x="${labelWidth + 30 + j * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${escapeXml(shorten(name, cell / 6))}</text>`);
  });
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    parts.push(`<text x="${labelWidth + 24}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(shorten(rowNames[i], 20))}</text>`);
    row.forEach((count, j) => {
      const share = total > 0 ? count / total : 0;
      const fill = `rgba(31,119,180,${(0.06 + 0.94 * share).toFixed(3)})`;
      const x = labelWidth + 30 + j * cell;
      const y = top + i * cell;
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#fff"><title>${escapeXml(`${rowNames[i]} → ${columnNames[j]}: ${count} (${(share * 100).toFixed(1)}% of row)`)}</title></rect>`);
      parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${share > 0.5 ? '#fff' : '#111'}">${count}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Horizontal bars, e.g. per-label F1 of a multi-label run. Values in [0, 1]. */
export function barChart(items: { name: string; values: { label: string; value: number; color: string }[] }[], options: { title: string }): string {
  const rowHeight = 14 * Math.max(1, items[0]?.values.length ?? 1) + 6;
  const labelWidth = 130;
  const barWidth = 360;
  const height = 40 + items.length * rowHeight;
  const width = labelWidth + barWidth + 60;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<text x="4" y="16" font-size="13" font-weight="bold">${escapeXml(options.title)}</text>`);
  items.forEach((item, i) => {
    const y = 30 + i * rowHeight;
    parts.push(`<text x="${labelWidth - 6}" y="${y + rowHeight / 2 + 2}" text-anchor="end">${escapeXml(shorten(item.name, 20))}</text>`);
    item.values.forEach((v, k) => {
      const w = Math.max(0, Math.min(1, v.value)) * barWidth;
      parts.push(`<rect x="${labelWidth}" y="${y + k * 14}" width="${w.toFixed(1)}" height="12" fill="${v.color}"><title>${escapeXml(`${item.name} ${v.label}: ${v.value.toFixed(3)}`)}</title></rect>`);
      parts.push(`<text x="${labelWidth + w + 4}" y="${y + k * 14 + 10}">${v.value.toFixed(2)}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('');
}

function extent(values: number[]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

function ticks(min: number, max: number, count: number): number[] {
  const span = max - min;
  const step0 = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => span / s <= count) ?? 10 * magnitude;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function formatTick(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 10000 || abs < 0.001) return value.toExponential(1);
  return String(Number(value.toPrecision(4)));
}

function shorten(text: string, max: number): string {
  const limit = Math.max(3, Math.floor(max));
  return text.length > limit ? text.slice(0, limit - 1) + '…' : text;
}
