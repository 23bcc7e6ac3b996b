/**
 * Contact sheets: the same ground-truth crop from every method side by side, one row per degradation,
 * labelled with an SVG overlay rendered by sharp (librsvg). Written as PNG, or JPEG q90 when the PNG would
 * exceed the size limit.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { writeFile } from 'node:fs/promises';
import { cropRgb, encodeRaw, type Rgb } from './images.js';
import { lumaY } from './metrics.js';

/** Top-left corner of the `size`² window of `img` with the most detail (sum of |∇Y|), `margin` px from the edges. */
export function mostDetailedCrop(img: Rgb, size: number, margin = 4): { x: number; y: number; size: number } {
  const s = Math.min(size, img.width - 2 * margin, img.height - 2 * margin);
  if (s <= 0) return { x: 0, y: 0, size: Math.min(img.width, img.height) };
  const Y = lumaY(img);
  const { width: w, height: h } = Y;
  // integral image of the gradient magnitude
  const I = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      const v = Y.data[y * w + x]!;
      const gx = x + 1 < w ? Math.abs(Y.data[y * w + x + 1]! - v) : 0;
      const gy = y + 1 < h ? Math.abs(Y.data[(y + 1) * w + x]! - v) : 0;
      row += gx + gy;
      I[(y + 1) * (w + 1) + x + 1] = I[y * (w + 1) + x + 1]! + row;
    }
  }
  const sum = (x: number, y: number) =>
    I[(y + s) * (w + 1) + x + s]! - I[y * (w + 1) + x + s]! - I[(y + s) * (w + 1) + x]! + I[y * (w + 1) + x]!;
  let best = -1,
    bx = margin,
    by = margin;
  const step = Math.max(1, Math.floor(s / 16));
  for (let y = margin; y + s <= h - margin; y += step) {
    for (let x = margin; x + s <= w - margin; x += step) {
      const v = sum(x, y);
      if (v > best) {
        best = v;
        bx = x;
        by = y;
      }
    }
  }
  // align to the scale grid so the input crop (nearest) lines up
  return { x: bx - (bx % 4), y: by - (by % 4), size: s - (s % 4) };
}

export interface SheetRow {
  label: string;
  sublabel?: string;
  tiles: Rgb[];
  /** Small caption drawn in each tile's bottom-left corner (e.g. the whole image's PSNR). */
  captions?: (string | undefined)[];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Renders rows of equally sized tiles with column headers and row labels. Returns the file written. */
export async function writeSheet(
  file: string,
  title: string,
  columns: string[],
  rows: SheetRow[],
  maxBytes = 200_000,
): Promise<{ file: string; bytes: number }> {
  const tile = rows[0]?.tiles[0];
  if (!tile) throw new Error('empty contact sheet');
  const tw = tile.width,
    th = tile.height;
  const gap = 4,
    labelW = 96,
    titleH = 20,
    headH = 30;
  const W = labelW + columns.length * (tw + gap);
  const H = titleH + headH + rows.length * (th + gap);
  const composites: OverlayOptions[] = [];
  rows.forEach((row, r) => {
    row.tiles.forEach((t, c) => {
      const { input, raw } = encodeRaw(t);
      composites.push({ input, raw, left: labelW + c * (tw + gap), top: titleH + headH + r * (th + gap) });
    });
  });
  const font = "font-family='DejaVu Sans, Liberation Sans, Arial, sans-serif'";
  const lines: string[] = [];
  lines.push(`<text x='6' y='14' ${font} font-size='12' font-weight='bold' fill='#111'>${esc(title)}</text>`);
  columns.forEach((c, i) => {
    const cx = labelW + i * (tw + gap) + tw / 2;
    const parts = c.split('\n');
    parts.forEach((p, k) => {
      lines.push(
        `<text x='${cx}' y='${titleH + 12 + k * 12}' text-anchor='middle' ${font} font-size='${k === 0 ? 11 : 9}' fill='${k === 0 ? '#111' : '#555'}'>${esc(p)}</text>`,
      );
    });
  });
  rows.forEach((row, r) => {
    const y = titleH + headH + r * (th + gap) + th / 2;
    lines.push(`<text x='6' y='${y}' ${font} font-size='11' font-weight='bold' fill='#111'>${esc(row.label)}</text>`);
    (row.sublabel ?? '').split('\n').forEach((p, k) => {
      if (p) lines.push(`<text x='6' y='${y + 14 + k * 11}' ${font} font-size='9' fill='#555'>${esc(p)}</text>`);
    });
    (row.captions ?? []).forEach((cap, c) => {
      if (!cap) return;
      const x = labelW + c * (tw + gap),
        yb = titleH + headH + r * (th + gap) + th;
      const wBox = Math.min(tw, 6 + cap.length * 5.6);
      lines.push(`<rect x='${x}' y='${yb - 13}' width='${wBox}' height='13' fill='#000' fill-opacity='0.6'/>`);
      lines.push(`<text x='${x + 3}' y='${yb - 3}' ${font} font-size='9' fill='#fff'>${esc(cap)}</text>`);
    });
  });
  const svg = `<svg xmlns='http://www.w3.org/2000/svg' width='${W}' height='${H}'>${lines.join('')}</svg>`;
  composites.push({ input: Buffer.from(svg), left: 0, top: 0 });
  const base = sharp({ create: { width: W, height: H, channels: 3, background: '#f4f4f4' } }).composite(composites);
  const flat = await base.raw().toBuffer({ resolveWithObject: true });
  const again = () =>
    sharp(flat.data, { raw: { width: flat.info.width, height: flat.info.height, channels: flat.info.channels } });
  const png = await again().png({ compressionLevel: 9, adaptiveFiltering: true }).toBuffer();
  if (png.length <= maxBytes) {
    const f = file.replace(/\.(png|jpe?g)$/i, '') + '.png';
    await writeFile(f, png);
    return { file: f, bytes: png.length };
  }
  let q = 90;
  let jpg = await again().jpeg({ quality: q, chromaSubsampling: '4:4:4' }).toBuffer();
  while (jpg.length > maxBytes && q > 60) {
    q -= 5;
    jpg = await again().jpeg({ quality: q, chromaSubsampling: '4:4:4' }).toBuffer();
  }
  const f = file.replace(/\.(png|jpe?g)$/i, '') + '.jpg';
  await writeFile(f, jpg);
  return { file: f, bytes: jpg.length };
}

/** Nearest-neighbour enlargement of the low-resolution crop to the tile size (shows the input's pixels). */
export function nearest(img: Rgb, scale: number): Rgb {
  const w = img.width * scale,
    h = img.height * scale;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const sy = Math.floor(y / scale);
    for (let x = 0; x < w; x++) {
      const s = (sy * img.width + Math.floor(x / scale)) * 3,
        d = (y * w + x) * 3;
      out[d] = img.data[s]!;
      out[d + 1] = img.data[s + 1]!;
      out[d + 2] = img.data[s + 2]!;
    }
  }
  return { width: w, height: h, channels: 3, data: out };
}

export { cropRgb };
