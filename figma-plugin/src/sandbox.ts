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
 * The parts: sandbox/collect.ts (the fills of a selection), write-target.ts (where a replace writes), plan.ts
 * (jobs and sizes), run.ts (the images to the panel and back), apply.ts (the one undo step).
 *
 * Started from the menu ("Enlarge 2×/4×"), the panel stays hidden: progress and the outcome are Figma
 * notifications, with a Cancel button, and the plugin closes when done.
 */
import { HostStateError, type Catalog } from '@enlarge/core';
import {
  SELECTION_WALK_LIMIT,
  sanitizeSettings,
  toastText,
  type MenuCommand,
  type SandboxToUi,
  type Settings,
  type UiToSandbox,
} from './shared.js';
import { collectTargets, summarize } from './sandbox/collect.js';
import { planRun } from './sandbox/plan.js';
import { failureMessage, preview, run } from './sandbox/run.js';
import type { Session } from './sandbox/session.js';

export const UI_SIZE = { width: 320, height: 560 };
const SETTINGS_KEY = 'enlarge-settings';
/** Selection changes closer together than this are summarised once. */
export const SELECTION_DEBOUNCE_MS = 120;
export { RELAUNCH_COMMAND } from './sandbox/session.js';
export { animatedGifMessage, collectTargets, summarize, type Collected, type FillTarget } from './sandbox/collect.js';
export { enlargedPaint } from './sandbox/apply.js';

export function startPlugin(figma: PluginAPI, html: string, catalog: Catalog): void {
  const presetIds = catalog.presets.map((p) => p.id);
  let settings: Settings = sanitizeSettings(undefined, presetIds);
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
    if (!ss.closed) figma.ui.postMessage(m);
  };
  // A menu command works on the layers it checked when it started (H4), not on what is selected seconds later,
  // once the hidden panel has loaded.
  let startSelection: readonly SceneNode[] | undefined;
  const selectionSummary = () => {
    const selection = startSelection ?? figma.currentPage.selection;
    return summarize(collectTargets(selection, figma.mixed, SELECTION_WALK_LIMIT), selection.length);
  };

  /** Progress for a hidden panel: one notification at a time, shown until replaced, with Cancel. */
  const progress = (text: string) => {
    if (!quick || ss.closed) return;
    progressNote?.cancel();
    progressNote = figma.notify(toastText(text), {
      timeout: Infinity,
      button: { text: 'Cancel', action: () => cancelQuick() },
    });
  };
  const finish = (message: string) => {
    if (ss.closed) return;
    progressNote?.cancel();
    figma.closePlugin(toastText(message)); // a toast: 100 characters at most (H3)
  };
  function cancelQuick() {
    if (ss.current) stop('Cancelled. Nothing was changed.');
    else finish('Cancelled. Nothing was changed.');
  }

  const ss: Session = {
    figma,
    catalog,
    quick,
    closed: false,
    runSeq: 0,
    post,
    progress,
    selectionSummary,
    ...(quick ? { selection: () => startSelection ?? figma.currentPage.selection } : {}),
  };

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
    ss.closed = true;
    if (selectionTimer !== undefined) clearTimeout(selectionTimer);
    stop('The plugin was closed.');
  });

  function stop(reason: string) {
    if (!ss.current || ss.current.stopped) return;
    ss.current.stopped = reason;
    ss.current.pending?.reject(new HostStateError(reason));
  }

  if (quick) void startQuick(quickScale);
  // No title: it defaults to the plugin's name ("Enlarge", or "Enlarge Full" for the second build; H5).
  else figma.showUI(html, { ...UI_SIZE, themeColors: true });

  /** "Enlarge 2×/4×": check everything first (no panel is loaded for a selection that cannot run), then run hidden. */
  async function startQuick(scale: '2' | '4') {
    progress('Enlarge: reading the selection…');
    try {
      settings = sanitizeSettings(await figma.clientStorage.getAsync(SETTINGS_KEY).catch(() => undefined), presetIds);
      const s: Settings = { ...settings, scale };
      startSelection = figma.currentPage.selection.slice();
      const summary = selectionSummary();
      if (summary.problem) throw new HostStateError(summary.problem);
      await planRun(figma, catalog, s, startSelection); // the same checks the run makes: sizes, limits, fonts, styles, components
      if (ss.closed) return;
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
          void run(ss, quickSettings).then((r) => finish(r.ok ? r.short : r.message));
          break;
        }
        settings = sanitizeSettings(msg.settings, presetIds);
        void figma.clientStorage.setAsync(SETTINGS_KEY, settings).catch(() => undefined);
        void run(ss, settings);
        break;
      case 'preview':
        void preview(ss, msg.requestId, sanitizeSettings(msg.settings, presetIds));
        break;
      case 'cancel':
        if (ss.current?.runId === msg.runId) stop('Cancelled. Nothing was changed.');
        break;
      case 'result':
      case 'image-failed':
        if (ss.current?.runId === msg.runId && ss.current.pending?.index === msg.index) ss.current.pending.resolve(msg);
        break;
      case 'command-failed':
        if (quick && !quickStarted) finish(msg.message);
        break;
      case 'close':
        figma.closePlugin();
        break;
      default: {
        // A message this sandbox does not know: a bug between the two sides, said once and logged.
        const message = `The panel sent a message the plugin does not know (${String((msg as { type?: unknown }).type)}).`;
        console.error(`Enlarge: ${message}`);
        post({ type: 'error', message });
      }
    }
  };
}
