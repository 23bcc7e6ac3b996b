/**
 * One image of the CLI's batch: its result's name checked, a temporary file opened, the pixels read, the
 * engine run into the file (PNG/TIFF band by band, JPEG/WebP/CMYK whole), the file renamed into place, and
 * one line said. The provenance written into the result (XMP: models, factor, fidelity) and the warnings about
 * ignored options come from the plan the engine announces (`onPlan`) before its first band: the models named
 * are the models that ran, planned once.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { PixelImage } from '../image.js';
import {
  DEFAULT_BAND_ROWS,
  formatDuration,
  regionsLabel,
  resolveTarget,
  type Engine,
  type JobPlan,
  type UpscaleProgress,
  type UpscaleStreamResult,
} from '../upscale/index.js';
import { DEFAULTS } from '../defaults.js';
import { provenanceXmp } from './provenance.js';
import { announceDone, announceTemp } from './cli-supervisor.js';
import { ignoredOptions, tempName } from './cli-guards.js';
import { PngStreamWriter, TiffStreamWriter, type OutputMeta, type StreamWriter } from './writers.js';
import { CmykTiffStreamWriter, cmykNote, writeCmyk } from './cmyk.js';
import type { CliValues, JobRequest } from './cli-args.js';
import { checkTarget, mapTargetFor, openTemp, resultTarget, writeRegionMap, type Outputs } from './cli-outputs.js';
import { precheck, readImage, type Header, type OutFormat } from './read-input.js';
import { progressBar, type Batch } from './cli-progress.js';
import { collectGarbage } from './gc.js';
import { writeWhole } from './whole-writer.js';
import type { Stop } from './cli-stop.js';

/** Memory for one band handed to the writer. */
const BAND_BUDGET_BYTES = 4e6;

/** What every image of the command shares. */
export interface JobSetup {
  engine: Engine;
  request: JobRequest;
  values: CliValues;
  out: Outputs;
  /** More than one input (outputs and maps go to folders). */
  many: boolean;
  batch: Batch;
  /** Warnings said once per command. */
  warned: Set<string>;
  stop: Stop;
  /** Inputs finished. */
  done: string[];
}

/** What the batch's error handler reports of an image that failed: its target and the models it ran. */
export interface JobTrace {
  target?: string;
  modelIds?: string;
}

type Source = Awaited<ReturnType<typeof readImage>>;

/** The temporary result file; `fh` is undefined once closed. */
interface TempFile {
  tmp: string;
  fh: FileHandle | undefined;
}

/** Enlarges one input into its result file; throws (one plain sentence, ./cli-messages.ts) when it cannot. */
export async function enlargeOne(
  input: string,
  header: Header,
  mp: number,
  t0: number,
  trace: JobTrace,
  s: JobSetup,
): Promise<void> {
  const { options, explicitFormat } = s.request;
  const label = basename(input);
  const { target, format } = resultTarget(input, header, options, explicitFormat, s.out);
  trace.target = target;
  await checkTarget(target, input, s.values.overwrite);
  precheck(header, input, options, format);
  const file: TempFile = await openTemp(target);
  s.stop.tmp = file.tmp;
  const map = new MapStream(mapTargetFor(input, s.out), s.stop);
  try {
    const src = await readImage(input, header);
    s.stop.throwIfSignalled();
    const cmykSays = src.cmyk && cmykNote(input, src.cmyk);
    if (cmykSays) console.error(`enlarge: ${cmykSays}`);
    if ((header.meta.pages ?? 1) > 1)
      console.error(`enlarge: ${label}: has ${header.meta.pages} frames; only the first is enlarged.`);
    const res = await runEngine(src, format, file, map, progressBar(label, s.batch, mp), s);
    await map.finish();
    s.stop.throwIfSignalled();
    await rename(file.tmp, target);
    s.stop.tmp = undefined;
    await map.commit();
    trace.modelIds = res.models.map((m) => m.id).join(' → ');
    if (s.values['region-map'] !== undefined)
      await writeRegionMap(s.values['region-map'], s.many, input, src.image, res.regions);
    const ms = Date.now() - t0;
    s.batch.doneMP += mp;
    s.batch.remainingMP -= mp;
    const outW = resolveTarget(src.image.width, src.image.height, options).width;
    const outH = Math.round(src.image.height * res.factorY);
    console.log(`${label}: ${resultLine(src.image, outW, outH, trace.modelIds, res)} → ${target}`);
    if (res.invented)
      console.log(
        `${label}: ${(100 * res.invented.share).toFixed(1)} % of the image has invented detail to check (map ≥ ${res.invented.level}) → ${map.target}`,
      );
    s.done.push(input);
    announceDone(s.done.length);
    await s.out.report({
      input,
      output: target,
      model: trace.modelIds,
      width: src.image.width,
      height: src.image.height,
      outputWidth: outW,
      outputHeight: outH,
      fidelity: options.fidelity,
      ...(res.invented ? { invented: res.invented.share, detailMap: map.target } : {}),
      timeMs: ms,
      status: 'done',
    });
  } finally {
    if (file.fh) await file.fh.close().catch(() => {});
    await map.close();
    if (s.stop.tmp) {
      await rm(s.stop.tmp, { force: true });
      s.stop.tmp = undefined;
    }
    await map.remove();
  }
}

