/**
 * The CLI's batch: every input's header read first (sizes for the batch ETA, and bad files known before hours
 * of work), then one image after another (./cli-job.ts), each failure said in one sentence and reported, and
 * the closing count. Returns the exit code.
 */
import { basename } from 'node:path';
import { AbortError, InvalidOptionError, UnknownModelError } from '../errors.js';
import { resolveTarget, type UpscaleOptions } from '../upscale/index.js';
import { isUsage, plainMessage, SkipError } from './cli-messages.js';
import { readHeader, type Header } from './read-input.js';
import type { Input } from './cli-inputs.js';
import type { Batch } from './cli-progress.js';
import { enlargeOne, type JobSetup, type JobTrace } from './cli-job.js';
import { collectGarbage } from './gc.js';

/** Each input's header (or why it cannot be read), and the batch's progress over their output megapixels. */
export async function readHeaders(
  inputs: readonly Input[],
  options: UpscaleOptions,
): Promise<{ headers: Map<string, Header | Error>; outMPOf: (file: string) => number; batch: Batch }> {
  const headers = new Map<string, Header | Error>();
  for (const { file } of inputs) headers.set(file, await readHeader(file).catch((e: Error) => e));
  const outMPOf = (file: string) => {
    const h = headers.get(file);
    if (!h || h instanceof Error) return 0;
    try {
      const t = resolveTarget(h.width, h.height, options);
      return (t.width * t.height) / 1e6;
    } catch {
      return 0;
    }
  };
  const batch: Batch = {
    total: inputs.length,
    index: 0,
    startedAt: Date.now(),
    doneMP: 0,
    doneMs: 0,
    remainingMP: inputs.reduce((a, i) => a + outMPOf(i.file), 0),
  };
  return { headers, outMPOf, batch };
}

/** Enlarges the inputs one after another; the exit code: 0, 1 (an image failed), 2 (the command line), 130/143. */
export async function runBatch(
  inputs: readonly Input[],
  headers: Map<string, Header | Error>,
  outMPOf: (file: string) => number,
  s: JobSetup,
): Promise<number> {
  const { batch, stop, done } = s;
  const report = s.out.report;
  const skipped: { file: string; reason: string }[] = [];
  const failed: { file: string; reason: string }[] = [];
  let usageFailure = false;
  for (const { file: input } of inputs) {
    if (stop.signalled) break;
    batch.index++;
    const label = basename(input);
    const t0 = Date.now();
    const mp = outMPOf(input);
    const trace: JobTrace = {};
    collectGarbage(true); // the last image's buffers go before this one is read (./gc.ts)
    try {
      const header = headers.get(input)!;
      if (header instanceof Error) throw header;
      await enlargeOne(input, header, mp, t0, trace, s);
    } catch (err) {
      const { target, modelIds } = trace;
      batch.remainingMP -= mp;
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      if (err instanceof AbortError && stop.signalled) {
        await report({ input, output: target, status: 'cancelled', reason: 'cancelled', timeMs: Date.now() - t0 });
        break;
      }
      const code = (err as NodeJS.ErrnoException)?.code ?? '';
      const reason = plainMessage(err, ['ENOSPC', 'EDQUOT', 'EFBIG'].includes(code) ? target : input);
      if (process.env.ENLARGE_DEBUG === '1') console.error((err as Error)?.stack ?? err);
      if (err instanceof SkipError && inputs.length > 1) {
        skipped.push({ file: input, reason: 'the result exists' });
        console.error(`enlarge: ${label}: skipped, ${target} exists (use --overwrite to replace it)`);
        await report({ input, output: target, status: 'skipped', reason });
        continue;
      }
      failed.push({ file: input, reason });
      console.error(`enlarge: ${label}: ${reason}`);
      await report({ input, output: target, model: modelIds, status: 'failed', reason, timeMs: Date.now() - t0 });
      if (isUsage(err)) usageFailure = true;
      // A wrong model or option fails every image alike: stop there.
      if (err instanceof InvalidOptionError || err instanceof UnknownModelError) break;
    }
  }
  if (stop.signalled) {
    console.error(
      `enlarge: cancelled (${stop.signalled}); ${done.length} done, the image in progress was not written.`,
    );
    return stop.signalled === 'SIGINT' ? 130 : 143;
  }
  if (inputs.length > 1) {
    const parts = [`${done.length} done`];
    if (skipped.length) parts.push(`${skipped.length} skipped (result exists)`);
    if (failed.length) parts.push(`${failed.length} failed`);
    console.error(`enlarge: ${parts.join(', ')}${failed.length ? ':' : '.'}`);
    for (const f of failed) console.error(`  ${f.file}: ${f.reason}`);
  }
  if (failed.length) return inputs.length === 1 && usageFailure ? 2 : 1;
  return 0;
}
