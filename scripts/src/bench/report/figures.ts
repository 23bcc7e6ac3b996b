/** The bench report's derived figures: rates, ratios, number formats, and every side-by-side comparison. */
import type { BenchResults, RuntimeRun } from '../types.js';
import type { ModelRow } from '../worker.js';

export const PURPOSE: Record<string, string> = {
  'realesrgan-x4fast': 'photo, fast',
  'realesrgan-x4plus': 'photo, quality',
  'animevideov3-x4': 'graphics, animevideov3',
  'realcugan-x2-conservative': 'graphics, Real-CUGAN',
  'waifu2x-cunet-x2': 'graphics, waifu2x CUNet',
  'anime4k-x2-s-an': 'faithful, Anime4K CNN S',
  'anime4k-x2-m-an': 'faithful, Anime4K CNN M',
  'anime4k-x2-l-an': 'faithful, Anime4K CNN L',
};

export const mp = (side: number) => (side * side) / 1e6;
/** Input megapixels per second. */
export const rate = (side: number, ms: number) => mp(side) / (ms / 1000);

export function rowRate(r: ModelRow): number {
  return rate(r.size, r.single.wall.min);
}

export function runtime(res: BenchResults, backend: 'node' | 'wasm', threads?: number): RuntimeRun | undefined {
  return res.runtimes.find(
    (r) => r.backend === backend && (threads === undefined || r.threads === threads) && !r.error,
  );
}

export function modelRow(
  res: BenchResults,
  model: string,
  backend: 'node' | 'wasm',
  threads?: number,
): ModelRow | undefined {
  return runtime(res, backend, threads)?.rows.find((r) => r.model === model);
}

/** "12.3× faster" / "0.93× (they are 1.08× faster)"; ratio = our rate / their rate. */
export function ratioText(r: number | undefined, them = 'they are'): string {
  if (r === undefined || !Number.isFinite(r)) return '—';
  if (r >= 1) return `**${times(r)}** faster`;
  return `${fmt(r, 2)}× (${them} ${times(1 / r)} faster)`;
}

export function fmt(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function ms(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  return v >= 10_000 ? `${fmt(v / 1000, 1)} s` : `${fmt(v, 0)} ms`;
}

export function mb(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${fmt(v, 0)} MB`;
}

export const SHORT_PEER: Record<string, string> = {
  'upscayl-x4fast': 'Upscayl engine, x4fast, SwiftShader',
  'upscayl-x4plus': 'Upscayl engine, x4plus, SwiftShader',
  'realcugan-cpu': 'realcugan-ncnn CPU, Real-CUGAN 2×',
  'waifu2x-cpu': 'waifu2x-ncnn CPU, CUNet 2×',
  'waifu2x-vulkan': 'waifu2x-ncnn, CUNet 2×, SwiftShader',
};

/** "12×", "1.8×", "0.93×". */
export function times(r: number): string {
  return `${fmt(r, r >= 10 ? 0 : r >= 2 ? 1 : 2)}×`;
}

export interface Comparison {
  group: string;
  label: string;
  peer: string;
  peerRate: number;
  ours: string;
  ourRate: number;
  /** ourRate / peerRate. */
  ratio: number;
}

/** Every side-by-side comparison of the run, as input-megapixel rates. */
export function comparisons(res: BenchResults): Comparison[] {
  const out: Comparison[] = [];
  const push = (c: Omit<Comparison, 'ratio'>) => {
    if (c.peerRate > 0 && c.ourRate > 0) out.push({ ...c, ratio: c.ourRate / c.peerRate });
  };
  for (const p of res.peers) {
    if (!p.theirs || !p.ours || p.correct === false) continue;
    push({
      group: 'process',
      label: `${SHORT_PEER[p.id] ?? p.peer} · ${p.size}² (process)`,
      peer: `${p.engine} ${p.peerModel}`,
      peerRate: rate(p.size, p.theirs.wall.min),
      ours: `our CLI ${p.ourModel}`,
      ourRate: rate(p.size, p.ours.wall.min),
    });
  }
  for (const u of res.upscalerjs) {
    if ('error' in u) continue;
    const theirs = rate(u.size, u.time.min);
    const ourModel = u.model === 'esrgan-thick' ? 'realesrgan-x4plus' : 'realesrgan-x4fast';
    const w1 = modelRow(res, ourModel, 'wasm', 1);
    const short = `UpscalerJS ${u.model.replace('esrgan-', '')} vs ${ourModel.replace('realesrgan-', '')}`;
    if (w1)
      push({
        group: 'in-process',
        label: `${short} · ${u.size}² (WASM 1 thread)`,
        peer: `UpscalerJS ${u.model} (tfjs WASM)`,
        peerRate: theirs,
        ours: `${ourModel} onnxruntime-web WASM 1 thread`,
        ourRate: rowRate(w1),
      });
    const n = modelRow(res, ourModel, 'node');
    if (n)
      push({
        group: 'in-process',
        label: `${short} · ${u.size}² (our onnxruntime-node)`,
        peer: `UpscalerJS ${u.model} (tfjs WASM)`,
        peerRate: theirs,
        ours: `${ourModel} onnxruntime-node`,
        ourRate: rowRate(n),
      });
  }
  const x4 = modelRow(res, 'realesrgan-x4fast', 'node');
  if (res.floor && x4)
    push({
      group: 'floor',
      label: `sharp Lanczos-3 (no AI) vs x4fast · ${res.floor.size}²`,
      peer: 'sharp Lanczos-3',
      peerRate: rate(res.floor.size, res.floor.time.min),
      ours: 'realesrgan-x4fast onnxruntime-node',
      ourRate: rowRate(x4),
    });
  return out;
}
