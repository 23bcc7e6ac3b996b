/** The bench report's charts: SVG made here, rendered to PNG with sharp (benchmarks.png, benchmarks-memory.png). */
import { join } from 'node:path';
import sharp from 'sharp';
import type { BenchResults } from '../types.js';
import { comparisons, fmt, times, type Comparison } from './figures.js';

const FONT = `font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif"`;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function throughputSvg(res: BenchResults, comps: Comparison[]): string {
  const rowH = 44,
    left = 400,
    width = 1240,
    plotW = 600,
    top = 70;
  const height = top + comps.length * rowH + 70;
  const vals = comps.flatMap((c) => [c.peerRate, c.ourRate]);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...vals)))),
    hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...vals))));
  const x = (v: number) => left + (plotW * (Math.log10(v) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
  const parts: string[] = [];
  parts.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  parts.push(
    `<text x="20" y="30" ${FONT} font-size="19" font-weight="bold">Input megapixels per second, side by side (log scale; longer is faster)</text>`,
  );
  parts.push(
    `<text x="20" y="52" ${FONT} font-size="13" fill="#555">${esc(`${res.machine.cpuModel}, ${res.machine.logicalCores} cores · ${res.mode} run ${res.date.slice(0, 10)} · grey: peer, blue: Enlarge, same image and conditions in each pair`)}</text>`,
  );
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const xx = x(d);
    parts.push(`<line x1="${xx}" y1="${top - 6}" x2="${xx}" y2="${top + comps.length * rowH}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${xx}" y="${top + comps.length * rowH + 18}" ${FONT} font-size="12" text-anchor="middle" fill="#555">${d >= 1 ? fmt(d, 0) : d.toPrecision(1)}</text>`,
    );
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${top + comps.length * rowH + 40}" ${FONT} font-size="13" text-anchor="middle" fill="#333">input MP/s</text>`,
  );
  comps.forEach((c, i) => {
    const y = top + i * rowH;
    parts.push(
      `<text x="${left - 10}" y="${y + 24}" ${FONT} font-size="12.5" text-anchor="end">${esc(c.label)}</text>`,
    );
    parts.push(
      `<rect x="${left}" y="${y + 4}" width="${Math.max(1, x(c.peerRate) - left)}" height="15" fill="#9e9e9e"/>`,
    );
    parts.push(
      `<rect x="${left}" y="${y + 21}" width="${Math.max(1, x(c.ourRate) - left)}" height="15" fill="#1f6fd1"/>`,
    );
    const r = c.ratio >= 1 ? `Enlarge ${times(c.ratio)} faster` : `Enlarge ${times(1 / c.ratio)} slower`;
    parts.push(
      `<text x="${left + plotW + 12}" y="${y + 26}" ${FONT} font-size="13" font-weight="bold" fill="${c.ratio >= 1 ? '#1a7f37' : '#b42318'}">${esc(r)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

function memorySvg(res: BenchResults): string | undefined {
  const m = res.memory;
  const pts = m?.points.filter((p) => p.peakRssMB !== null) ?? [];
  if (!m || pts.length < 2) return undefined;
  const width = 1000,
    height = 560,
    left = 80,
    right = 40,
    top = 90,
    bottom = 60;
  const maxX = Math.max(...pts.map((p) => p.outputMP)) * 1.05;
  const f = m.tiledFit ?? m.fit;
  const ys = pts.map((p) => p.peakRssMB!);
  const lines = f ? [f.interceptMB + m.float32RgbMBperMP * maxX, f.interceptMB + f.slopeMBperMP * maxX] : [];
  const maxY = Math.max(...ys, ...lines.filter((v) => v < Math.max(...ys) * 3)) * 1.1;
  const X = (v: number) => left + ((width - left - right) * v) / maxX;
  const Y = (v: number) => height - bottom - ((height - top - bottom) * v) / maxY;
  const parts: string[] = [`<rect width="${width}" height="${height}" fill="#fff"/>`];
  parts.push(
    `<text x="20" y="30" ${FONT} font-size="19" font-weight="bold">Peak RSS of the CLI vs output size (${esc(m.model)}, 4×)</text>`,
  );
  if (f) {
    parts.push(
      `<text x="20" y="52" ${FONT} font-size="13" fill="#333">${esc(`blue line: ${m.tiledFit ? 'fit through the tiled sizes (filled dots)' : 'fit'}: ${fmt(f.interceptMB, 0)} MB + ${fmt(f.slopeMBperMP, 2)} MB per output MP (r² ${f.r2})`)}</text>`,
    );
    parts.push(
      `<text x="20" y="70" ${FONT} font-size="13" fill="#555">${esc('red dashed: the same constant + a float32 RGB output (12 MB/MP); grey dotted: + an 8-bit RGB output (3 MB/MP); hollow dots: one tile')}</text>`,
    );
  }
  const tick = (max: number) =>
    Math.pow(10, Math.floor(Math.log10(max / 4))) *
    ([1, 2, 5].find((k) => max / (k * Math.pow(10, Math.floor(Math.log10(max / 4)))) <= 8) ?? 10);
  const tx = tick(maxX),
    ty = tick(maxY);
  for (let v = 0; v <= maxX; v += tx) {
    parts.push(
      `<line x1="${X(v)}" y1="${top}" x2="${X(v)}" y2="${height - bottom}" stroke="#eee"/><text x="${X(v)}" y="${height - bottom + 18}" ${FONT} font-size="12" text-anchor="middle" fill="#555">${fmt(v, tx < 1 ? 1 : 0)}</text>`,
    );
  }
  for (let v = 0; v <= maxY; v += ty) {
    parts.push(
      `<line x1="${left}" y1="${Y(v)}" x2="${width - right}" y2="${Y(v)}" stroke="#eee"/><text x="${left - 8}" y="${Y(v) + 4}" ${FONT} font-size="12" text-anchor="end" fill="#555">${fmt(v, 0)}</text>`,
    );
  }
  parts.push(
    `<text x="${(left + width - right) / 2}" y="${height - 15}" ${FONT} font-size="13" text-anchor="middle">output megapixels</text>`,
  );
  parts.push(
    `<text x="20" y="${(top + height - bottom) / 2}" ${FONT} font-size="13" transform="rotate(-90 20 ${(top + height - bottom) / 2})" text-anchor="middle">peak RSS, MB</text>`,
  );
  if (f) {
    const clipY = (v: number) => Math.min(v, maxY);
    const endX = (slope: number) => Math.min(maxX, (maxY - f.interceptMB) / slope);
    parts.push(
      `<line x1="${X(0)}" y1="${Y(f.interceptMB)}" x2="${X(endX(m.float32RgbMBperMP))}" y2="${Y(clipY(f.interceptMB + m.float32RgbMBperMP * endX(m.float32RgbMBperMP)))}" stroke="#b42318" stroke-dasharray="8 5"/>`,
    );
    parts.push(
      `<line x1="${X(0)}" y1="${Y(f.interceptMB)}" x2="${X(endX(m.u8RgbMBperMP))}" y2="${Y(clipY(f.interceptMB + m.u8RgbMBperMP * endX(m.u8RgbMBperMP)))}" stroke="#999" stroke-dasharray="2 4"/>`,
    );
    parts.push(
      `<line x1="${X(0)}" y1="${Y(f.interceptMB)}" x2="${X(maxX)}" y2="${Y(f.interceptMB + f.slopeMBperMP * maxX)}" stroke="#1f6fd1" stroke-width="2"/>`,
    );
  }
  pts.forEach((p, i) => {
    const cx = X(p.outputMP),
      cy = Y(p.peakRssMB!);
    const rightSide = cx > left + (width - left - right) * 0.7;
    const dy = i % 2 === 0 ? -10 : 18;
    const fill = p.tiles > 1 ? '#1f6fd1' : '#fff';
    parts.push(`<circle cx="${cx}" cy="${cy}" r="5" fill="${fill}" stroke="#1f6fd1" stroke-width="2"/>`);
    parts.push(
      `<text x="${rightSide ? cx - 8 : cx + 8}" y="${cy + dy}" ${FONT} font-size="12" text-anchor="${rightSide ? 'end' : 'start'}">${esc(`${p.inputSide}² → ${fmt(p.outputMP, p.outputMP < 1 ? 2 : 0)} MP: ${fmt(p.peakRssMB, 0)} MB`)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** Writes benchmarks.png (throughput) and benchmarks-memory.png; returns the file names written. */
export async function renderCharts(res: BenchResults, outDir: string): Promise<string[]> {
  const written: string[] = [];
  const comps = comparisons(res);
  if (comps.length) {
    await sharp(Buffer.from(throughputSvg(res, comps)))
      .png()
      .toFile(join(outDir, 'benchmarks.png'));
    written.push('benchmarks.png');
  }
  const mem = memorySvg(res);
  if (mem) {
    await sharp(Buffer.from(mem)).png().toFile(join(outDir, 'benchmarks-memory.png'));
    written.push('benchmarks-memory.png');
  }
  return written;
}
