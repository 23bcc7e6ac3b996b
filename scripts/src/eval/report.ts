/**
 * Aggregation and rendering of evaluation results: mean tables (per category and overall, per
 * degradation), confusion tables for the auto preset, and the Markdown / JSON documents.
 */
import type { Scores } from './metrics.js';

export const CATEGORIES = ['photo', 'face', 'graphics'] as const;
export type Category = (typeof CATEGORIES)[number];
export const DEGRADATIONS = ['clean', 'realistic'] as const;
export type Degradation = (typeof DEGRADATIONS)[number];

export interface MethodResult extends Scores {
  /** Wall time of the upscale, milliseconds (for shared results: the run that produced them). */
  ms: number;
  /** Model ids (engine methods) or a description (baselines). */
  models: string[];
  /** Blockiness of the result (./metrics.ts `blockiness`), realistic (JPEG) inputs only. */
  blockiness?: number;
}

export interface ImageResult {
  file: string;
  category: Category;
  width: number;
  height: number;
  /** What the auto preset predicts from the original file, and from each low-resolution input. */
  autoOriginal: Category;
  auto: Record<Degradation, Category>;
  jpegBytes: number;
  results: Record<Degradation, Record<string, MethodResult>>;
  sheet?: string;
}

export interface MethodInfo {
  id: string;
  label: string;
  description: string;
}

export interface Summary {
  n: number;
  psnrY: number;
  ssimY: number;
  gmsd: number;
  ms: number;
  /** Mean blockiness, where the results have it. */
  blockiness?: number;
}

export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

export function summarize(
  images: ImageResult[],
  degradation: Degradation,
  method: string,
  category?: Category,
): Summary | undefined {
  const rs = images
    .filter((i) => !category || i.category === category)
    .map((i) => i.results[degradation][method])
    .filter((r): r is MethodResult => !!r);
  if (!rs.length) return undefined;
  return {
    n: rs.length,
    psnrY: mean(rs.map((r) => r.psnrY)),
    ssimY: mean(rs.map((r) => r.ssimY)),
    gmsd: mean(rs.map((r) => r.gmsd)),
    ms: mean(rs.map((r) => r.ms)),
    ...(rs.every((r) => r.blockiness !== undefined) ? { blockiness: mean(rs.map((r) => r.blockiness!)) } : {}),
  };
}

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : v > 0 ? '∞' : '–');
const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '–');
const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '–');

/** Markdown table: rows = methods, columns = categories + all; cells "PSNR / SSIM / GMSD"; best per column in bold. */
export function meanTable(images: ImageResult[], degradation: Degradation, methods: MethodInfo[]): string {
  const cols: (Category | undefined)[] = [...CATEGORIES.filter((c) => images.some((i) => i.category === c)), undefined];
  const head = [
    'method',
    ...cols.map((c) => `${c ?? 'all'} (${images.filter((i) => !c || i.category === c).length})`),
    's / image',
  ];
  const sums = methods.map((m) => cols.map((c) => summarize(images, degradation, m.id, c)));
  const best = cols.map((_, ci) => {
    const vals = sums.map((s) => s[ci]).filter((s): s is Summary => !!s);
    return {
      psnr: Math.max(...vals.map((s) => s.psnrY)),
      ssim: Math.max(...vals.map((s) => s.ssimY)),
      gmsd: Math.min(...vals.map((s) => s.gmsd)),
    };
  });
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  methods.forEach((m, mi) => {
    const row = sums[mi]!;
    if (row.every((s) => !s)) return;
    const cells = row.map((s, ci) => {
      if (!s) return '';
      const b = best[ci]!;
      const p = s.psnrY === b.psnr ? `**${f2(s.psnrY)}**` : f2(s.psnrY);
      const q = s.ssimY === b.ssim ? `**${f3(s.ssimY)}**` : f3(s.ssimY);
      const g = s.gmsd === b.gmsd ? `**${f3(s.gmsd)}**` : f3(s.gmsd);
      return s.blockiness !== undefined ? `${p} / ${q} / ${g} / ${f2(s.blockiness)}` : `${p} / ${q} / ${g}`;
    });
    const all = row[row.length - 1];
    lines.push(`| ${m.label} | ${cells.join(' | ')} | ${all ? (all.ms / 1000).toFixed(2) : ''} |`);
  });
  return lines.join('\n');
}

/** Confusion matrix (rows = truth, columns = predicted) and accuracy. */
export function confusion(
  pairs: [string, string][],
  labels: readonly string[],
): { table: string; correct: number; total: number } {
  const count = (t: string, p: string) => pairs.filter(([a, b]) => a === t && b === p).length;
  const lines = [
    `| truth \\ predicted | ${labels.join(' | ')} | recall |`,
    `|---|${labels.map(() => '---:').join('|')}|---:|`,
  ];
  let correct = 0;
  for (const t of labels) {
    const row = labels.map((p) => count(t, p));
    const total = row.reduce((a, b) => a + b, 0);
    const hit = count(t, t);
    correct += hit;
    if (total) lines.push(`| ${t} | ${row.join(' | ')} | ${hit}/${total} |`);
  }
  return { table: lines.join('\n'), correct, total: pairs.length };
}

