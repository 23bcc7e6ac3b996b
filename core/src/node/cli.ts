/**
 * enlarge — the command-line host: files in → engine → files out.
 *
 *   enlarge INPUT... [-o OUT] [--preset auto|photo|face|graphics|faithful] [--model ID|FILE.onnx]
 *           [--scale N | --width PX | --height PX] [--denoise L] [--best] [--tile N] [--tta]
 *           [--regions on|off] [--region-map PATH] [--face-model FACE.onnx]
 *           [--format png|tiff|jpg|webp] [--quality Q] [--shard K/N] [--report FILE.jsonl]
 *   enlarge models
 *
 * PNG and TIFF results are streamed to disk band by band (writers.ts), so memory does not grow with the
 * output size; JPEG and WebP are encoded by sharp from the whole result. Every failure a user can meet
 * ends in one plain sentence (errors.ts plus plainMessage, cli-messages.ts), never a stack trace; a result is written
 * to a temporary file beside the target and renamed when complete, so a failure or Ctrl-C leaves nothing.
 *
 * The pieces: the command line (cli-args.ts), its inputs (cli-inputs.ts) and outputs (cli-outputs.ts), the
 * batch (cli-batch.ts) of one-image jobs (cli-job.ts), reading (read-input.ts) and writing (writers.ts,
 * whole-writer.ts, cmyk.ts), the words for failures (cli-messages.ts), Ctrl-C (cli-stop.ts, cli-supervisor.ts).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createNodeEngine } from './index.js';
import { SURFACE_TILES } from '../tiling.js';
import type { Engine } from '../upscale/index.js';
import { isWorker, supervise } from './cli-supervisor.js';
import { UsageError } from './cli-guards.js';
import { addModels, jobRequest, listModels, parseCommand } from './cli-args.js';
import { collectInputs, inShard } from './cli-inputs.js';
import { resolveOutputs } from './cli-outputs.js';
import { isUsage, plainMessage } from './cli-messages.js';
import { readHeaders, runBatch } from './cli-batch.js';
import { Stop } from './cli-stop.js';

/** Chained passes (factors above the largest native scale) hold each intermediate image whole: core's planner refuses more. */
const MAX_INTERMEDIATE_BYTES = 1.5e9;

/** The CLI: the command line checked (inspect), every input's header read, the batch run and written. */
export async function main(argv: string[]): Promise<number> {
  const args = parseCommand(argv);
  if ('exit' in args) return args.exit;
  const v = args.values;
  // libvips' operation cache would keep the decoded input alive next to our copy of it.
  sharp.cache(false);
  let engine: Engine | undefined;
  const stop = new Stop();
  stop.listen();
  try {
    if (args.positionals[0] === 'models' && args.positionals.length === 1) {
      await listModels();
      return 0;
    }
    if (args.positionals.length === 0) throw new UsageError('Give at least one image or folder.');
    // Inspect: the options first (a wrong command line fails before any file is touched), then the inputs.
    const request = jobRequest(v);
    const { shard, options } = request;
    const all = await collectInputs(args.positionals);
    const inputs = shard ? all.filter((i) => inShard(i.key, shard.k, shard.n)) : all;
    if (shard && inputs.length === 0) {
      console.error(`enlarge: shard ${shard.k}/${shard.n} has no images (of ${all.length}).`);
      return 0;
    }

    // PNG/TIFF are streamed, so the engine's own 400 MP cap is lifted to the formats' 65,535² here;
    // JPEG/WebP are held whole and checked against MAX_WHOLE_PIXELS before any work.
    engine = createNodeEngine({
      limits: { maxOutputPixels: 65535 * 65535, maxOutputSide: 65535, maxIntermediateBytes: MAX_INTERMEDIATE_BYTES },
      tiles: SURFACE_TILES.cli,
    });
    await addModels(engine, v, options);
    const out = await resolveOutputs(v, inputs.length > 1, request.explicitFormat);

    // Read, run, write: the headers of every input, then one image after another.
    const { headers, outMPOf, batch } = await readHeaders(inputs, options);
    const setup = {
      engine,
      request,
      values: v,
      out,
      many: inputs.length > 1,
      batch,
      warned: new Set<string>(),
      stop,
      done: [],
    };
    return await runBatch(inputs, headers, outMPOf, setup);
  } catch (err) {
    if (process.env.ENLARGE_DEBUG === '1') console.error((err as Error)?.stack ?? err);
    if (err instanceof UsageError) {
      console.error(`enlarge: ${err.message}\nRun "enlarge --help" for usage.`);
      return 2;
    }
    console.error(`enlarge: ${plainMessage(err)}`);
    return isUsage(err) ? 2 : 1;
  } finally {
    stop.unlisten();
    await engine?.dispose().catch(() => {});
  }
}

// Run when executed directly (bundled to core/dist/cli.js, through the `enlarge` bin link, or via tsx).
function invokedDirectly(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** Runs the CLI and exits with its code; nothing escapes as a stack trace. */
export function run(argv: string[]): void {
  // The job runs in a worker process so that a signal is answered even inside a long native call.
  if (!isWorker()) return supervise(argv, fileURLToPath(import.meta.url));
  process.on('uncaughtException', (err) => {
    console.error(`enlarge: ${plainMessage(err)}`);
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    console.error(`enlarge: ${plainMessage(err)}`);
    process.exit(1);
  });
  main(argv).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`enlarge: ${plainMessage(err)}`);
      process.exit(1);
    },
  );
}

if (invokedDirectly()) run(process.argv.slice(2));
