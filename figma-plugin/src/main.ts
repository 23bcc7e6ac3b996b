/**
 * ui.html's one script. In the UI iframe it starts the panel (./ui.ts); started again from a blob: URL made
 * of its own text, it is the engine Worker (./engine-worker.ts). One script for both keeps onnxruntime-web
 * and core in ui.html once; a Worker made from a blob: URL is the only kind Figma's `data:` iframe can start
 * (it cannot load a script by URL), and it runs under the iframe's CSP.
 */
import { startEngineWorker } from './engine-worker.js';
import { setOwnSource } from './own-source.js';

if (typeof document === 'undefined') startEngineWorker();
else {
  // Read now: currentScript is only set while this script runs.
  setOwnSource(document.currentScript?.textContent ?? '');
  void import('./ui.js');
}
