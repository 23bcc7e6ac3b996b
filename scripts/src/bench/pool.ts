/**
 * The pool of inference Workers (core/src/web/pool.ts) in headless Chromium on the WASM path: the engine page
 * (not cross-origin isolated, as the hosts' pages are) with `?workers=N`, x4fast on the same photo, the same
 * run; the fastest of `reps` warm jobs per row (bytes in → bytes out, as a host sees it). Beside them, on the
 * cross-origin-isolated page: onnxruntime-web's own 2 threads without the pool, and the pool at 1 thread each.
 */
import type { BenchResults, WorkerPoolRow } from './types.js';
import { benchBrowser, CPU_ARGS, type BrowserRow } from './browser.js';
import { round } from './util.js';

export interface WorkerPoolPlan {
  model: string;
  size: number;
  reps: number;
  /** Tile side: the same tiles for every row, several of them (one 256² tile would leave a second Worker idle). */
  tile: number;
  workers: number[];
  /** Also measure the cross-origin-isolated page: ORT 2 threads (no pool) and the pool of 2 at 1 thread. */
  isolated: boolean;
}

export async function workerPoolBench(
  plan: WorkerPoolPlan,
  log: (s: string) => void,
  load: () => number[],
): Promise<WorkerPoolRow[]> {
  const rows: WorkerPoolRow[] = [];
  const configs: { workers: number; threads: number; isolate: boolean }[] = plan.workers.map((w) => ({
    workers: w,
    threads: 1,
    isolate: false,
  }));
  if (plan.isolated) configs.push({ workers: 0, threads: 2, isolate: true }, { workers: 2, threads: 1, isolate: true });
  for (const c of configs) {
    const label = `pool ${c.workers} worker${c.workers === 1 ? '' : 's'}, ${c.threads} thread${c.threads === 1 ? '' : 's'}${c.isolate ? ', COOP/COEP' : ''}`;
    const r: BrowserRow = await benchBrowser({
      label,
      threads: c.threads,
      isolate: c.isolate,
      args: CPU_ARGS,
      options: { model: plan.model, scale: 4, tileSize: plan.tile },
      size: plan.size,
      reps: plan.reps,
      timeoutMs: 600_000,
      workers: c.workers,
      query: 'backends=wasm',
    });
    const row: WorkerPoolRow = {
      workers: c.workers,
      threads: c.threads,
      crossOriginIsolated: r.crossOriginIsolated,
      ms: round(r.wall.min, 1),
      model: plan.model,
      inputPx: plan.size * plan.size,
      runsMs: r.wall.runs?.map((v) => round(v, 0)),
      load: load(),
      ...(r.error ? { error: r.error } : {}),
    };
    rows.push(row);
    log(
      `  ${label}: ${row.error ?? `${row.ms.toFixed(0)} ms (fastest of ${plan.reps}), load ${row.load?.map((v) => v.toFixed(1)).join(' ')}`}`,
    );
  }
  const one = rows.find((r) => r.workers === 1 && !r.crossOriginIsolated && !r.error);
  for (const r of rows)
    if (one && r !== one && !r.error)
      log(
        `  ${r.workers} workers, ${r.threads} threads${r.crossOriginIsolated ? ' (isolated)' : ''}: ×${(one.ms / r.ms).toFixed(2)} vs 1 worker`,
      );
  return rows;
}

/** The section of benchmarks.md (report.ts calls it). */
export function renderWorkerPool(res: BenchResults): string[] {
  const rows = res.workerPool;
  if (!rows?.length) return [];
  const L: string[] = ['## Worker pool (browser, WASM)', ''];
  L.push(
    'The engine page in headless Chromium, WASM only, x4fast 4×, the same photo and the same tiles (128 px: 4 tiles) in the same run: N inference Workers each with a single-threaded onnxruntime-web session (`?workers=N`, core/src/web/pool.ts), tiles in flight at once and written in tile order (identical output, `tests/worker-pool.test.ts`). Fastest of the warm jobs, bytes in → bytes out. The last rows: the cross-origin-isolated page (COOP/COEP), where onnxruntime-web can use its own threads instead.',
    '',
    '| workers | threads | isolated | input | fastest | vs 1 worker | load average |',
    '|---:|---:|:---:|---:|---:|---:|---|',
  );
  const one = rows.find((r) => r.workers === 1 && !r.crossOriginIsolated && !r.error);
  for (const r of rows)
    L.push(
      `| ${r.workers} | ${r.threads} | ${r.crossOriginIsolated ? 'yes' : 'no'} | ${Math.round(Math.sqrt(r.inputPx))}² | ${r.error ? `failed: ${r.error}` : `${r.ms.toFixed(0)} ms`} | ${one && !r.error ? `×${(one.ms / r.ms).toFixed(2)}` : '—'} | ${r.load?.map((v) => v.toFixed(1)).join(', ') ?? '—'} |`,
    );
  L.push('');
  return L;
}