/**
 * The engine's run into the temporary file. The result's metadata (the source's, its density scaled, and the
 * provenance) and the ignored-option warnings are made when the engine announces its plan, before any band.
 */
async function runEngine(
  src: Source,
  format: OutFormat,
  file: TempFile,
  map: MapStream,
  report: (p: UpscaleProgress) => void,
  s: JobSetup,
): Promise<UpscaleStreamResult> {
  const {
    engine,
    request: { options, quality },
  } = s;
  const signal = s.stop.signal;
  // A phase begun or a tile done: the garbage of the last one goes before the next one adds its own (./gc.ts).
  let last: UpscaleProgress | undefined;
  const onProgress = (p: UpscaleProgress) => {
    if (p.phase !== last?.phase || p.tilesDone !== last.tilesDone) collectGarbage();
    last = p;
    report(p);
  };
  // CMYK in, JPEG or TIFF out: written back as CMYK with the source's profile (./cmyk.ts).
  const cmykOut = src.cmyk && (format === 'jpg' || format === 'tiff') ? src.cmyk : undefined;
  const outW = resolveTarget(src.image.width, src.image.height, options).width;
  const density = (src.meta.density ?? 72) * (outW / src.image.width);
  let meta: OutputMeta | undefined;
  const onPlan = (plan: JobPlan) => {
    warnIgnored(plan, format, s);
    meta = {
      ...src.meta,
      density,
      xmp: provenanceXmp(src.meta.xmp, {
        models: plan.models.map((m) => m.id),
        factor: outW / src.image.width,
        fidelity: options.fidelity ?? DEFAULTS.fidelity,
        software: 'Enlarge',
      }),
    };
  };
  if (format === 'png' || format === 'tiff') {
    let writer: StreamWriter | undefined;
    const res = await engine.upscaleToSink(
      src.image,
      options,
      async ({ image: band, outputHeight }) => {
        if (!writer) {
          const shape = { width: band.width, height: outputHeight, channels: band.channels, bitDepth: band.bitDepth };
          const bigtiff = process.env.ENLARGE_BIGTIFF === '1' ? true : undefined;
          writer =
            format === 'png'
              ? await PngStreamWriter.open(file.fh!, shape, meta!)
              : cmykOut // a CMYK source: CMYK TIFF, band by band (./cmyk.ts)
                ? await CmykTiffStreamWriter.open(file.fh!, shape, meta!, cmykOut, bigtiff)
                : await TiffStreamWriter.open(file.fh!, shape, meta!, { bigtiff });
        }
        await writer.write(band);
      },
      {
        onPlan,
        onProgress,
        signal,
        onDetailMap: map.target ? map.write : undefined,
        bandRows: bandRows(src.image, outW),
      },
    );
    await writer!.finish();
    await file.fh!.close();
    file.fh = undefined;
    return res;
  }
  await file.fh!.close();
  file.fh = undefined;
  const whole = await engine.upscale(src.image, options, { onPlan, onProgress, signal });
  if (cmykOut) await writeCmyk(file.tmp, whole.image, format as 'jpg' | 'tiff', quality, meta!, cmykOut);
  else await writeWhole(file.tmp, whole.image, format, quality, meta!);
  if (whole.detailMap) await map.write({ image: whole.detailMap, outputHeight: whole.detailMap.height });
  return whole;
}

