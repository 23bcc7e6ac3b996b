/**
 * The panel's Diagnostics: what the UI iframe really is and can do, which engine runs and why, and a timed
 * 32×32 self-test, as plain text the user can copy into a support request. Each line answers one unknown of
 * the Figma real-host audit (docs/figma-real-host-checklist.md says which).
 */
import { describeError, type PixelImage } from '@enlarge/core';
import { capabilities, catalog, engine, timings, wasmVerdict } from './engine-host.js';

/** The plugin's version and variant, set by build.mjs. */
declare const ENLARGE_VERSION: string;

function webgl2(): string {
  try {
    const c = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!c) return 'no';
    const info = c.getExtension('WEBGL_debug_renderer_info');
    const renderer = info ? String(c.getParameter(info.UNMASKED_RENDERER_WEBGL)) : 'renderer hidden';
    return `yes (${renderer})`;
  } catch (err) {
    return `no (${(err as Error).message})`;
  }
}

async function webgpuAdapter(): Promise<string> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'no (navigator.gpu is missing: WebGPU needs a secure context)';
  try {
    return (await gpu.requestAdapter()) ? 'yes' : 'no adapter';
  } catch (err) {
    return `no (${(err as Error).message})`;
  }
}

/** A 32×32 gradient: small enough for any engine, not flat (so a broken model would show). */
function testImage(): PixelImage {
  const data = new Uint8Array(32 * 32 * 3);
  for (let y = 0; y < 32; y++)
    for (let x = 0; x < 32; x++) {
      const i = (y * 32 + x) * 3;
      data[i] = x * 8;
      data[i + 1] = y * 8;
      data[i + 2] = (x ^ y) * 8;
    }
  return { width: 32, height: 32, channels: 3, bitDepth: 8, data };
}

export async function diagnosticsReport({ busy }: { busy: boolean }): Promise<string> {
  const caps = await capabilities;
  const verdict = await wasmVerdict;
  const cat = await catalog();
  const lines = [
    'Enlarge for Figma — diagnostics',
    `Plugin: ${ENLARGE_VERSION}; models: ${cat.models.map((m) => m.shortTitle).join(', ')}`,
    `Browser: ${navigator.userAgent}`,
    '',
    'The UI iframe',
    `  location.protocol: ${location.protocol}  origin: ${location.origin}`,
    `  secure context: ${isSecureContext ? 'yes' : 'no'}`,
    `  WebCrypto (crypto.subtle): ${globalThis.crypto?.subtle ? 'yes' : 'no'} — model files are checked with ${caps.digest === 'js' ? 'SHA-256 in JavaScript (@noble/hashes)' : 'WebCrypto SHA-256'}`,
    `  WebGPU: ${await webgpuAdapter()}`,
    `  WebGL2: ${webgl2()}`,
    `  WebAssembly: ${verdict === 'ok' ? 'allowed' : verdict === 'refused' ? "REFUSED by the page's security policy (CSP)" : 'missing'}; SIMD: ${caps.wasmSimd ? 'yes' : 'no'}`,
    `  threads: ${caps.wasmThreads ? `yes (${caps.threads})` : 'no (no SharedArrayBuffer: not cross-origin isolated) — 1 thread'}`,
    `  Worker: ${typeof Worker === 'function' ? 'yes' : 'no'}; cores: ${navigator.hardwareConcurrency ?? '?'}`,
    `  iframe opened → panel ready: ${timings['panelReadyMs'] !== undefined ? `${Math.round(timings['panelReadyMs'])} ms` : '?'}`,
  ];
  if (verdict !== 'ok' || caps.backends.length === 0) {
    lines.push('', 'Engine: none can run here (see WebAssembly above).');
    return lines.join('\n');
  }
  if (busy) {
    lines.push('', 'Engine: a run is in progress; the self-test runs when it is done.');
    return lines.join('\n');
  }
  try {
    const t0 = performance.now();
    const e = await engine();
    const started = performance.now() - t0;
    const t1 = performance.now();
    const r = await e.upscaler.upscale(testImage(), { preset: 'photo', scale: 4 });
    const ran = performance.now() - t1;
    const ok = r.image.width === 128 && r.image.height === 128;
    lines.push(
      '',
      `Engine: ${e.where === 'worker' ? 'a Worker (blob: URL)' : "the panel's own thread"} — ${e.why}`,
      `  backends: ${caps.backends.join(', ')}; ran on ${r.backend}`,
      `  self-test 32×32 → ${r.image.width}×${r.image.height} (${r.models.map((m) => m.shortTitle).join(' + ')}): ${ok ? 'OK' : 'WRONG SIZE'} in ${Math.round(ran)} ms (engine start ${Math.round(started)} ms)`,
    );
  } catch (err) {
    lines.push('', `Engine: the self-test failed: ${describeError(err, 'plugin').message}`);
  }
  return lines.join('\n');
}
