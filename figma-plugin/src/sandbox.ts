/// <reference types="@figma/plugin-typings" />
/**
 * The plugin's sandbox side (Figma's main thread): finds the image fills in the selection, sends their
 * bytes to the UI iframe (where the engine runs), and writes the results back in one undo step.
 *
 * The document is touched only at the very end of a run, after every image came back and every node was
 * checked to still exist with the same image: a cancel, an error, a deleted node or a closed plugin at any
 * earlier point leaves the document as it was (images made with figma.createImage are not part of the
 * document until a paint uses them). The write itself is all or nothing: fonts of text layers are loaded
 * first, the step before it is committed, and if Figma refuses any write the whole step is undone.
 *
 * Where a fill is written: a fill linked to a local paint style updates the style (every layer using it gets
 * the sharper image; a library style is left alone with a note); a layer inside an instance that shows its
 * main component's image is enlarged in the main component when that is local (every instance gets it; a
 * library component is left alone with a note), and an image the instance overrides is enlarged in the
 * instance. Hidden layers and hidden paints are left alone.
 *
 * Started from the menu ("Enlarge 2×/4×"), the panel stays hidden: progress and the outcome are Figma
 * notifications, with a Cancel button, and the plugin closes when done.
 */
import { describeError, HostStateError, planJob, resolveTarget, type Catalog } from '@enlarge/core';
import {
  FIGMA_MAX_IMAGE_SIDE,
  FIGMA_PLAN_POLICY,
  MAX_FIT_FACTOR,
  MAX_RUN_IMAGES,
  RUN_WALK_LIMIT,
  SELECTION_WALK_LIMIT,
  fitFactor,
  formatFactor,
  gifFrameCount,
  sanitizeSettings,
  type JobImage,
  type MenuCommand,
  type SandboxToUi,
  type SelectionSummary,
  type Settings,
  type UiToSandbox,
} from './shared.js';

export const UI_SIZE = { width: 320, height: 560 };
const SETTINGS_KEY = 'enlarge-settings';
const GAP = 40;
/** Selection changes closer together than this are summarised once. */
export const SELECTION_DEBOUNCE_MS = 120;
/** The relaunch button's command (manifest relaunchButtons). */
export const RELAUNCH_COMMAND = 'open';

/** One IMAGE paint of one node, as found in the selection. */
export interface FillTarget {
  nodeId: string;
  nodeName: string;
  nodeType: string;
  paintIndex: number;
  hash: string;
  paint: ImagePaint;
  nodeWidth: number;
  nodeHeight: number;
  /** Where a replace writes (resolved before the run: a style, the main component's node, or the node). */
  write?: WriteTo;
}

/** Where the new image of a replaced fill goes. */
type WriteTo =
  | { kind: 'node'; id: string; name: string; /** the main component's name when that is where it goes */ via?: string }
  | { kind: 'style'; id: string; name: string };

/** A result cell once Figma has the image: geometry and hash only (the PNG bytes are let go at once). */
interface PlacedCell {
  x: number;
  y: number;
  width: number;
  height: number;
  hash: string;
}

