/// <reference types="@figma/plugin-typings" />
/**
 * The plugin's sandbox side (Figma's main thread): finds the image fills in the selection, sends their
 * bytes to the UI iframe (where the engine runs), and writes the results back in one undo step.
 *
 * The document is touched only at the very end of a run, after every image came back and every node was
 * checked to still exist with the same image: a cancel, an error, a deleted node or a closed plugin at any
 * earlier point leaves the document as it was (images made with figma.createImage are not part of the
 * document until a paint uses them).
 */
import { describeError, HostStateError, planJob, resolveTarget, type Catalog } from '@enlarge/core';
import {
  FIGMA_MAX_IMAGE_SIDE,
  FIGMA_PLAN_POLICY,
  MAX_FIT_FACTOR,
  fitFactor,
  formatFactor,
  gifFrameCount,
  sanitizeSettings,
  type JobImage,
  type ResultCell,
  type SandboxToUi,
  type SelectionSummary,
  type Settings,
  type UiToSandbox,
} from './shared.js';

export const UI_SIZE = { width: 320, height: 560 };
const SETTINGS_KEY = 'enlarge-settings';
const GAP = 40;

/** One IMAGE paint of one node. */
interface FillTarget {
  nodeId: string;
  nodeName: string;
  paintIndex: number;
  hash: string;
  paint: ImagePaint;
  nodeWidth: number;
  nodeHeight: number;
}

interface Job extends JobImage {
  hash: string;
  /** Why the result would be over the plugin's limits (core's ImageTooLargeError message). */
  tooLarge?: string;
  targets: FillTarget[];
  /** Filled when the UI answers: one Figma image per grid cell. */
  result?: { width: number; height: number; cells: { cell: ResultCell; hash: string }[] };
}

interface RunState {
  runId: number;
  /** Why the run stopped (cancel, close): checked after every await. */
  stopped?: string;
  /** The image the UI is working on. */
  pending?: { index: number; resolve: (m: UiToSandbox) => void; reject: (e: Error) => void };
}

type FillsNode = SceneNode & MinimalFillsMixin;

function hasFills(node: BaseNode): node is FillsNode {
  return 'fills' in node;
}

/** Every IMAGE paint (with an image) in `nodes` and their descendants, in document order, each node once. */
export function collectTargets(nodes: readonly SceneNode[], figmaMixed: unknown): FillTarget[] {
  const out: FillTarget[] = [];
  const seen = new Set<string>();
  const visit = (node: SceneNode) => {
    if (seen.has(node.id)) return;
    seen.add(node.id);
    if (hasFills(node) && node.fills !== figmaMixed && Array.isArray(node.fills)) {
      (node.fills as readonly Paint[]).forEach((p, i) => {
        if (p.type === 'IMAGE' && p.imageHash)
          out.push({
            nodeId: node.id,
            nodeName: node.name,
            paintIndex: i,
            hash: p.imageHash,
            paint: p,
            nodeWidth: node.width,
            nodeHeight: node.height,
          });
      });
    }
    if ('children' in node) for (const c of node.children) visit(c);
  };
  for (const n of nodes) visit(n);
  return out;
}

export function summarize(targets: FillTarget[], selected: number): SelectionSummary {
  const nodes = new Set(targets.map((t) => t.nodeId)).size;
  const images = new Set(targets.map((t) => t.hash)).size;
  let problem: string | undefined;
  if (selected === 0) problem = 'Select a layer with an image fill (or a frame or group that contains some).';
  else if (targets.length === 0)
    problem =
      'The selection has no image fills. Select a layer filled with an image, or a frame or group that contains one.';
  return { nodes, fills: targets.length, images, problem, firstName: targets[0]?.nodeName };
}

const quote = (name: string) => `“${name}”`;

function labelFor(targets: FillTarget[]): string {
  const names = [...new Set(targets.map((t) => t.nodeName))];
  return names.length === 1 ? names[0]! : `${names[0]} (+${names.length - 1} more)`;
}