export function autoSection(images: ImageResult[]): string {
  const out: string[] = [];
  const sets: [string, (i: ImageResult) => Category][] = [
    ['the original files (as `scripts/src/eval-auto.ts` measures)', (i) => i.autoOriginal],
    ['the clean ×4-down inputs (what the engine analyses in this evaluation)', (i) => i.auto.clean],
    ['the realistic inputs (×4 down + JPEG q70)', (i) => i.auto.realistic],
  ];
  for (const [what, pick] of sets) {
    const three = confusion(
      images.map((i) => [i.category, pick(i)]),
      CATEGORIES,
    );
    const two = confusion(
      images.map((i) => [
        i.category === 'graphics' ? 'graphics' : 'photo',
        pick(i) === 'graphics' ? 'graphics' : 'photo',
      ]),
      ['photo', 'graphics'],
    );
    out.push(
      `**Auto on ${what}:** 3-way ${three.correct}/${three.total} (${pct(three.correct, three.total)}), photo-vs-graphics ${two.correct}/${two.total} (${pct(two.correct, two.total)}).\n`,
    );
    out.push(three.table + '\n');
  }
  return out.join('\n');
}

function pct(a: number, b: number): string {
  return b ? `${((100 * a) / b).toFixed(0)} %` : '–';
}

export function perImageTable(images: ImageResult[], degradation: Degradation, methods: MethodInfo[]): string {
  const ms = methods.filter((m) => images.some((i) => i.results[degradation][m.id]));
  const lines = [
    `| image | auto | ${ms.map((m) => m.label).join(' | ')} |`,
    `|---|---|${ms.map(() => '---:').join('|')}|`,
  ];
  for (const i of images) {
    const cells = ms.map((m) => {
      const r = i.results[degradation][m.id];
      return r ? `${f2(r.psnrY)} / ${f3(r.ssimY)} / ${f3(r.gmsd)}` : '';
    });
    lines.push(`| ${i.file} | ${i.auto[degradation]} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export const MARK_START =
  '<!-- eval:generated:start (scripts/src/eval/run.ts rewrites this block; edit outside it) -->';
export const MARK_END = '<!-- eval:generated:end -->';

export interface RunInfo {
  dataset: string;
  datasetLabel: string;
  maxSide?: number;
  quick: boolean;
  date: string;
  seconds: number;
  upscalerjs?: string;
  cpu: string;
}

export function generatedBlock(
  info: RunInfo,
  images: ImageResult[],
  methods: MethodInfo[],
  sheetsRel: string[],
): string {
  const parts: string[] = [];
  const cats = CATEGORIES.map((c) => `${images.filter((i) => i.category === c).length} ${c}`).join(', ');
  parts.push(
    `_Generated by \`npm run eval\` on ${info.date} in ${(info.seconds / 60).toFixed(1)} min on ${info.cpu}; dataset ${info.datasetLabel} ` +
      `(${images.length} images: ${cats})` +
      (info.maxSide
        ? `, ground truth = centre crops of at most ${info.maxSide}×${info.maxSide} px (inputs at most ${info.maxSide / 4}×${info.maxSide / 4})`
        : '') +
      (info.quick ? ', **quick mode** (subset of methods)' : '') +
      `._\n`,
  );
  parts.push(
    'Each cell: mean **PSNR-Y (dB, higher is better) / SSIM-Y (higher is better) / GMSD (lower is better)**; best of each column in bold; on the JPEG input a fourth figure, blockiness (mean luma step across the input’s 8-px JPEG grid ÷ elsewhere; the truth ≈ 1, higher = blocks). "s / image" is the mean wall time of the ×4 upscale on this machine.\n',
  );
  parts.push('### Methods\n');
  parts.push(
    '| method | what runs |\n|---|---|\n' + methods.map((m) => `| ${m.label} | ${m.description} |`).join('\n') + '\n',
  );
  for (const d of DEGRADATIONS) {
    parts.push(
      `### ${d === 'clean' ? 'Clean input (bicubic ×4 down)' : 'Realistic input (bicubic ×4 down + JPEG quality 70)'}\n`,
    );
    parts.push(meanTable(images, d, methods) + '\n');
  }
  parts.push('### Auto-choice accuracy\n');
  parts.push(
    'Rows are the dataset folder (truth), columns what `auto` picked (the engine: the content detectors fused with `analyzeContent`, then `presetFor`).\n',
  );
  parts.push(autoSection(images));
  if (sheetsRel.length) {
    parts.push('### Contact sheets\n');
    parts.push(
      "One per image, the 128×128 ground-truth region with the most detail (largest sum of luma gradients), same crop from every method; top row clean input, bottom row JPEG input. The caption on each tile is that method's PSNR-Y over the whole image.\n",
    );
    parts.push(sheetsRel.map((s) => `- [${s.replace(/^.*\//, '')}](${s})`).join('\n') + '\n');
  }
  for (const d of DEGRADATIONS) {
    parts.push(
      `<details><summary>Per-image results, ${d} input (PSNR-Y / SSIM-Y / GMSD)</summary>\n\n${perImageTable(images, d, methods)}\n\n</details>\n`,
    );
  }
  return parts.join('\n');
}

/** Replaces the generated block inside an existing document, or returns a new document around it. */
export function mergeDocument(
  existing: string | undefined,
  block: string,
  template: (block: string) => string,
): string {
  const wrapped = `${MARK_START}\n${block}\n${MARK_END}`;
  if (existing) {
    const a = existing.indexOf(MARK_START),
      b = existing.indexOf(MARK_END);
    if (a >= 0 && b > a) return existing.slice(0, a) + wrapped + existing.slice(b + MARK_END.length);
  }
  return template(wrapped);
}

export { f2, f3, f4 };
