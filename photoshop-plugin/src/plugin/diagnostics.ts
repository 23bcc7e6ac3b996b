/**
 * The Diagnostics report: the host's versions, every capability the plugin probes, which engine a run would use
 * and why, and a 32×32 self-test with its time — plain text a user can paste into a support request, and the
 * quickest way to settle the real-host unknowns (docs/photoshop-real-host-checklist.md).
 */
import { allocPixels, describeError } from '@enlarge/core';
import { probeCapabilities } from '@enlarge/core/web';
import { bundledCatalog, chooseEngine } from './engines.js';
import { uxp, uxpMajor } from './uxp-env.js';
import { webviewSupported } from './webview.js';

const yes = (b: boolean) => (b ? 'yes' : 'no');

export async function diagnostics(): Promise<string> {
  const u = uxp();
  const g = globalThis as Record<string, unknown>;
  const lines: string[] = [];
  lines.push(`Enlarge ${u.versions?.plugin ?? ''} diagnostics`.replace('  ', ' '));
  lines.push(
    `Host: ${u.host?.name ?? 'Photoshop'} ${u.host?.version ?? '?'}, UXP ${u.versions?.uxp ?? '?'} (major ${uxpMajor() || '?'})`,
  );
  const caps = await probeCapabilities(['wasm']);
  lines.push(
    `Inside UXP: WebAssembly ${yes(typeof g['WebAssembly'] === 'object')}, SIMD ${yes(caps.wasmSimd)}, threads ${caps.threads}, secure context ${yes(caps.secureContext)}`,
  );
  lines.push(`Model check: ${caps.digest === 'webcrypto' ? 'WebCrypto' : 'JS SHA-256 (no crypto.subtle)'}`);
  const native = (name: string) =>
    g[`__enlarge_polyfilled_${name}`] ? 'polyfilled' : typeof g[name] === 'undefined' ? 'missing' : 'native';
  lines.push(
    `Globals: TextEncoder ${native('TextEncoder')}, TextDecoder ${native('TextDecoder')}, performance ${native('performance')}, AbortController ${native('AbortController')}`,
  );
  lines.push(
    `Webview engine: ${webviewSupported() ? 'supported (UXP 8+: in the panel, and in a command’s progress dialog when the panel is closed)' : 'not available here (needs UXP 8 / Photoshop 26)'}`,
  );
  const catalog = await bundledCatalog();
  lines.push(`Models: ${catalog.models.map((m) => m.shortTitle).join(', ')}`);
  const engine = await chooseEngine();
  const backend = (await engine.upscaler.capabilities()).backends[0] ?? 'wasm';
  const why =
    engine.where === 'webview'
      ? 'the panel’s webview engine is up'
      : engine.where === 'in UXP'
        ? 'no webview engine is up now (a command opens one in its dialog on UXP 8+; UXP < 8, or it failed to start)'
        : 'a test engine was injected';
  lines.push(`A run now uses: ${engine.label(backend)}, because ${why}`);
  try {
    const img = allocPixels(32, 32, 3, 8);
    for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 37) & 255;
    const fastest = [...catalog.models]
      .filter((m) => m.geometry.scale > 1)
      .sort((a, b) => a.flopsPerPixel - b.flopsPerPixel)[0]!;
    const t0 = Date.now();
    const r = await engine.upscaler.upscale(img, { model: fastest.id, scale: fastest.geometry.scale });
    lines.push(
      `Self-test: 32×32 → ${r.width}×${r.height} with ${fastest.shortTitle} on ${engine.label(r.backend)} in ${Date.now() - t0} ms: OK`,
    );
  } catch (err) {
    lines.push(`Self-test FAILED: ${describeError(err, 'plugin').message}`);
  }
  return lines.join('\n');
}