/** Starts the plugin: `html` is the UI (Figma's `__html__`), `catalog` the models and presets the UI carries. */
export function startPlugin(figma: PluginAPI, html: string, catalog: Catalog): void {
  const presetIds = catalog.presets.map((p) => p.id);
  let settings: Settings = sanitizeSettings(undefined, presetIds);
  let runSeq = 0;
  let current: RunState | undefined;
  let closed = false;

  const post = (m: SandboxToUi) => {
    if (!closed) figma.ui.postMessage(m);
  };
  const selectionTargets = () => collectTargets(figma.currentPage.selection, figma.mixed);
  const selectionSummary = () => summarize(selectionTargets(), figma.currentPage.selection.length);

  figma.showUI(html, { ...UI_SIZE, themeColors: true, title: 'Enlarge' });

  figma.on('selectionchange', () => post({ type: 'selection', selection: selectionSummary() }));
  figma.on('close', () => {
    closed = true;
    stop('The plugin was closed.');
  });

  function stop(reason: string) {
    if (!current || current.stopped) return;
    current.stopped = reason;
    current.pending?.reject(new HostStateError(reason));
  }

  figma.ui.onmessage = (msg: UiToSandbox) => {
    if (!msg || typeof msg !== 'object') return;
    switch (msg.type) {
      case 'ui-ready':
        void figma.clientStorage
          .getAsync(SETTINGS_KEY)
          .then(
            (saved) => (settings = sanitizeSettings(saved, presetIds)),
            () => undefined,
          )
          .then(() => post({ type: 'init', settings, selection: selectionSummary() }));
        break;
      case 'save-settings':
        settings = sanitizeSettings(msg.settings, presetIds);
        void figma.clientStorage.setAsync(SETTINGS_KEY, settings).catch(() => undefined);
        break;
      case 'run':
        settings = sanitizeSettings(msg.settings, presetIds);
        void figma.clientStorage.setAsync(SETTINGS_KEY, settings).catch(() => undefined);
        void run(settings);
        break;
      case 'preview':
        void preview(msg.requestId, sanitizeSettings(msg.settings, presetIds));
        break;
      case 'cancel':
        if (current?.runId === msg.runId) stop('Cancelled. Nothing was changed.');
        break;
      case 'result':
      case 'image-failed':
        if (current?.runId === msg.runId && current.pending?.index === msg.index) current.pending.resolve(msg);
        break;
      case 'close':
        figma.closePlugin();
        break;
    }
  };

  /** The factor for one fill under the settings (fit for export depends on the node and paint). */
  function factorFor(t: FillTarget, size: { width: number; height: number }, s: Settings): number {
    if (s.scale !== 'fit') return Number(s.scale);
    return Math.min(
      MAX_FIT_FACTOR,
      fitFactor(t.nodeWidth, t.nodeHeight, size.width, size.height, s.exportScale, t.paint),
    );
  }

  async function imageFor(hash: string, name: string) {
    const image = figma.getImageByHash(hash);
    if (!image)
      throw new HostStateError(`The image of ${quote(name)} is not available in this file. Nothing was changed.`);
    let size: { width: number; height: number };
    try {
      size = await image.getSizeAsync();
    } catch (err) {
      throw new HostStateError(
        `The image of ${quote(name)} could not be read (${(err as Error).message}). Nothing was changed.`,
      );
    }
    return { image, size };
  }

  /** Groups the fills into jobs (same image and factor → enlarged once) and checks the sizes. */
  async function planJobs(targets: FillTarget[], s: Settings): Promise<{ jobs: Job[]; skipped: string[] }> {
    const byKey = new Map<string, Job>();
    const skipped: string[] = [];
    const sizes = new Map<string, { width: number; height: number }>();
    for (const t of targets) {
      let size = sizes.get(t.hash);
      if (!size) sizes.set(t.hash, (size = (await imageFor(t.hash, t.nodeName)).size));
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
          throw new HostStateError(
            `${quote(t.nodeName)}: ${describeError(err, 'plugin').message} Nothing was changed.`,
          );
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

  async function preview(requestId: number, s: Settings) {
    try {
      const t = selectionTargets()[0];
      if (!t) throw new HostStateError(selectionSummary().problem ?? 'Select a layer with an image fill.');
      const { image, size } = await imageFor(t.hash, t.nodeName);
      const bytes = await image.getBytesAsync();
      if (gifFrameCount(bytes) > 1) throw new HostStateError(animatedGifMessage(t.nodeName));
      let factor = factorFor(t, size, s);
      if (!(factor > 1)) factor = 2; // the preview still shows what the model does
      const out = resolveTarget(size.width, size.height, { scale: factor });
      post({
        type: 'preview-source',
        requestId,
        bytes,
        settings: s,
        image: { index: 0, label: t.nodeName, ...size, factor, outWidth: out.width, outHeight: out.height },
      });
    } catch (err) {
      post({
        type: 'error',
        message:
          err instanceof HostStateError
            ? err.message
            : `The preview could not start: ${describeError(err, 'plugin').message}`,
      });
    }
  }

  async function run(s: Settings) {
    if (current) {
      post({ type: 'error', message: 'A run is already in progress. Wait for it or cancel it.' });
      return;
    }
    const runId = ++runSeq;
    const state: RunState = { runId };
    current = state;
    const check = () => {
      if (state.stopped) throw new HostStateError(state.stopped);
    };
    try {
      const summary = selectionSummary();
      if (summary.problem) throw new HostStateError(summary.problem);
      const targets = selectionTargets();
      const { jobs, skipped } = await planJobs(targets, s);
      check();
      if (jobs.length === 0)
        throw new HostStateError(
          skipped.length ? `Nothing to do: ${skipped.join(' ')}` : 'Nothing to enlarge in the selection.',
        );
      post({
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
        const { image } = await imageFor(job.hash, job.label);
        const bytes = await image.getBytesAsync();
        check();
        if (gifFrameCount(bytes) > 1) throw new HostStateError(animatedGifMessage(job.label));
        const { index, label, width, height, factor, outWidth, outHeight } = job;
        const answer = await new Promise<UiToSandbox>((resolve, reject) => {
          state.pending = { index: job.index, resolve, reject };
          post({
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
        const cells = [];
        for (const cell of answer.cells) {
          if (cell.width > FIGMA_MAX_IMAGE_SIDE || cell.height > FIGMA_MAX_IMAGE_SIDE)
            throw new HostStateError(
              `A result tile of ${quote(job.label)} is over Figma's ${FIGMA_MAX_IMAGE_SIDE} px limit. Nothing was changed.`,
            );
          let img: Image;
          try {
            img = figma.createImage(cell.png);
          } catch (err) {
            throw new HostStateError(
              `Figma refused the enlarged image of ${quote(job.label)} (${(err as Error).message}). Nothing was changed.`,
            );
          }
          cells.push({ cell, hash: img.hash });
        }
        job.result = { width: answer.width, height: answer.height, cells };
      }

      check();
      const done = await apply(jobs, s);
      check(); // closed while checking nodes: nothing was written yet (apply writes only after its last await)
      figma.commitUndo();
      const msg = [done, ...skipped].join(' ');
      post({ type: 'run-done', runId, summary: msg });
      figma.notify(done);
    } catch (err) {
      const message =
        err instanceof HostStateError ? err.message : `${describeError(err, 'plugin').message} Nothing was changed.`;
      post({ type: 'run-failed', runId, message });
    } finally {
      if (current === state) current = undefined;
    }
  }

  /** Checks every node first (all awaits happen here), then writes everything synchronously. */
  async function apply(jobs: Job[], s: Settings): Promise<string> {
    const nodes = new Map<string, FillsNode>();
    for (const job of jobs) {
      for (const t of job.targets) {
        if (nodes.has(t.nodeId)) continue;
        const node = await figma.getNodeByIdAsync(t.nodeId);
        if (!node || node.removed)
          throw new HostStateError(
            `${quote(t.nodeName)} was deleted while it was being enlarged. Nothing was changed.`,
          );
        if (!hasFills(node) || !Array.isArray(node.fills))
          throw new HostStateError(`${quote(t.nodeName)} no longer has fills. Nothing was changed.`);
        nodes.set(t.nodeId, node);
      }
    }
    for (const job of jobs) {
      for (const t of job.targets) {
        const p = (nodes.get(t.nodeId)!.fills as readonly Paint[])[t.paintIndex];
        if (!p || p.type !== 'IMAGE' || p.imageHash !== t.hash)
          throw new HostStateError(
            `The image fill of ${quote(t.nodeName)} changed while it was being enlarged. Nothing was changed; run again.`,
          );
      }
    }
    if (closedOrStopped()) return '';

    // ---- from here on, no awaits: the whole write is one step ----
    const newFills = new Map<string, Paint[]>();
    const beside = new Map<string, number>(); // next free y beside each node
    let replaced = 0,
      created = 0,
      grids = 0;
    for (const job of jobs) {
      const r = job.result!;
      for (const t of job.targets) {
        const node = nodes.get(t.nodeId)!;
        if (s.output === 'replace' && r.cells.length === 1) {
          const fills = newFills.get(t.nodeId) ?? (node.fills as readonly Paint[]).map((p) => clonePaint(p));
          // Same paint, same place in the array: only the image changes.
          fills[t.paintIndex] = { ...(fills[t.paintIndex] as ImagePaint), imageHash: r.cells[0]!.hash };
          newFills.set(t.nodeId, fills);
          replaced++;
          continue;
        }
        const box = node.absoluteBoundingBox ?? { x: node.x, y: node.y, width: node.width, height: node.height };
        const x = Math.round(box.x + box.width + GAP);
        const y = beside.get(t.nodeId) ?? Math.round(box.y);
        const nodeName = `${t.nodeName} @${formatFactor(job.factor)}`;
        const paintBase = t.paint;
        const rects = r.cells.map(({ cell, hash }, i) => {
          const rect = figma.createRectangle();
          rect.name =
            r.cells.length === 1
              ? nodeName
              : `${nodeName} — tile ${i + 1}/${r.cells.length} (r${rowOf(r.cells, cell)} c${colOf(r.cells, cell)})`;
          rect.resize(cell.width, cell.height);
          rect.x = x + cell.x;
          rect.y = y + cell.y;
          rect.fills = [imagePaintFor(paintBase, hash)];
          return rect;
        });
        if (rects.length > 1) {
          const group = figma.group(rects, figma.currentPage);
          const cols = new Set(r.cells.map((x) => x.cell.x)).size;
          const rows = new Set(r.cells.map((x) => x.cell.y)).size;
          group.name = `${nodeName} — ${r.width}×${r.height} px, ${rects.length} tiles (${cols}×${rows})`;
          grids++;
        } else created++;
        beside.set(t.nodeId, y + r.height + GAP);
      }
    }
    for (const [id, fills] of newFills) nodes.get(id)!.fills = fills;

    const parts: string[] = [];
    const preset = catalog.preset(s.preset).label;
    if (replaced) parts.push(`Enlarged ${replaced} image fill${replaced > 1 ? 's' : ''} in place`);
    if (created)
      parts.push(
        `added ${created} enlarged cop${created > 1 ? 'ies' : 'y'} beside the original${created > 1 ? 's' : ''}`,
      );
    if (grids)
      parts.push(
        `added ${grids} tiled grid${grids > 1 ? 's' : ''} beside the original${grids > 1 ? 's' : ''} (over Figma's ${FIGMA_MAX_IMAGE_SIDE} px image limit${s.output === 'replace' ? '; the original fill is unchanged' : ''})`,
      );
    const text = parts.join(', ');
    return `${text.charAt(0).toUpperCase()}${text.slice(1)} (${preset}). Undo restores the original in one step.`;
  }

  function closedOrStopped() {
    return closed || !!current?.stopped;
  }
}

function rowOf(cells: { cell: ResultCell }[], c: ResultCell) {
  return [...new Set(cells.map((x) => x.cell.y))].sort((a, b) => a - b).indexOf(c.y) + 1;
}
function colOf(cells: { cell: ResultCell }[], c: ResultCell) {
  return [...new Set(cells.map((x) => x.cell.x))].sort((a, b) => a - b).indexOf(c.x) + 1;
}

export function animatedGifMessage(name: string): string {
  return `The image of ${quote(name)} is an animated GIF. Enlarge would keep only its first frame and stop the animation, so it leaves animated GIFs alone. Nothing was changed.`;
}

/** A plain mutable copy of a paint (fills are frozen; nested arrays and objects are copied too). */
function clonePaint(p: Paint): Paint {
  return JSON.parse(JSON.stringify(p)) as Paint;
}

/** The paint of a new node at the result's own pixel size: the image fills it 1:1; the look of the paint is kept. */
function imagePaintFor(base: ImagePaint, hash: string): ImagePaint {
  const p: { -readonly [K in keyof ImagePaint]?: ImagePaint[K] } = {
    type: 'IMAGE',
    scaleMode: 'FILL',
    imageHash: hash,
  };
  if (base.filters) p.filters = { ...base.filters };
  if (base.opacity !== undefined) p.opacity = base.opacity;
  if (base.blendMode !== undefined) p.blendMode = base.blendMode;
  if (base.visible !== undefined) p.visible = base.visible;
  return p as ImagePaint;
}