/** Rows per band handed to the writer: about BAND_BUDGET_BYTES of result (ENLARGE_BAND_ROWS sets it for tests). */
function bandRows(image: PixelImage, outW: number): number {
  const envBand = Number(process.env.ENLARGE_BAND_ROWS);
  return Number.isInteger(envBand) && envBand > 0
    ? envBand
    : Math.max(
        8,
        Math.min(DEFAULT_BAND_ROWS, Math.floor(BAND_BUDGET_BYTES / (outW * image.channels * (image.bitDepth / 8)))),
      );
}

/** An option the planned models ignore: said once per command. */
function warnIgnored(plan: JobPlan, format: OutFormat, s: JobSetup): void {
  const { options, quality } = s.request;
  const photoBest = s.engine.catalog.preset('photo').best ?? [];
  for (const w of ignoredOptions(
    { denoise: options.denoise, best: s.values.best, quality: s.values.quality !== undefined ? quality : undefined },
    plan.models,
    format,
    plan.models.some((m) => photoBest.includes(m.id)),
  ))
    if (!s.warned.has(w)) {
      s.warned.add(w);
      console.error(`enlarge: ${w}`);
    }
}

/** "W×H → W'×H' with models (auto: …) + regions, faces restored on backend (precisions) in time". */
function resultLine(image: PixelImage, outW: number, outH: number, modelIds: string, res: UpscaleStreamResult): string {
  const faces = res.analysis?.features['faces'];
  const found = faces === undefined ? '' : `, ${faces} face${faces === 1 ? '' : 's'}`;
  const auto = res.analysis ? ` (auto: ${res.analysis.kind}${res.analysis.portrait ? ', portrait' : ''}${found})` : '';
  const restoredFaces =
    res.facesRestored === undefined
      ? ''
      : res.facesRestored === 0
        ? ', no face found to restore'
        : `, ${res.facesRestored} face${res.facesRestored === 1 ? '' : 's'} restored`;
  const regionNote = res.regions?.length ? ` + ${regionsLabel(res.regions)}` : '';
  return `${image.width}×${image.height} → ${outW}×${outH} with ${modelIds}${auto}${regionNote}${restoredFaces} on ${res.backend} (${[...new Set(res.precisions)].join(' + ')}) in ${formatDuration(res.timings.totalMs)}`;
}

/** --detail-map: an 8-bit gray PNG streamed into a temporary file beside its target, renamed when whole. */
class MapStream {
  private readonly tmp: string | undefined;
  private fh: FileHandle | undefined;
  private writer: StreamWriter | undefined;

  constructor(
    readonly target: string | undefined,
    private readonly stop: Stop,
  ) {
    this.tmp = target ? join(dirname(target), tempName(basename(target))) : undefined;
  }

  readonly write = async ({ image: band, outputHeight }: { image: PixelImage; outputHeight: number }) => {
    if (!this.writer) {
      this.fh = await open(this.tmp!, 'w');
      this.stop.mapTmp = this.tmp;
      announceTemp(this.tmp!);
      this.writer = await PngStreamWriter.open(
        this.fh,
        { width: band.width, height: outputHeight, channels: 1, bitDepth: 8 },
        {},
      );
    }
    await this.writer.write(band);
  };

  async finish(): Promise<void> {
    if (!this.writer) return;
    await this.writer.finish();
    await this.fh!.close();
    this.fh = undefined;
  }

  /** Renames the finished map into place (after the result's own rename). */
  async commit(): Promise<void> {
    if (this.tmp && this.stop.mapTmp) {
      await rename(this.tmp, this.target!);
      this.stop.mapTmp = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.fh) await this.fh.close().catch(() => {});
  }

  /** Removes an unfinished map. */
  async remove(): Promise<void> {
    if (this.stop.mapTmp) {
      await rm(this.stop.mapTmp, { force: true });
      this.stop.mapTmp = undefined;
    }
  }
}
