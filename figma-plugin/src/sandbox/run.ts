/// <reference types="@figma/plugin-typings" />
/** A run: plan, each image to the panel and back as Figma images, then the write; and the preview's source. */
import { describeError, HostStateError, resolveTarget } from '@enlarge/core';
import {
  FIGMA_MAX_IMAGE_SIDE,
  SELECTION_WALK_LIMIT,
  formatFactor,
  gifFrameCount,
  type Settings,
  type UiToSandbox,
} from '../shared.js';
import { animatedGifMessage, collectTargets, quote } from './collect.js';
import { apply, inventedSummary } from './apply.js';
import { factorFor, planRun, type PlacedCell } from './plan.js';
import type { RunState, Session } from './session.js';
import { imageFor } from './write-target.js';

export async function preview(ss: Session, requestId: number, s: Settings) {
  try {
    const t = collectTargets(ss.figma.currentPage.selection, ss.figma.mixed, SELECTION_WALK_LIMIT).targets[0];
    if (!t) throw new HostStateError(ss.selectionSummary().problem ?? 'Select a layer with an image fill.');
    const { image, size } = await imageFor(ss.figma, t.hash, t.nodeName);
    const bytes = await image.getBytesAsync();
    if (gifFrameCount(bytes) > 1) throw new HostStateError(animatedGifMessage(t.nodeName));
    let factor = factorFor(t, size, s);
    if (!(factor > 1)) factor = 2; // the preview still shows what the model does
    const out = resolveTarget(size.width, size.height, { scale: factor });
    ss.post({
      type: 'preview-source',
      requestId,
      bytes,
      settings: s,
      image: { index: 0, label: t.nodeName, ...size, factor, outWidth: out.width, outHeight: out.height },
    });
  } catch (err) {
    ss.post({
      type: 'error',
      message:
        err instanceof HostStateError
          ? err.message
          : `The preview could not start: ${describeError(err, 'plugin').message}`,
    });
  }
}

export function failureMessage(err: unknown): string {
  return err instanceof HostStateError ? err.message : `${describeError(err, 'plugin').message} Nothing was changed.`;
}

/** One run of the settings over the selection: the outcome for the panel, or for the hidden panel's notification. */
export async function run(
  ss: Session,
  s: Settings,
): Promise<{ ok: true; summary: string; short: string } | { ok: false; message: string }> {
  if (ss.current) {
    ss.post({ type: 'error', message: 'A run is already in progress. Wait for it or cancel it.' });
    return { ok: false, message: 'A run is already in progress.' };
  }
  const runId = ++ss.runSeq;
  const state: RunState = { runId };
  ss.current = state;
  const check = () => {
    if (state.stopped) throw new HostStateError(state.stopped);
  };
  try {
    const summary = ss.selectionSummary();
    if (summary.problem) throw new HostStateError(summary.problem);
    const { jobs, skipped } = await planRun(ss.figma, ss.catalog, s, ss.selection?.());
    check();
    ss.post({
      type: 'run-start',
      runId,
      images: jobs.map(({ index, label, width, height, factor, outWidth, outHeight }) => ({
        index,
        label,
        width,
        height,
        factor,
        outWidth,
        outHeight,
      })),
      skipped,
    });

    for (const job of jobs) {
      check();
      const { image } = await imageFor(ss.figma, job.hash, job.label);
      const bytes = await image.getBytesAsync();
      check();
      if (gifFrameCount(bytes) > 1) throw new HostStateError(animatedGifMessage(job.label));
      const { index, label, width, height, factor, outWidth, outHeight } = job;
      ss.progress(`Enlarging ${index + 1} of ${jobs.length}: ${label} (${formatFactor(factor)})…`);
      const answer = await new Promise<UiToSandbox>((resolve, reject) => {
        state.pending = { index: job.index, resolve, reject };
        ss.post({
          type: 'image',
          runId,
          index,
          bytes,
          settings: s,
          image: { index, label, width, height, factor, outWidth, outHeight },
        });
      });
      state.pending = undefined;
      check();
      if (answer.type === 'image-failed')
        throw new HostStateError(`${quote(job.label)}: ${answer.message} Nothing was changed.`);
      if (answer.type !== 'result')
        throw new HostStateError('The panel sent an unexpected answer. Nothing was changed.');
      const cells: PlacedCell[] = [];
      for (const cell of answer.cells) {
        if (cell.width > FIGMA_MAX_IMAGE_SIDE || cell.height > FIGMA_MAX_IMAGE_SIDE)
          throw new HostStateError(
            `A result tile of ${quote(job.label)} is over Figma's ${FIGMA_MAX_IMAGE_SIDE} px limit. Nothing was changed.`,
          );
        let img: Image;
        try {
          img = ss.figma.createImage(cell.png);
        } catch (err) {
          throw new HostStateError(
            `Figma refused the enlarged image of ${quote(job.label)} (${(err as Error).message}). Nothing was changed.`,
          );
        }
        // Figma has the image now: keep its hash and place, let the PNG bytes go (a run can be many MB).
        (cell as { png?: Uint8Array }).png = undefined;
        cells.push({ x: cell.x, y: cell.y, width: cell.width, height: cell.height, hash: img.hash });
      }
      job.result = { width: answer.width, height: answer.height, cells, invented: answer.invented };
    }

    check();
    ss.progress('Enlarge: writing the results…');
    const done = await apply(ss, jobs, s);
    const msg = [done.text, inventedSummary(jobs), ...skipped].filter(Boolean).join(' ');
    ss.post({ type: 'run-done', runId, summary: msg });
    if (!ss.quick) ss.figma.notify(done.short);
    const short = skipped.length ? `${done.short} ${skipped.length} left alone.` : done.short;
    return { ok: true, summary: msg, short };
  } catch (err) {
    const message = failureMessage(err);
    ss.post({ type: 'run-failed', runId, message });
    return { ok: false, message };
  } finally {
    if (ss.current === state) ss.current = undefined;
  }
}
