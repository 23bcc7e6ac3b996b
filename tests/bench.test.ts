/**
 * The benchmark cannot rot: `npm run bench -- --quick` must run every section (our runtimes, the peers,
 * UpscalerJS, the browser, WebSR, memory) and write benchmarks.json with real numbers, benchmarks.md and the charts.
 * Figures are not checked against thresholds (shared machines drift); that they exist and are sane is.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchResults } from '../scripts/src/bench/run.js';
import { ROOT } from './helpers.js';

const run = promisify(execFile);
const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;

describe('npm run bench -- --quick', () => {
  it('writes benchmarks.json with numbers for every section, the report and the charts', async () => {
    const out = mkdtempSync(join(tmpdir(), 'enlarge-bench-test-'));
    try {
      const t0 = Date.now();
      const { stdout } = await run('npm', ['run', 'bench', '--', '--quick', '--out', out], {
        cwd: ROOT,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 280_000,
      });
      const seconds = (Date.now() - t0) / 1000;
      console.log(
        stdout
          .split('\n')
          .filter((l) => /^\s*(\[|MatMul|realesrgan|realcugan|upscayl|esrgan|Chromium|WebSR|anime4k|fit|wrote)/.test(l))
          .join('\n'),
      );
      console.log(`bench --quick took ${seconds.toFixed(0)} s`);

      const file = join(out, 'benchmarks.json');
      expect(existsSync(file)).toBe(true);
      const r = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
      expect(r.mode).toBe('quick');
      expect(r.machine.logicalCores).toBeGreaterThan(0);
      expect(r.machine.onnxruntimeNode).toMatch(/^\d+\.\d+/);

      // 1. peak
      expect(positive(r.peak.gemm?.gflops), JSON.stringify(r.peak)).toBe(true);
      expect(positive(r.peak.conv?.gflops)).toBe(true);

      // 2./3. our runtimes: onnxruntime-node (4 models) and onnxruntime-web WASM with 1 and 2 threads
      const node = r.runtimes.find((x) => x.backend === 'node');
      expect(node?.error).toBeUndefined();
      expect(node!.rows.map((x) => x.model).sort()).toEqual([
        'anime4k-x2-l-an',
        'animevideov3-x4',
        'realcugan-x2-conservative',
        'realesrgan-x4fast',
        'realesrgan-x4plus',
      ]);
      for (const row of node!.rows) {
        expect(
          positive(row.bare.time.min) && positive(row.single.wall.min) && positive(row.single.inferenceMs),
          row.model,
        ).toBe(true);
        expect(row.single.plan.computedPixels).toBeGreaterThanOrEqual(row.size * row.size);
        expect(row.single.inferenceMs).toBeLessThanOrEqual(row.single.wall.min + 1);
      }
      expect(
        r.runtimes
          .filter((x) => x.backend === 'wasm' && !x.error && x.rows.length > 0)
          .map((x) => x.threads)
          .sort(),
      ).toEqual([1, 2]);
      // 3b. quant: each int8 variant beside its fp32 model, on node and on WASM with 1 and 2 threads.
      expect(r.quant?.map((x) => [x.backend, x.threads, x.error ?? ''])).toEqual([
        ['node', r.machine.logicalCores, ''],
        ['wasm', 1, ''],
        ['wasm', 2, ''],
      ]);
      for (const q of r.quant!) {
        expect(q.rows.map((x) => `${x.model} ${x.precision}`)).toEqual(
          ['realesrgan-x4fast', 'realcugan-x2-conservative', 'realcugan-x4-conservative'].flatMap((id) => [
            `${id} fp32`,
            `${id} int8`,
          ]),
        );
        for (const row of q.rows) expect(positive(row.bare.time.min), `${row.model} ${row.precision}`).toBe(true);
      }

      // 4. peers: each measured on both sides, with a PSNR of their image against ours
      for (const id of ['upscayl-x4fast', 'realcugan-cpu', 'waifu2x-cpu']) {
        const p = r.peers.find((x) => x.id === id);
        expect(p?.error, `${id}: ${p?.error}`).toBeUndefined();
        expect(positive(p!.theirs?.wall.min) && positive(p!.ours?.wall.min) && positive(p!.ratio), id).toBe(true);
        expect(positive(p!.theirs?.peakRssMB) && positive(p!.ours?.peakRssMB), `${id} peak RSS`).toBe(true);
        expect(typeof p!.psnrVsOursDb).toBe('number');
      }
      // Same networks: correct engines agree with us; waifu2x's CPU path is the known broken one.
      expect(r.peers.find((x) => x.id === 'upscayl-x4fast')!.correct).toBe(true);
      expect(r.peers.find((x) => x.id === 'realcugan-cpu')!.correct).toBe(true);

      const ujs = r.upscalerjs[0]!;
      expect('error' in ujs ? ujs.error : undefined).toBeUndefined();
      expect(positive((ujs as { time: { min: number } }).time.min)).toBe(true);
      expect(positive(r.floor?.time.min)).toBe(true);

      // 5. browser: WASM 1 thread (not isolated) and 2 threads (COOP/COEP); WebGL2 on SwiftShader GL and WASM at 32²
      expect(r.browser.map((b) => [b.threads, b.crossOriginIsolated, b.backend, b.error])).toEqual([
        [1, false, 'wasm', undefined],
        [2, true, 'wasm', undefined],
        [1, false, 'webgl', undefined],
        [1, false, 'wasm', undefined],
      ]);
      for (const b of r.browser) expect(positive(b.wall.min) && positive(b.coldMs)).toBe(true);

      // 5b. WebSR itself (WebGPU on SwiftShader) vs the engine page on our port of the same network, WebGPU and WASM
      expect(
        r.websr?.map((w) => [w.ourModel, w.oursWebgpu?.backend, w.oursWasm?.backend, w.oursWebgpu?.error, w.error]),
      ).toEqual([['anime4k-x2-s-rl', 'webgpu', 'wasm', undefined, undefined]]);
      const ws = r.websr![0]!;
      expect(positive(ws.websr?.frame.min) && positive(ws.ratioWebgpu) && positive(ws.ratioWasm)).toBe(true);
      expect(ws.psnrVsOursDb).toBeGreaterThanOrEqual(45);

      // 6. memory
      expect(r.memory?.error).toBeUndefined();
      expect(r.memory!.points.length).toBeGreaterThanOrEqual(3);
      for (const p of r.memory!.points) expect(positive(p.peakRssMB)).toBe(true);
      expect(typeof r.memory!.fit?.slopeMBperMP).toBe('number');

      // The report and the charts.
      const md = readFileSync(join(out, 'benchmarks.md'), 'utf8');
      for (const heading of [
        '## Machine',
        '## Our engine',
        '## Engine overhead',
        '## Peers, same run',
        '## In the browser',
        '## WebSR, same browser',
        '## Memory and scale',
        '## GPU',
      ])
        expect(md).toContain(heading);
      expect(md).not.toMatch(/NaN|undefined/);
      for (const png of ['benchmarks.png', 'benchmarks-memory.png']) {
        const bytes = readFileSync(join(out, png));
        expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
