/**
 * Plugin entry (dist/index.js, loaded by dist/index.html): the two commands and the panel, registered with
 * UXP's `entrypoints.setup` (ids match manifest.json). Commands appear under Plugins › Enlarge and in the panel's
 * flyout menu; with `enableMenuRecording` (manifest) they can be recorded into an Action and given a function key.
 * UXP cannot add items to the Layers panel's context menu (entrypoints are "command" or "panel" only).
 */
import './polyfills.js'; // first: the APIs UXP may lack exist before any module body runs
import { AbortError, describeError } from '@enlarge/core';
import { Panel } from './panel.js';
import { bundledCatalog, liveWebviewClient, labelled } from './engines.js';
import { openCommandEngine, type CommandEngine } from './command-engine.js';
import { diagnostics } from './diagnostics.js';
import { loadSettings } from './settings.js';
import { inspectTarget, PhotoshopBusyError, upscaleActiveLayer, type RunOutcome } from './upscale.js';
import { ps, uxp } from './uxp-env.js';

/**
 * "Upscale Layer 4×" / "2×": the remembered preset, the command's factor. Errors are shown in an alert.
 * Engine: the panel's webview when it is up; else (UXP 8+) a progress dialog hosting the engine webview, opened
 * before the modal scope (./command-engine.ts); else WASM inside UXP.
 */
export async function runCommand(scale: number): Promise<RunOutcome | undefined> {
  const commandName = `Upscale Layer ${scale}×`;
  let dialog: CommandEngine | undefined;
  try {
    const catalog = await bundledCatalog();
    const presets = catalog.presets.map((p) => p.id);
    const settings = { ...loadSettings(presets), size: { kind: 'scale' as const, scale } };
    // A refusal costs nothing: checked before any dialog opens. Its document and layer are the command's (G5).
    const first = inspectTarget(settings, catalog);
    const expect = { docId: first.docId, layerId: first.layer.id };
    const seam = (globalThis as { __ENLARGE_TEST_ENGINE__?: unknown }).__ENLARGE_TEST_ENGINE__;
    // The panel's page only if it answers now (G1); else the command's own dialog.
    const panelClient = seam ? undefined : await liveWebviewClient();
    if (!seam && !panelClient) {
      const opened = await openCommandEngine(catalog, commandName);
      if (opened.cancelled) return undefined;
      dialog = opened.engine;
    }
    const panelEngine = panelClient ? labelled(catalog, 'webview', panelClient) : undefined;
    // A run that succeeded with something to say (RunOutcome.note): an alert, once the dialog is gone.
    const told = async (outcome: RunOutcome): Promise<RunOutcome> => {
      dialog?.close();
      dialog = undefined;
      if (outcome.note) await ps().app.showAlert(outcome.note);
      return outcome;
    };
    const run = (d: CommandEngine | undefined) =>
      upscaleActiveLayer({
        settings,
        commandName,
        expect,
        ...(d
          ? {
              engine: d.engine,
              signal: d.signal,
              onStatus: (s) => d.onStatus(s),
              // The dialog drives the run: its Cancel must stay usable in the modal scope.
              interactive: true,
              // A webview job that fails reruns inside UXP with blocking WASM tiles: the dialog goes first (it
              // would not repaint, and "the progress bar is hidden while modal UI is shown", G4), so
              // Photoshop's own progress bar and its Cancel take over.
              beforeUxpRerun: () => {
                d.close();
                dialog = undefined;
              },
            }
          : panelEngine
            ? { engine: panelEngine }
            : {}),
      });
    try {
      return await told(await run(dialog));
    } catch (err) {
      // Whether Photoshop grants a modal scope while a plugin's modal dialog is up is undocumented: if it refuses,
      // the dialog goes and the command runs once more without it (WASM in UXP, Photoshop's own progress bar).
      if (!(err instanceof PhotoshopBusyError) || !dialog) throw err;
      dialog.close();
      dialog = undefined;
      return await told(await run(undefined));
    }
  } catch (err) {
    dialog?.close(); // before the alert: UXP shows one modal UI at a time
    if (!(err instanceof AbortError)) await ps().app.showAlert(describeError(err, 'plugin').message);
    return undefined;
  } finally {
    dialog?.close();
  }
}

let panel: Panel | undefined;

/** "Enlarge Diagnostics…": what this Photoshop gives the plugin, which engine runs and why, and a timed self-test. */
export async function runDiagnostics(): Promise<string> {
  let text: string;
  try {
    text = await diagnostics();
  } catch (err) {
    text = `Diagnostics could not finish: ${describeError(err, 'plugin').message}`;
  }
  console.log(text);
  await ps().app.showAlert(text);
  return text;
}

const commands: Record<string, () => Promise<unknown>> = {
  upscaleLayer4x: () => runCommand(4),
  upscaleLayer2x: () => runCommand(2),
  diagnostics: () => runDiagnostics(),
};

uxp().entrypoints.setup({
  commands,
  panels: {
    enlargePanel: {
      // The panel's flyout menu (guides/uxp-guide/uxp-misc/flyout-menus): the commands, one click from the panel.
      menuItems: [
        { id: 'upscaleLayer4x', label: 'Upscale Layer 4×' },
        { id: 'upscaleLayer2x', label: 'Upscale Layer 2×' },
        { id: 'diagnostics', label: 'Enlarge Diagnostics…' },
      ],
      invokeMenu(id: string) {
        void commands[id]?.();
      },
      create() {
        panel = new Panel();
        panel.init();
      },
      show() {
        if (!panel) {
          panel = new Panel();
          panel.init();
        }
        panel.refresh();
      },
      destroy() {
        panel?.dispose();
        panel = undefined;
      },
    },
  },
});
