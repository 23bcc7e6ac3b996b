/// <reference types="@figma/plugin-typings" />
/** A run's plan before any pixels move: the fills to write, grouped into jobs (same image and factor), every size checked. */
import { describeError, HostStateError, planJob, type Catalog } from '@enlarge/core';
import {
  FIGMA_PLAN_POLICY,
  MAX_FIT_FACTOR,
  MAX_RUN_IMAGES,
  RUN_WALK_LIMIT,
  fitFactor,
  type JobImage,
  type Settings,
} from '../shared.js';
import { collectTargets, labelFor, quote, summarize, type FillTarget } from './collect.js';
import { imageFor, resolveWrite } from './write-target.js';

/** A result cell once Figma has the image: geometry and hash only (the PNG bytes are let go at once). */
export interface PlacedCell {
  x: number;
  y: number;
  width: number;
  height: number;
  hash: string;
}

export interface Job extends JobImage {
  hash: string;
  /** Why the result would be over the plugin's limits (core's ImageTooLargeError message). */
  tooLarge?: string;
  targets: FillTarget[];
  /** Filled when the UI answers: one Figma image per grid cell. */
  result?: { width: number; height: number; cells: PlacedCell[]; invented?: number };
}

/** The factor for one fill under the settings (fit for export depends on the node and paint). */
export function factorFor(t: FillTarget, size: { width: number; height: number }, s: Settings): number {
  if (s.scale !== 'fit') return Number(s.scale);
  return Math.min(
    MAX_FIT_FACTOR,
    fitFactor(t.nodeWidth, t.nodeHeight, size.width, size.height, s.exportScale, t.paint),
  );
}

/** The whole plan of a run: every check that needs no pixels, before anything is sent to the UI. */
export async function planRun(
  figma: PluginAPI,
  catalog: Catalog,
  s: Settings,
  /** The layers to enlarge: the selection now, or (menu commands, H4) the one the command started with. */
  selection: readonly SceneNode[] = figma.currentPage.selection,
): Promise<{ jobs: Job[]; skipped: string[] }> {
  const collected = collectTargets(selection, figma.mixed, RUN_WALK_LIMIT);
  if (collected.capped)
    throw new HostStateError(
      `The selection has more than ${RUN_WALK_LIMIT.toString().replace(/\B(?=(\d{3})+$)/g, ',')} layers, too many to search. Select fewer or smaller frames. Nothing was changed.`,
    );
  const summary = summarize(collected, selection.length);
  if (summary.problem) throw new HostStateError(summary.problem);
  const skipped: string[] = [];
  let targets = collected.targets;
  if (s.output === 'replace') {
    const kept: FillTarget[] = [];
    const writes = new Set<string>();
    for (const t of targets) {
      const w = await resolveWrite(figma, t);
      if ('skip' in w) {
        skipped.push(w.skip);
        continue;
      }
      const key = `${w.kind}:${w.id}:${t.paintIndex}`;
      if (writes.has(key)) continue; // e.g. two instances showing the same main component's image
      writes.add(key);
      kept.push({ ...t, write: w });
    }
    targets = kept;
  }
  if (collected.hidden)
    skipped.push(
      `${collected.hidden} hidden image fill${collected.hidden > 1 ? 's were' : ' was'} left alone (hidden layers and fills are not enlarged).`,
    );
  const planned = await planJobs(figma, catalog, targets, s);
  skipped.push(...planned.skipped);
  if (planned.jobs.length > MAX_RUN_IMAGES)
    throw new HostStateError(
      `The selection has ${planned.jobs.length} different images to enlarge; one run takes at most ${MAX_RUN_IMAGES}. Select fewer layers and run again. Nothing was changed.`,
    );
  if (planned.jobs.length === 0)
    throw new HostStateError(
      skipped.length ? `Nothing to do: ${skipped.join(' ')}` : 'Nothing to enlarge in the selection.',
    );
  return { jobs: planned.jobs, skipped };
}

/** Groups the fills into jobs (same image and factor → enlarged once) and checks the sizes. */
async function planJobs(
  figma: PluginAPI,
  catalog: Catalog,
  targets: FillTarget[],
  s: Settings,
): Promise<{ jobs: Job[]; skipped: string[] }> {
  const byKey = new Map<string, Job>();
  const skipped: string[] = [];
  const sizes = new Map<string, { width: number; height: number }>();
  for (const t of targets) {
    let size = sizes.get(t.hash);
    if (!size) sizes.set(t.hash, (size = (await imageFor(figma, t.hash, t.nodeName)).size));
    const factor = factorFor(t, size, s);
    if (!(factor > 1)) {
      skipped.push(`${quote(t.nodeName)} already has enough pixels for ${s.exportScale}× export.`);
      continue;
    }
    const key = `${t.hash}@${factor}`;
    let job = byKey.get(key);
    if (!job) {
      // core's planner: the exact output size, and whether every step of the job fits the plugin's limits.
      let plan;
      try {
        plan = planJob(size, { preset: s.preset, scale: factor }, catalog, FIGMA_PLAN_POLICY);
      } catch (err) {
        throw new HostStateError(`${quote(t.nodeName)}: ${describeError(err, 'plugin').message} Nothing was changed.`);
      }
      job = {
        index: byKey.size,
        label: t.nodeName,
        width: size.width,
        height: size.height,
        factor,
        outWidth: plan.output.width,
        outHeight: plan.output.height,
        hash: t.hash,
        targets: [],
        tooLarge: plan.tooLarge?.message,
      };
      byKey.set(key, job);
    }
    job.targets.push(t);
  }
  const jobs = [...byKey.values()];
  for (const j of jobs) {
    j.label = labelFor(j.targets);
    if (j.tooLarge) throw new HostStateError(`${quote(j.label)}: ${j.tooLarge} Nothing was changed.`);
  }
  return { jobs, skipped };
}
