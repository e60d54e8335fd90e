// A tiny SVG line plot (axes, "nice" ticks, a legend), for the loss and validation curves of
// a run. Long series are reduced to at most MAX_POINTS bin means so files stay small.
export interface Series {
  name: string;
  points: [number, number][];
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Logarithmic y axis (used when every value is positive). */
  logY?: boolean;
  width?: number;
  height?: number;
}

const MAX_POINTS = 1000;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Bin means of consecutive points, so a series has at most `max` points. */
export function downsample(points: [number, number][], max = MAX_POINTS): [number, number][] {
  if (points.length <= max) return points;
  const out: [number, number][] = [];
  const size = points.length / max;
  for (let b = 0; b < max; b++) {
    const bin = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    out.push([bin.reduce((s, p) => s + p[0], 0) / bin.length, bin.reduce((s, p) => s + p[1], 0) / bin.length]);
  }
  return out;
}

/** About `count` round tick values (1, 2, 5 x 10^k steps) covering [low, high]. */
export function niceTicks(low: number, high: number, count = 5): number[] {
  if (!(high > low)) return [low];
  const raw = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Ticks of a log axis spanning 10^low .. 10^high: decades, or 1-2-5 steps within few decades. */
function logTicks(low: number, high: number): number[] {
  const decades: number[] = [];
  for (let d = Math.floor(low); d <= Math.ceil(high); d++) decades.push(d);
  const inside = (t: number) => Math.log10(t) >= low && Math.log10(t) <= high;
  const whole = decades.map((d) => 10 ** d).filter(inside);
  if (whole.length >= 3) return whole;
  const steps125 = decades.flatMap((d) => [1, 2, 5].map((m) => Number((m * 10 ** d).toPrecision(6)))).filter(inside);
  return steps125.length >= 3 ? steps125 : niceTicks(10 ** low, 10 ** high, 4).filter((t) => t > 0);
}

function formatTick(value: number): string {
  if (value === 0) return '0';
  const a = Math.abs(value);
  return a >= 1e4 || a < 1e-3 ? value.toExponential(0) : String(Number(value.toPrecision(4)));
}

interface Frame { margin: { left: number; top: number }; plotW: number; plotH: number }

/** Horizontal grid lines and labels at the y ticks inside the plot area. */
function yTickMarks(parts: string[], ticks: number[], sy: (y: number) => number, f: Frame, stroke: (t: number) => string = () => '#e5e5e5'): void {
  for (const t of ticks) {
    const y = sy(t);
    if (y < f.margin.top - 0.5 || y > f.margin.top + f.plotH + 0.5) continue;
    parts.push(`<line x1="${f.margin.left}" x2="${f.margin.left + f.plotW}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="${stroke(t)}"/>`);
    parts.push(`<text x="${f.margin.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${formatTick(t)}</text>`);
  }
}

/** Tick marks and labels under the plot area at the x ticks inside it. */
function xTickMarks(parts: string[], ticks: number[], sx: (x: number) => number, f: Frame): void {
  for (const t of ticks) {
    const x = sx(t);
    if (x < f.margin.left - 0.5 || x > f.margin.left + f.plotW + 0.5) continue;
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${f.margin.top + f.plotH}" y2="${f.margin.top + f.plotH + 5}" stroke="black"/>`);
    parts.push(`<text x="${x.toFixed(1)}" y="${f.margin.top + f.plotH + 18}" text-anchor="middle">${formatTick(t)}</text>`);
  }
}

export function linePlot(series: Series[], options: PlotOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 400;
  const margin = { left: 70, right: 20, top: 36, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const data = series.map((s) => ({ name: s.name, points: downsample(s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))) }));
  const all = data.flatMap((s) => s.points);
  const logY = options.logY === true && all.length > 0 && all.every(([, y]) => y > 0);
  const ty = (y: number) => (logY ? Math.log10(y) : y);

  let [x0, x1] = all.length ? [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))] : [0, 1];
  let [y0, y1] = all.length ? [Math.min(...all.map((p) => ty(p[1]))), Math.max(...all.map((p) => ty(p[1])))] : [0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - (Math.abs(y0) || 1) * 0.1, y1 + (Math.abs(y1) || 1) * 0.1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const sx = (x: number) => margin.left + ((x - x0) / (x1 - x0)) * plotW;
  const sy = (y: number) => margin.top + plotH - ((ty(y) - y0) / (y1 - y0)) * plotH;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`);
  // y ticks: decades on a log axis, round values otherwise
  const frame = { margin, plotW, plotH };
  yTickMarks(parts, logY ? logTicks(y0, y1) : niceTicks(y0, y1, 5), sy, frame);
  xTickMarks(parts, niceTicks(x0, x1, 6), sx, frame);
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="black"/>`);
  parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  const yLabel = options.yLabel + (logY ? ' (log scale)' : '');
  parts.push(`<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`);
  data.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    if (s.points.length === 1) {
      const [x, y] = s.points[0];
      parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}"/>`);
    } else if (s.points.length > 1) {
      const d = s.points.map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)} ${sy(y).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    }
    const ly = margin.top + 14 + i * 16;
    parts.push(`<line x1="${margin.left + plotW - 130}" x2="${margin.left + plotW - 110}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${margin.left + plotW - 104}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export interface LabelledPoint {
  label: string;
  x: number;
  y: number;
}

/** A scatter plot of labelled points (log x axis when every x is positive), the points of
 *  `front` (indices) joined in x order and drawn filled: a sweep's Pareto front. */
export function paretoPlot(points: LabelledPoint[], front: Set<number>, options: PlotOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 440;
  const margin = { left: 70, right: 30, top: 36, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const logX = points.length > 0 && points.every((p) => p.x > 0);
  const tx = (x: number) => (logX ? Math.log10(x) : x);
  let [x0, x1] = points.length ? [Math.min(...points.map((p) => tx(p.x))), Math.max(...points.map((p) => tx(p.x)))] : [0, 1];
  let [y0, y1] = points.length ? [Math.min(0, ...points.map((p) => p.y)), Math.max(0, ...points.map((p) => p.y))] : [0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 0.5, x1 + 0.5];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const padX = (x1 - x0) * 0.08;
  const padY = (y1 - y0) * 0.1;
  [x0, x1, y0, y1] = [x0 - padX, x1 + padX, y0 - padY, y1 + padY];
  const sx = (x: number) => margin.left + ((tx(x) - x0) / (x1 - x0)) * plotW;
  const sy = (y: number) => margin.top + plotH - ((y - y0) / (y1 - y0)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
  ];
  const frame = { margin, plotW, plotH };
  yTickMarks(parts, niceTicks(y0, y1, 6), sy, frame, (t) => (t === 0 ? '#999' : '#e5e5e5'));
  xTickMarks(parts, logX ? logTicks(x0, x1) : niceTicks(x0, x1, 6), sx, frame);
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="black"/>`);
  parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel + (logX ? ' (log scale)' : ''))}</text>`);
  parts.push(`<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  const frontPoints = points.filter((_, i) => front.has(i)).sort((a, b) => a.x - b.x);
  if (frontPoints.length > 1) {
    parts.push(`<path d="${frontPoints.map((p, j) => `${j ? 'L' : 'M'}${sx(p.x).toFixed(1)} ${sy(p.y).toFixed(1)}`).join('')}" fill="none" stroke="${COLORS[1]}" stroke-width="1.5" stroke-dasharray="5 3"/>`);
  }
  points.forEach((p, i) => {
    const onFront = front.has(i);
    parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="4" fill="${onFront ? COLORS[1] : 'white'}" stroke="${onFront ? COLORS[1] : COLORS[0]}" stroke-width="1.5"/>`);
    parts.push(`<text x="${(sx(p.x) + 6).toFixed(1)}" y="${(sy(p.y) - 6).toFixed(1)}" font-size="10">${escapeXml(p.label)}</text>`);
  });
  parts.push(`<text x="${margin.left + plotW - 6}" y="${margin.top + 14}" text-anchor="end" fill="${COLORS[1]}">filled, dashed: Pareto front</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