interface Job extends JobImage {
  hash: string;
  /** Why the result would be over the plugin's limits (core's ImageTooLargeError message). */
  tooLarge?: string;
  targets: FillTarget[];
  /** Filled when the UI answers: one Figma image per grid cell. */
  result?: { width: number; height: number; cells: PlacedCell[]; invented?: number };
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

export interface Collected {
  targets: FillTarget[];
  /** The walk stopped at `limit` layers. */
  capped: boolean;
  /** Image fills left alone because the layer or the paint is hidden. */
  hidden: number;
}

/**
 * Every visible IMAGE paint (with an image) on visible layers in `nodes` and their descendants, in document
 * order, each node once; at most `limit` layers are looked at.
 */
export function collectTargets(nodes: readonly SceneNode[], figmaMixed: unknown, limit = Infinity): Collected {
  const out: FillTarget[] = [];
  const seen = new Set<string>();
  let visited = 0,
    hidden = 0,
    capped = false;
  const imagesOf = (node: SceneNode) =>
    hasFills(node) && node.fills !== figmaMixed && Array.isArray(node.fills)
      ? (node.fills as readonly Paint[]).map((p, i) => [p, i] as const).filter(([p]) => p.type === 'IMAGE')
      : [];
  const visit = (node: SceneNode) => {
    if (capped) return;
    try {
      visitNode(node);
    } catch {
      // With skipInvisibleInstanceChildren an invisible layer inside an instance (selected in the layers
      // panel) throws on every property read: it is hidden, so it is left alone like the others.
      hidden++;
    }
  };
  const visitNode = (node: SceneNode) => {
    if (seen.has(node.id)) return;
    if (++visited > limit) {
      capped = true;
      return;
    }
    seen.add(node.id);
    if (node.visible === false) {
      hidden += imagesOf(node).length; // its descendants are not looked at: hidden with it
      return;
    }
    for (const [p, i] of imagesOf(node)) {
      const ip = p as ImagePaint;
      if (!ip.imageHash) continue;
      if (ip.visible === false) {
        hidden++;
        continue;
      }
      out.push({
        nodeId: node.id,
        nodeName: node.name,
        nodeType: node.type,
        paintIndex: i,
        hash: ip.imageHash,
        paint: ip,
        nodeWidth: node.width,
        nodeHeight: node.height,
      });
    }
    if ('children' in node) for (const c of node.children) visit(c);
  };
  for (const n of nodes) visit(n);
  return { targets: out, capped, hidden };
}

export function summarize(c: Collected, selected: number): SelectionSummary {
  const { targets } = c;
  const nodes = new Set(targets.map((t) => t.nodeId)).size;
  const images = new Set(targets.map((t) => t.hash)).size;
  let problem: string | undefined;
  if (selected === 0) problem = 'Select a layer with an image fill (or a frame or group that contains some).';
  else if (targets.length === 0 && c.capped)
    problem = `The selection has more than ${SELECTION_WALK_LIMIT} layers and none of the first ones has an image fill. Select the layers with images, or a smaller frame.`;
  else if (targets.length === 0 && c.hidden > 0)
    problem = 'The image fills in the selection are hidden, and Enlarge leaves hidden layers and fills alone.';
  else if (targets.length === 0)
    problem =
      'The selection has no image fills. Select a layer filled with an image, or a frame or group that contains one.';
  const s: SelectionSummary = { nodes, fills: targets.length, images, problem, firstName: targets[0]?.nodeName };
  if (c.capped) s.capped = true;
  return s;
}

const quote = (name: string) => `“${name}”`;

function labelFor(targets: FillTarget[]): string {
  const names = [...new Set(targets.map((t) => t.nodeName))];
  return names.length === 1 ? names[0]! : `${names[0]} (+${names.length - 1} more)`;
}

/** The page a node is on (walks up the parents). */
function pageOf(node: BaseNode): PageNode | undefined {
  let n: BaseNode | null = node;
  while (n && n.type !== 'PAGE') n = n.parent;
  return (n as PageNode | null) ?? undefined;
}

/** The innermost instance `node` is inside (not counting node itself), if any. */
function instanceAbove(node: BaseNode): InstanceNode | undefined {
  for (let n = node.parent; n && n.type !== 'PAGE'; n = n.parent) if (n.type === 'INSTANCE') return n;
  return undefined;
}

/** Starts the plugin: `html` is the UI (Figma's `__html__`), `catalog` the models and presets the UI carries. */
export function startPlugin(figma: PluginAPI, html: string, catalog: Catalog): void {
  const presetIds = catalog.presets.map((p) => p.id);
  let settings: Settings = sanitizeSettings(undefined, presetIds);
  let runSeq = 0;
  let current: RunState | undefined;
  let closed = false;
  const command = figma.command as MenuCommand | undefined;
  const quickScale = command === 'enlarge-2' ? '2' : command === 'enlarge-4' ? '4' : undefined;
  /** Menu command with a hidden panel: notifications and closePlugin instead of the panel. */
  const quick = quickScale !== undefined;
  let quickSettings: Settings | undefined;
  let quickStarted = false;
  let progressNote: NotificationHandler | undefined;

  // Hidden layers inside instances are left alone anyway; this makes walking instances much faster.
  figma.skipInvisibleInstanceChildren = true;

  const post = (m: SandboxToUi) => {
    if (!closed) figma.ui.postMessage(m);
  };
  const selectionSummary = () =>
    summarize(
      collectTargets(figma.currentPage.selection, figma.mixed, SELECTION_WALK_LIMIT),
      figma.currentPage.selection.length,
    );

  /** Progress for a hidden panel: one notification at a time, shown until replaced, with Cancel. */
  const progress = (text: string) => {
    if (!quick || closed) return;
    progressNote?.cancel();
    progressNote = figma.notify(text, {
      timeout: Infinity,
      button: { text: 'Cancel', action: () => cancelQuick() },
    });
  };
  const finish = (message: string) => {
    if (closed) return;
    progressNote?.cancel();
    figma.closePlugin(message);
  };
  function cancelQuick() {
    if (current) stop('Cancelled. Nothing was changed.');
    else finish('Cancelled. Nothing was changed.');
  }

  let selectionTimer: ReturnType<typeof setTimeout> | undefined;
  figma.on('selectionchange', () => {
    if (quick) return;
    if (selectionTimer !== undefined) clearTimeout(selectionTimer);
    selectionTimer = setTimeout(() => {
      selectionTimer = undefined;
      post({ type: 'selection', selection: selectionSummary() });
    }, SELECTION_DEBOUNCE_MS);
  });
  figma.on('close', () => {
    closed = true;
    if (selectionTimer !== undefined) clearTimeout(selectionTimer);
    stop('The plugin was closed.');
  });

  function stop(reason: string) {
    if (!current || current.stopped) return;
    current.stopped = reason;
    current.pending?.reject(new HostStateError(reason));
  }

  if (quick) void startQuick(quickScale);
  else figma.showUI(html, { ...UI_SIZE, themeColors: true, title: 'Enlarge' });

  /** "Enlarge 2×/4×": check everything first (no panel is loaded for a selection that cannot run), then run hidden. */
  async function startQuick(scale: '2' | '4') {
    progress('Enlarge: reading the selection…');
    try {
      settings = sanitizeSettings(await figma.clientStorage.getAsync(SETTINGS_KEY).catch(() => undefined), presetIds);
      const s: Settings = { ...settings, scale };
      const summary = selectionSummary();
      if (summary.problem) throw new HostStateError(summary.problem);
      await planRun(s); // the same checks the run makes: sizes, limits, fonts, styles, components
      if (closed) return;
      quickSettings = s;
      progress('Enlarge: starting the engine…');
      figma.showUI(html, { visible: false });
    } catch (err) {
      finish(failureMessage(err));
    }
  }

  figma.ui.onmessage = (msg: UiToSandbox) => {
    if (!msg || typeof msg !== 'object') return;
    switch (msg.type) {
      case 'ui-ready':
        if (quick) {
          // The selection was checked in full (startQuick): the hidden panel's Enlarge button must be enabled.
          post({
            type: 'init',
            settings: quickSettings!,
            selection: { ...selectionSummary(), problem: undefined },
            command,
          });
          break;
        }
        void figma.clientStorage
          .getAsync(SETTINGS_KEY)
          .then(
            (saved) => (settings = sanitizeSettings(saved, presetIds)),
            () => undefined,
          )
          .then(() => post({ type: 'init', settings, selection: selectionSummary(), command: command ?? 'open' }));
        break;
      case 'save-settings':
        if (quick) break;
        settings = sanitizeSettings(msg.settings, presetIds);
        void figma.clientStorage.setAsync(SETTINGS_KEY, settings).catch(() => undefined);
        break;
      case 'run':
        if (quick) {
          // The hidden panel starts the run once; the menu's scale is not remembered as the panel's setting.
          if (quickStarted || !quickSettings) break;
          quickStarted = true;
          void run(quickSettings).then((r) => finish(r.ok ? r.short : r.message));
          break;
        }
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
      case 'command-failed':
        if (quick && !quickStarted) finish(msg.message);
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

  /** Loads every font of a text layer (writes to it throw until then); the name of a font that cannot load. */
  async function loadFonts(node: BaseNode): Promise<string | undefined> {
    if (node.type !== 'TEXT') return undefined;
    const fonts =
      node.characters.length > 0
        ? node.getRangeAllFontNames(0, node.characters.length)
        : node.fontName !== figma.mixed
          ? [node.fontName as FontName]
          : [];
    for (const f of fonts) {
      try {
        await figma.loadFontAsync(f);
      } catch {
        return `${f.family} ${f.style}`;
      }
    }
    return undefined;
  }

  /**
   * Where a replaced fill is written, or why it is left alone (a plain sentence). Follows an instance
   * sublayer to its main component's node while that node shows the same image (nested instances too), then
   * a local paint style the fill is linked to.
   */
  async function resolveWrite(t: FillTarget): Promise<WriteTo | { skip: string }> {
    const found = (await figma.getNodeByIdAsync(t.nodeId)) as SceneNode | null;
    if (!found || !hasFills(found)) return { skip: `${quote(t.nodeName)} is no longer there, so it was left alone.` };
    let node: SceneNode = found;
    let via: string | undefined;
    for (let depth = 0; depth < 8; depth++) {
      const inst = node.type === 'INSTANCE' ? node : instanceAbove(node);
      if (!inst) break;
      const main = await inst.getMainComponentAsync();
      // The node in the main component this one mirrors: the instance itself mirrors the component; a
      // sublayer's id is I<instance id>;<id of its node in the main component> (last part).
      const sourceId: string | undefined =
        node === inst ? main?.id : node.id.includes(';') ? node.id.slice(node.id.lastIndexOf(';') + 1) : undefined;
      const source: SceneNode | null = sourceId ? ((await figma.getNodeByIdAsync(sourceId)) as SceneNode | null) : null;
      const sp = source && hasFills(source) && Array.isArray(source.fills) ? source.fills[t.paintIndex] : undefined;
      const same = !!main && sp?.type === 'IMAGE' && sp.imageHash === t.hash;
      if (!same || !main) break; // this instance overrides the image: enlarging it here adds no new override
      if (main.remote)
        return {
          skip: `${quote(t.nodeName)} shows the image of the library component ${quote(main.name)}, which can only be changed in its library file, so it was left alone.`,
        };
      node = source!;
      via = main.name;
    }
    if (!hasFills(node)) return { skip: `${quote(t.nodeName)} cannot be changed here, so it was left alone.` };
    const styleId = node.fillStyleId;
    if (typeof styleId === 'string' && styleId !== '') {
      const style = await figma.getStyleByIdAsync(styleId);
      if (!style || style.type !== 'PAINT')
        return { skip: `${quote(t.nodeName)} takes its fill from a style Enlarge cannot read, so it was left alone.` };
      if (style.remote)
        return {
          skip: `${quote(t.nodeName)} takes its fill from the library style ${quote(style.name)}, which can only be changed in its library file, so it was left alone.`,
        };
      const p = (style as PaintStyle).paints[t.paintIndex];
      if (p?.type !== 'IMAGE' || p.imageHash !== t.hash)
        return { skip: `${quote(t.nodeName)}'s fill and its style ${quote(style.name)} differ, so it was left alone.` };
      return { kind: 'style', id: style.id, name: style.name };
    }
    const font = await loadFonts(node);
    if (font)
      return {
        skip: `${quote(t.nodeName)} uses the font ${font}, which is not available on this computer, so its fill was left alone.`,
      };
    return { kind: 'node', id: node.id, name: node.name, via };
  }

  /** The whole plan of a run: every check that needs no pixels, before anything is sent to the UI. */
  async function planRun(s: Settings): Promise<{ jobs: Job[]; skipped: string[] }> {
    const collected = collectTargets(figma.currentPage.selection, figma.mixed, RUN_WALK_LIMIT);
    if (collected.capped)
      throw new HostStateError(
        `The selection has more than ${RUN_WALK_LIMIT.toString().replace(/\B(?=(\d{3})+$)/g, ',')} layers, too many to search. Select fewer or smaller frames. Nothing was changed.`,
      );
    const summary = summarize(collected, figma.currentPage.selection.length);
    if (summary.problem) throw new HostStateError(summary.problem);
    const skipped: string[] = [];
    let targets = collected.targets;
    if (s.output === 'replace') {
      const kept: FillTarget[] = [];
      const writes = new Set<string>();
      for (const t of targets) {
        const w = await resolveWrite(t);
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
    const planned = await planJobs(targets, s);
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
      const t = collectTargets(figma.currentPage.selection, figma.mixed, SELECTION_WALK_LIMIT).targets[0];
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

  function failureMessage(err: unknown): string {
    return err instanceof HostStateError ? err.message : `${describeError(err, 'plugin').message} Nothing was changed.`;
  }

  async function run(
    s: Settings,
  ): Promise<{ ok: true; summary: string; short: string } | { ok: false; message: string }> {
    if (current) {
      post({ type: 'error', message: 'A run is already in progress. Wait for it or cancel it.' });
      return { ok: false, message: 'A run is already in progress.' };
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
      const { jobs, skipped } = await planRun(s);
      check();
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
        progress(`Enlarging ${index + 1} of ${jobs.length}: ${label} (${formatFactor(factor)})…`);
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
        const cells: PlacedCell[] = [];
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
          // Figma has the image now: keep its hash and place, let the PNG bytes go (a run can be many MB).
          (cell as { png?: Uint8Array }).png = undefined;
          cells.push({ x: cell.x, y: cell.y, width: cell.width, height: cell.height, hash: img.hash });
        }
        job.result = { width: answer.width, height: answer.height, cells, invented: answer.invented };
      }

      check();
      progress('Enlarge: writing the results…');
      const done = await apply(jobs, s);
      const msg = [done.text, inventedSummary(jobs), ...skipped].filter(Boolean).join(' ');
      post({ type: 'run-done', runId, summary: msg });
      if (!quick) figma.notify(done.short);
      const short = skipped.length ? `${done.short} ${skipped.length} left alone.` : done.short;
      return { ok: true, summary: msg, short };
    } catch (err) {
      const message = failureMessage(err);
      post({ type: 'run-failed', runId, message });
      return { ok: false, message };
    } finally {
      if (current === state) current = undefined;
    }
  }

  /**
   * Checks every node and style first and loads the fonts (all awaits happen here), then writes everything
   * synchronously as one undo step; if Figma refuses any write, the step is undone.
   */
  /** The layers with the most invented area (the detail map's share above its "check this" level), at most 3. */
  function inventedSummary(jobs: Job[]): string {
    const top = jobs
      .filter((j) => (j.result?.invented ?? 0) >= 0.001)
      .sort((a, b) => b.result!.invented! - a.result!.invented!)
      .slice(0, 3);
    if (!top.length) return '';
    const list = top.map((j) => `${quote(j.label)} ${(100 * j.result!.invented!).toFixed(1)} %`).join(', ');
    return `Most invented detail (check faces and text there): ${list}.`;
  }

  async function apply(jobs: Job[], s: Settings): Promise<{ text: string; short: string }> {
    const nodes = new Map<string, FillsNode>(); // by id: the nodes written (replace) or placed beside (copies)
    const styles = new Map<string, PaintStyle>();
    const pages = new Map<string, PageNode>(); // by original node id: where its copies go
    const gone = (name: string) =>
      new HostStateError(`${quote(name)} was deleted while it was being enlarged. Nothing was changed.`);
    const changed = (name: string) =>
      new HostStateError(
        `The image fill of ${quote(name)} changed while it was being enlarged. Nothing was changed; run again.`,
      );
    const inPlace = (job: Job) => s.output === 'replace' && job.result!.cells.length === 1;
    for (const job of jobs) {
      for (const t of job.targets) {
        if (inPlace(job) && t.write?.kind === 'style') {
          const style = await figma.getStyleByIdAsync(t.write.id);
          if (!style || style.type !== 'PAINT') throw gone(t.write.name);
          const p = (style as PaintStyle).paints[t.paintIndex];
          if (p?.type !== 'IMAGE' || p.imageHash !== t.hash) throw changed(t.nodeName);
          styles.set(style.id, style as PaintStyle);
          continue;
        }
        const id = inPlace(job) && t.write ? t.write.id : t.nodeId;
        if (nodes.has(id)) continue;
        const node = await figma.getNodeByIdAsync(id);
        if (!node || node.removed) throw gone(t.nodeName);
        if (!hasFills(node) || !Array.isArray(node.fills))
          throw new HostStateError(`${quote(t.nodeName)} no longer has fills. Nothing was changed.`);
        const p = (node.fills as readonly Paint[])[t.paintIndex];
        if (!p || p.type !== 'IMAGE' || p.imageHash !== t.hash) throw changed(t.nodeName);
        if (inPlace(job)) {
          const font = await loadFonts(node); // cached by Figma: cheap when planRun loaded it already
          if (font)
            throw new HostStateError(
              `${quote(t.nodeName)} uses the font ${font}, which is not available on this computer. Nothing was changed.`,
            );
        } else {
          const page = pageOf(node);
          if (!page) throw gone(t.nodeName);
          await page.loadAsync();
          pages.set(id, page);
        }
        nodes.set(id, node);
      }
    }
    if (closedOrStopped()) throw new HostStateError(current?.stopped ?? 'The plugin was closed.');

    // ---- from here on, no awaits: the whole write is one undo step ----
    figma.commitUndo(); // whatever came before is its own step: an undo below reverts only this run
    const nodeFills = new Map<string, Paint[]>();
    const stylePaints = new Map<string, Paint[]>();
    const created: SceneNode[] = [];
    const beside = new Map<string, number>(); // next free y beside each node
    const relaunch = `Enlarged ${[...new Set(jobs.map((j) => formatFactor(j.factor)))].join(', ')} (${catalog.preset(s.preset).label})`;
    let replaced = 0,
      viaMain = 0,
      viaStyle = 0,
      copies = 0,
      grids = 0;
    const otherPage = new Set<string>();
    let doing = '';
    try {
      for (const job of jobs) {
        const r = job.result!;
        for (const t of job.targets) {
          doing = t.nodeName;
          if (inPlace(job)) {
            const w = t.write ?? { kind: 'node' as const, id: t.nodeId, name: t.nodeName };
            const map = w.kind === 'style' ? stylePaints : nodeFills;
            const base = w.kind === 'style' ? styles.get(w.id)!.paints : (nodes.get(w.id)!.fills as readonly Paint[]);
            const paints = map.get(w.id) ?? base.map((p) => clonePaint(p));
            paints[t.paintIndex] = enlargedPaint(
              paints[t.paintIndex] as ImagePaint,
              r.cells[0]!.hash,
              job.width,
              r.width,
            );
            map.set(w.id, paints);
            replaced++;
            if (w.kind === 'style') viaStyle++;
            else if (w.via) viaMain++;
            continue;
          }
          const node = nodes.get(t.nodeId)!;
          const page = pages.get(t.nodeId)!;
          if (page.id !== figma.currentPage.id) otherPage.add(page.name);
          const box = node.absoluteBoundingBox ?? { x: node.x, y: node.y, width: node.width, height: node.height };
          const x = Math.round(box.x + box.width + GAP);
          const y = beside.get(t.nodeId) ?? Math.round(box.y);
          const nodeName = `${t.nodeName} @${formatFactor(job.factor)}`;
          const rects = r.cells.map((cell, i) => {
            const rect = figma.createRectangle();
            page.appendChild(rect); // the original's page, even if the user switched pages meanwhile
            created.push(rect);
            rect.name =
              r.cells.length === 1
                ? nodeName
                : `${nodeName} — tile ${i + 1}/${r.cells.length} (r${rowOf(r.cells, cell)} c${colOf(r.cells, cell)})`;
            rect.resize(cell.width, cell.height);
            rect.x = x + cell.x;
            rect.y = y + cell.y;
            rect.fills = [imagePaintFor(t.paint, cell.hash)];
            return rect;
          });
          if (rects.length > 1) {
            const group = figma.group(rects, page);
            created.push(group);
            const cols = new Set(r.cells.map((c) => c.x)).size;
            const rows = new Set(r.cells.map((c) => c.y)).size;
            group.name = `${nodeName} — ${r.width}×${r.height} px, ${rects.length} tiles (${cols}×${rows})`;
            setRelaunch(group, relaunch);
            grids++;
          } else {
            setRelaunch(rects[0]!, relaunch);
            copies++;
          }
          beside.set(t.nodeId, y + r.height + GAP);
        }
      }
      for (const [id, fills] of nodeFills) {
        const node = nodes.get(id)!;
        doing = node.name;
        node.fills = fills;
        setRelaunch(node, relaunch);
      }
      for (const [id, paints] of stylePaints) {
        const style = styles.get(id)!;
        doing = `the style ${style.name}`;
        style.paints = paints;
      }
    } catch (err) {
      figma.triggerUndo(); // "Reverts to the last commitUndo() state": the one made just above
      const undone =
        [...nodeFills.keys()].every((id) => same(nodes.get(id)!.fills, id)) &&
        [...stylePaints.keys()].every((id) => same(styles.get(id)!.paints, id)) &&
        created.every((n) => n.removed);
      const what = doing.startsWith('the style ') ? doing : quote(doing);
      throw new HostStateError(
        undone
          ? `Figma refused to change ${what} (${(err as Error).message}). Everything this run had changed was undone, so the document is as it was.`
          : `Figma refused to change ${what} (${(err as Error).message}), and not everything this run had changed could be undone: check the layers, and use Undo (Ctrl/Cmd+Z) if needed.`,
      );
    }
    figma.commitUndo();

    function same(now: readonly Paint[] | typeof figma.mixed, id: string): boolean {
      const orig = jobs.flatMap((j) => j.targets).filter((t) => t.write?.id === id || (!t.write && t.nodeId === id));
      return (
        Array.isArray(now) && orig.every((t) => (now[t.paintIndex] as ImagePaint | undefined)?.imageHash === t.hash)
      );
    }

    const parts: string[] = [];
    const preset = catalog.preset(s.preset).label;
    if (replaced) {
      const where = [
        viaStyle
          ? `${viaStyle} through ${viaStyle > 1 ? 'their paint styles' : 'its paint style'} (every layer using it)`
          : '',
        viaMain ? `${viaMain} in the main component${viaMain > 1 ? 's' : ''} (every instance)` : '',
      ].filter(Boolean);
      parts.push(
        `Enlarged ${replaced} image fill${replaced > 1 ? 's' : ''} in place${where.length ? `, ${where.join(' and ')}` : ''}`,
      );
    }
    if (copies)
      parts.push(`added ${copies} enlarged cop${copies > 1 ? 'ies' : 'y'} beside the original${copies > 1 ? 's' : ''}`);
    if (grids)
      parts.push(
        `added ${grids} tiled grid${grids > 1 ? 's' : ''} beside the original${grids > 1 ? 's' : ''} (over Figma's ${FIGMA_MAX_IMAGE_SIDE} px image limit${s.output === 'replace' ? '; the original fill is unchanged' : ''})`,
      );
    const text = parts.join(', ');
    const pageNote = otherPage.size ? ` The new layers are on the page ${[...otherPage].map(quote).join(', ')}.` : '';
    const factors = [...new Set(jobs.map((j) => formatFactor(j.factor)))].join('/');
    const count = replaced + copies + grids;
    return {
      text: `${text.charAt(0).toUpperCase()}${text.slice(1)} (${preset}). Undo restores the original in one step.${pageNote}`,
      short: `Enlarged ${count} image${count > 1 ? 's' : ''} ${factors}. Undo restores ${count > 1 ? 'them' : 'it'}.`,
    };
  }

  function closedOrStopped() {
    return closed || !!current?.stopped;
  }
}

/** The relaunch button on an enlarged layer; cosmetic, so a refusal does not fail the run. */
function setRelaunch(node: SceneNode, description: string) {
  try {
    node.setRelaunchData({ [RELAUNCH_COMMAND]: description });
  } catch {
    /* e.g. a layer type without relaunch data: the run's result is the same without the button */
  }
}

/**
 * The replaced paint: only the image changes, except that a TILE paint keeps its tile size on the canvas
 * (a tile is scalingFactor × the image's pixel size, so the factor shrinks as the image grows).
 */
export function enlargedPaint(p: ImagePaint, hash: string, oldWidth: number, newWidth: number): ImagePaint {
  const out: { -readonly [K in keyof ImagePaint]: ImagePaint[K] } = { ...p, imageHash: hash };
  if (p.scaleMode === 'TILE') out.scalingFactor = ((p.scalingFactor ?? 1) * oldWidth) / newWidth;
  return out;
}

function rowOf(cells: PlacedCell[], c: PlacedCell) {
  return [...new Set(cells.map((x) => x.y))].sort((a, b) => a - b).indexOf(c.y) + 1;
}
function colOf(cells: PlacedCell[], c: PlacedCell) {
  return [...new Set(cells.map((x) => x.x))].sort((a, b) => a - b).indexOf(c.x) + 1;
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
