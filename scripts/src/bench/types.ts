/** The bench's results file (bench/results.json): written by run.ts, read by report.ts. */
import type { MachineInfo, PeakResult } from './machine.js';
import type { MarginalRow, FloorRow, PeerRow } from './peers.js';
import type { BrowserRow } from './browser.js';
import type { MemoryResult } from './memory.js';
import type { WebsrBenchRow } from './websr.js';
import type { ModelRow, UpscalerJsRow } from './worker.js';

export interface RuntimeRun {
  label: string;
  backend: 'node' | 'wasm';
  threads: number;
  /** Peak RSS of the worker process (all its models), MB. */
  peakRssMB: number | null;
  rows: ModelRow[];
  error?: string;
}

export interface UpscalerJsResult extends UpscalerJsRow {
  peakRssMB: number | null;
  tfjsVersion: string;
  upscalerVersion: string;
}

export interface BenchResults {
  schema: 1;
  mode: 'full' | 'quick';
  date: string;
  durationS: number;
  rssMethod: string;
  machine: MachineInfo & { loadAverageAtEnd?: number[] };
  /** gemm: the better of the runs at start and end (the measured peak); gemmRuns: both. */
  peak: { gemm?: PeakResult; gemmRuns?: PeakResult[]; conv?: PeakResult; error?: string };
  runtimes: RuntimeRun[];
  /** The quant section: int8 variants beside their fp32 models (absent in results written before it). */
  quant?: RuntimeRun[];
  peers: PeerRow[];
  marginal: MarginalRow[];
  upscalerjs: (UpscalerJsResult | { model: string; size: number; error: string })[];
  floor?: FloorRow;
  browser: BrowserRow[];
  /** WebSR itself vs the engine page on the same networks (absent in results written before this section). */
  websr?: WebsrBenchRow[];
  memory?: MemoryResult;
  /** The pool of inference Workers in Chromium, WASM (./pool.ts; absent in results written before it). */
  workerPool?: WorkerPoolRow[];
  /** What fidelity and the detail map cost over the model (./fidelity-cost.ts; absent in results written before it). */
  fidelityCost?: FidelityCostRow[];
  skipped: string[];
  /**
   * Sections measured again after this run (`--only …`, spliced in by hand): each replaces its section's figures
   * and says when, why and under what load.
   */
  reruns?: { section: string; date: string; note: string }[];
}

/** One row of the worker-pool section: the fastest warm job with `workers` inference Workers. */
export interface WorkerPoolRow {
  workers: number;
  /** onnxruntime-web threads per session (1 in every pool row). */
  threads: number;
  crossOriginIsolated: boolean;
  /** Fastest warm job, post → result (ms). */
  ms: number;
  model: string;
  inputPx: number;
  /** The runs' spread (ms) and the load average when the row was measured (a shared machine). */
  runsMs?: number[];
  load?: number[];
  error?: string;
}

/** One row of the fidelity-cost section (./fidelity-cost.ts). */
export interface FidelityCostRow {
  row: string;
  fidelity: number;
  detailMap: boolean;
  model: string;
  /** Input width and height. */
  input: [number, number];
  /** Median whole job (ms). */
  ms: number;
  /** Median over rounds of this row ÷ F = 0 in the same round − 1, in %. */
  costPct: number;
  /** Median time in the per-tile step after the model (ms). */
  postMs: number;
  runsMs: number[];
}
