/**
 * Plugin entry (dist/index.js, loaded by dist/index.html): the two commands and the panel, registered with
 * UXP's `entrypoints.setup` (ids match manifest.json). Commands appear under Plugins › Enlarge, where
 * users can give them keyboard shortcuts (Edit › Keyboard Shortcuts); UXP cannot add items to the Layers
 * panel's context menu.
 */
import './polyfills.js'; // first: the APIs UXP may lack exist before any module body runs
import { AbortError, describeError } from '@enlarge/core';
import { Panel } from './panel.js';
import { bundledCatalog } from './engines.js';
import { diagnostics } from './diagnostics.js';
import { loadSettings } from './settings.js';
import { upscaleActiveLayer, type RunOutcome } from './upscale.js';
import { ps, uxp } from './uxp-env.js';

/** "Upscale Layer 4×" / "2×": the remembered preset, the command's factor. Errors are shown in an alert. */
export async function runCommand(scale: number): Promise<RunOutcome | undefined> {
  const commandName = `Upscale Layer ${scale}×`;
  try {
    const presets = (await bundledCatalog()).presets.map((p) => p.id);
    return await upscaleActiveLayer({
      settings: { ...loadSettings(presets), size: { kind: 'scale', scale } },
      commandName,
    });
  } catch (err) {
    if (!(err instanceof AbortError)) await ps().app.showAlert(describeError(err, 'plugin').message);
    return undefined;
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

uxp().entrypoints.setup({
  commands: {
    upscaleLayer4x: () => runCommand(4),
    upscaleLayer2x: () => runCommand(2),
    diagnostics: () => runDiagnostics(),
  },
  panels: {
    enlargePanel: {
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
