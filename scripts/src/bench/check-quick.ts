/**
 * The benchmark cannot rot: after `npm run bench -- --quick` (which .ci/run runs after the test suite) every
 * section must have run and written real numbers, the report and the charts. Figures are not checked against
 * thresholds (shared machines drift); that they exist and are sane is. Any problem fails the command (exit 1),
 * each named in one line. These were the assertions of tests/bench.test.ts, moved out of the suite so that the
 * two-minute quick bench does not count against the suite's ten minutes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResults } from './run.js';

const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function checkQuickResults(r: BenchResults, outDir: string): string[] {
  const problems: string[] = [];
  const need = (ok: unknown, what: string) => {
    if (!ok) problems.push(what);
  };
  need(r.mode === 'quick', `mode is ${r.mode}, not quick`);
  need(r.machine.logicalCores > 0, 'machine: no logical core count');
  need(/^\d+\.\d+/.test(r.machine.onnxruntimeNode), 'machine: no onnxruntime-node version');

  // 1. peak
  need(positive(r.peak.gemm?.gflops) && positive(r.peak.conv?.gflops), `peak: ${JSON.stringify(r.peak)}`);

  // 2./3. our runtimes: onnxruntime-node and onnxruntime-web WASM with 1 and 2 threads
  const node = r.runtimes.find((x) => x.backend === 'node');
  need(node && !node.error, `node runtime: ${node?.error ?? 'missing'}`);
  const expected = ['anime4k-x2-l-an', 'animevideov3-x4', 'realcugan-x2-conservative', 'realesrgan-x4fast', 'realesrgan-x4plus'];
  need(node && same(node.rows.map((x) => x.model).sort(), expected), `node rows: ${node?.rows.map((x) => x.model).join(', ')}`);
  for (const row of node?.rows ?? []) {
    need(positive(row.bare.time.min) && positive(row.single.wall.min) && positive(row.single.inferenceMs), `${row.model}: missing times`);
    need(row.single.plan.computedPixels >= row.size * row.size, `${row.model}: fewer computed pixels than the image`);
    need(row.single.inferenceMs <= row.single.wall.min + 1, `${row.model}: inference longer than the whole call`);
  }
  const wasm = r.runtimes.filter((x) => x.backend === 'wasm' && !x.error && x.rows.length > 0).map((x) => x.threads).sort();
  need(same(wasm, [1, 2]), `WASM runtimes with rows: threads ${wasm.join(', ')} (want 1, 2)`);

  // 3b. quant: each int8 variant beside its fp32 model, on node and on WASM with 1 and 2 threads.
  need(
    same(r.quant?.map((x) => [x.backend, x.threads, x.error ?? '']), [
      ['node', r.machine.logicalCores, ''],
      ['wasm', 1, ''],
      ['wasm', 2, ''],
    ]),
    `quant sections: ${JSON.stringify(r.quant?.map((x) => [x.backend, x.threads, x.error ?? '']))}`,
  );
  const quantRows = ['realesrgan-x4fast', 'realcugan-x2-conservative', 'realcugan-x4-conservative'].flatMap((id) => [`${id} fp32`, `${id} int8`]);
  for (const q of r.quant ?? []) {
    need(same(q.rows.map((x) => `${x.model} ${x.precision}`), quantRows), `quant ${q.backend}/${q.threads}: rows ${q.rows.map((x) => `${x.model} ${x.precision}`).join(', ')}`);
    for (const row of q.rows) need(positive(row.bare.time.min), `quant ${q.backend}/${q.threads} ${row.model} ${row.precision}: no time`);
  }

  // 5d. fidelity and the map: every row measured, F = 0 first.
  const fc = r.fidelityCost ?? [];
  need(fc.length === 5 && fc[0]!.fidelity === 0 && !fc[0]!.detailMap, `fidelity rows: ${fc.map((x) => x.row).join(', ')}`);
  for (const row of fc) need(positive(row.ms) && Number.isFinite(row.costPct), `fidelity ${row.row}: no time`);
  need(fc.slice(1).every((x) => positive(x.postMs)), 'fidelity: a row with fidelity or the map has no per-tile step time');

  // 4. peers: each measured on both sides, with a PSNR of their image against ours
  for (const id of ['upscayl-x4fast', 'realcugan-cpu', 'waifu2x-cpu']) {
    const p = r.peers.find((x) => x.id === id);
    need(p && !p.error, `peer ${id}: ${p?.error ?? 'missing'}`);
    if (!p || p.error) continue;
    need(positive(p.theirs?.wall.min) && positive(p.ours?.wall.min) && positive(p.ratio), `peer ${id}: missing times`);
    need(positive(p.theirs?.peakRssMB) && positive(p.ours?.peakRssMB), `peer ${id}: missing peak RSS`);
    need(typeof p.psnrVsOursDb === 'number', `peer ${id}: no PSNR against ours`);
  }
  // Same networks: correct engines agree with us; waifu2x's CPU path is the known broken one.
  need(r.peers.find((x) => x.id === 'upscayl-x4fast')?.correct === true, 'upscayl-x4fast does not agree with ours');
  need(r.peers.find((x) => x.id === 'realcugan-cpu')?.correct === true, 'realcugan-cpu does not agree with ours');

  const ujs = r.upscalerjs[0];
  need(ujs && !('error' in ujs && ujs.error), `UpscalerJS: ${ujs && 'error' in ujs ? ujs.error : 'missing'}`);
  need(ujs && positive((ujs as { time?: { min: number } }).time?.min), 'UpscalerJS: no time');
  need(positive(r.floor?.time.min), 'floor: no time');

  // 5. browser: WASM 1 thread (not isolated) and 2 threads (COOP/COEP); WebGL2 on SwiftShader GL and WASM at 32²
  const browser = r.browser.map((b) => [b.threads, b.crossOriginIsolated, b.backend, b.error ?? null]);
  need(
    same(browser, [
      [1, false, 'wasm', null],
      [2, true, 'wasm', null],
      [1, false, 'webgl', null],
      [1, false, 'wasm', null],
    ]),
    `browser rows: ${JSON.stringify(browser)}`,
  );
  for (const b of r.browser) need(positive(b.wall.min) && positive(b.coldMs), `browser ${b.backend}/${b.threads}: no time`);

  // 5b. WebSR itself (WebGPU on SwiftShader) vs the engine page on our port of the same network, WebGPU and WASM
  const websr = r.websr?.map((w) => [w.ourModel, w.oursWebgpu?.backend, w.oursWasm?.backend, w.oursWebgpu?.error ?? null, w.error ?? null]);
  need(same(websr, [['anime4k-x2-s-rl', 'webgpu', 'wasm', null, null]]), `WebSR rows: ${JSON.stringify(websr)}`);
  const ws = r.websr?.[0];
  need(ws && positive(ws.websr?.frame.min) && positive(ws.ratioWebgpu) && positive(ws.ratioWasm), 'WebSR: missing times');
  need(ws && (ws.psnrVsOursDb ?? 0) >= 45, `WebSR vs ours: ${ws?.psnrVsOursDb} dB (want ≥ 45)`);

  // 6. memory
  need(r.memory && !r.memory.error, `memory: ${r.memory?.error ?? 'missing'}`);
  need((r.memory?.points.length ?? 0) >= 3, 'memory: fewer than 3 points');
  for (const p of r.memory?.points ?? []) need(positive(p.peakRssMB), 'memory: a point without peak RSS');
  need(typeof r.memory?.fit?.slopeMBperMP === 'number', 'memory: no fit');
  const presets = r.memory?.presets?.map((p) => p.preset);
  need(same(presets, ['auto', 'auto', 'photo', 'face', 'graphics', 'faithful', 'auto']), `memory per preset: ${JSON.stringify(presets)}`);
  for (const p of r.memory?.presets ?? []) need(positive(p.peakRssMB), `memory per preset: ${p.preset} without peak RSS`);

  // The report and the charts.
  const md = readFileSync(join(outDir, 'benchmarks.md'), 'utf8');
  for (const heading of ['## Machine', '## Our engine', '## Engine overhead', '## Peers, same run', '## In the browser', '## WebSR, same browser', '## Memory and scale', '## GPU'])
    need(md.includes(heading), `benchmarks.md lacks "${heading}"`);
  need(!/NaN|undefined/.test(md), 'benchmarks.md contains NaN or undefined');
  for (const png of ['benchmarks.png', 'benchmarks-memory.png'])
    need(readFileSync(join(outDir, png)).subarray(1, 4).toString('latin1') === 'PNG', `${png} is not a PNG`);
  return problems;
}
